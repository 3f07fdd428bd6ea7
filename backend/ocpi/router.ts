// OCPI 2.2.1 sender interfaces (read-only): GET /ocpi/2.2.1/cdrs and /ocpi/2.2.1/tariffs, with
// OCPI pagination (offset, limit, date_from inclusive / date_to exclusive on last_updated;
// Link next, X-Total-Count, X-Limit) inside the OCPI response envelope. Optional credentials
// token auth: "Authorization: Token <base64 of the token>".
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Store } from '../store/store.js';
import { listCdrs } from './cdrs.js';
import { requireToken } from './credentials.js';
import { envelope, OcpiError } from './envelope.js';
import type { OcpiOptions } from './options.js';
import { pageOf, sendPage } from './pagination.js';
import { listTariffs } from './tariffs.js';

export type { OcpiOptions } from './options.js';

export function createOcpiRouter(store: Store, opts: OcpiOptions): express.Router {
  const maxLimit = opts.maxLimit ?? 100;
  const r = express.Router();
  const token = opts.token ?? null;
  if (token !== null) r.use(requireToken(token));
  r.get('/cdrs', async (req, res) => {
    const page = pageOf(req.query, maxLimit);
    const { items, total } = await listCdrs(store, page);
    sendPage(req, res, page, items, total, maxLimit);
  });
  r.get('/tariffs', async (req, res) => {
    const page = pageOf(req.query, maxLimit);
    const { items, total } = await listTariffs(store, opts.party, page);
    sendPage(req, res, page, items, total, maxLimit);
  });
  r.use((req, _res, next) => next(new OcpiError(404, 2000, `no OCPI endpoint ${req.method} ${req.path}; this back end serves GET cdrs and tariffs`)));
  r.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof OcpiError) {
      res.status(err.httpStatus).json(envelope(undefined, err.statusCode, err.message));
      return;
    }
    res.status(500).json(envelope(undefined, 3000, `the back end failed: ${(err as Error)?.message ?? String(err)}`));
  });
  return r;
}
