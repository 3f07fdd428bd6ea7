// REST API under /api (express 5), exactly as docs/http-api.md describes it, and OCPI 2.2.1
// under /ocpi/2.2.1. Every error answers JSON: { error, message, field? } under /api.
import express, { type NextFunction, type Request, type Response } from 'express';
import { ApiError } from '../api-error.js';
import { createOcpiRouter } from '../ocpi/router.js';
import { ocpiOptions, type ApiContext } from './context.js';
import { cdrRoutes } from './routes/cdrs.js';
import { chargerRoutes } from './routes/chargers.js';
import { healthRoutes } from './routes/health.js';
import { invoiceRoutes } from './routes/invoices.js';
import { locationRoutes } from './routes/locations.js';
import { sessionRoutes } from './routes/sessions.js';
import { statementRoutes } from './routes/statements.js';
import { tariffRoutes } from './routes/tariffs.js';
import { tokenRoutes } from './routes/tokens.js';
import { unmatchedStopRoutes } from './routes/unmatched-stops.js';

export type { ApiContext } from './context.js';

function errorHandler(err: unknown, _req: Request, res: Response, _next: NextFunction): void {
  if (err instanceof ApiError) {
    const body: Record<string, unknown> = { error: err.code, message: err.message };
    if (err.field !== undefined) body.field = err.field;
    res.status(err.status).json(body);
    return;
  }
  const e = err as { type?: string; status?: number; message?: string };
  if (e && e.type === 'entity.parse.failed') {
    res.status(400).json({ error: 'malformed-json', message: `the request body is not valid JSON: ${e.message}` });
    return;
  }
  if (e && typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    res.status(e.status).json({ error: e.type ?? 'bad-request', message: e.message ?? 'bad request' });
    return;
  }
  res.status(500).json({ error: 'internal', message: `the back end failed: ${(err as Error)?.message ?? String(err)}` });
}

export function createApi(ctx: ApiContext): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  const api = express.Router();
  api.use(express.json({ limit: '5mb' }));
  for (const routes of [
    healthRoutes,
    chargerRoutes,
    tariffRoutes,
    tokenRoutes,
    sessionRoutes,
    invoiceRoutes,
    statementRoutes,
    locationRoutes,
    cdrRoutes,
    unmatchedStopRoutes,
  ]) {
    api.use(routes(ctx));
  }

  app.use('/api', api);
  app.use('/ocpi/2.2.1', createOcpiRouter(ctx.store, ocpiOptions(ctx)));

  app.use((req, _res, next) => {
    next(new ApiError(404, 'not-found', `no route ${req.method} ${req.path}; the API lives under /api (see docs/http-api.md)`));
  });
  app.use(errorHandler);
  return app;
}
