// REST API under /api (express 5), exactly as docs/http-api.md describes it.
import express, { type NextFunction, type Request, type Response } from 'express';
import { ApiError } from '../api-error.js';
import { correctCdr, type CorrectionRequest } from '../cdr-corrections.js';
import { invoicePdf, statementPdf } from '../invoice-pdf.js';
import { invoiceHtml, statementHtml } from '../invoice-html.js';
import { loadInvoice, loadStatement, type CostLineRow, type StatementQuery } from '../invoices.js';
import { listCdrs } from '../ocpi/cdrs.js';
import { createOcpiRouter } from '../ocpi/router.js';
import { costDimensions } from '../session-billing.js';
import { ocpiOptions, type ApiContext } from './context.js';
import { chargerRoutes } from './routes/chargers.js';
import { healthRoutes } from './routes/health.js';
import { locationRoutes } from './routes/locations.js';
import { tariffRoutes } from './routes/tariffs.js';
import { tokenRoutes } from './routes/tokens.js';

export type { ApiContext } from './context.js';

const bad = (field: string, message: string): ApiError => new ApiError(400, 'invalid-request', message, field);

interface SessionRow {
  id: number;
  charger_id: string;
  connector_id: number;
  id_tag: string;
  state: string;
  started_at: string;
  meter_start: number;
  reservation_id: number | null;
  tariff_id: string | null;
  tariff_vid: number | null;
  tariff_scope: string | null;
  location_id: string | null;
  token_group: string | null;
  auth_method: string | null;
  time_zone: string;
  stopped_at: string | null;
  meter_stop: number | null;
  stop_reason: string | null;
  energy_wh: number | null;
  charging_seconds: number | null;
  parking_seconds: number | null;
  flags: string;
  pricing_error: string | null;
  currency: string | null;
  total_excl_vat: string | null;
  total_incl_vat: string | null;
  cost_json: string | null;
  invoice_id: number | null;
  close_reason: string | null;
  late_stop: string | null;
}


function lineJson(l: CostLineRow): Record<string, unknown> {
  return {
    dimension: l.dimension,
    periodStart: l.period_start,
    quantity: l.quantity,
    unitPrice: l.unit_price,
    vat: l.vat,
    exclVat: l.excl_vat,
    inclVat: l.incl_vat,
    tariffElement: l.tariff_element,
  };
}

function sessionJson(r: SessionRow, lines?: CostLineRow[]): Record<string, unknown> {
  let cost: Record<string, unknown> | null = null;
  if (r.cost_json !== null) {
    const breakdown = JSON.parse(r.cost_json);
    cost = {
      currency: r.currency,
      totalExclVat: r.total_excl_vat,
      totalInclVat: r.total_incl_vat,
      dimensions: costDimensions(breakdown, breakdown.flat_count ?? 0),
    };
    if (lines) cost.lines = lines.map(lineJson);
  }
  return {
    id: r.id,
    transactionId: r.id,
    chargerId: r.charger_id,
    connectorId: r.connector_id,
    idTag: r.id_tag,
    state: r.state,
    startedAt: r.started_at,
    stoppedAt: r.stopped_at,
    meterStartWh: r.meter_start,
    meterStopWh: r.meter_stop,
    energyWh: r.energy_wh,
    chargingSeconds: r.charging_seconds,
    parkingSeconds: r.parking_seconds,
    stopReason: r.stop_reason,
    flags: JSON.parse(r.flags) as string[],
    closeReason: r.close_reason,
    lateStop: r.late_stop === null ? null : JSON.parse(r.late_stop),
    tariffId: r.tariff_id,
    tariffVersion: r.tariff_vid,
    tariffScope: r.tariff_scope,
    locationId: r.location_id,
    tokenGroup: r.token_group,
    authMethod: r.auth_method,
    timeZone: r.time_zone,
    invoiceId: r.invoice_id,
    pricingError: r.pricing_error,
    cost,
  };
}

function optInt(q: unknown, field: string, dflt: number, min: number, max: number): number {
  if (q === undefined || q === '') return dflt;
  const s = String(q);
  if (!/^\d+$/.test(s)) throw bad(field, `${field} must be a whole number between ${min} and ${max}`);
  const n = Number(s);
  if (n < min || n > max) throw bad(field, `${field} must be between ${min} and ${max}`);
  return n;
}

function optIso(q: unknown, field: string): string | undefined {
  if (q === undefined || q === '') return undefined;
  const ms = Date.parse(String(q));
  if (Number.isNaN(ms)) throw bad(field, `${field} must be an ISO 8601 date-time, e.g. 2026-03-02T08:00:00Z`);
  return new Date(ms).toISOString();
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function statementQuery(q: Request['query']): StatementQuery {
  const month = String(q.month ?? '');
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) throw bad('month', 'month must be YYYY-MM, e.g. 2026-03');
  const idTag = q.idTag === undefined ? undefined : String(q.idTag);
  const group = q.group === undefined ? undefined : String(q.group);
  if ((idTag === undefined) === (group === undefined)) throw bad('idTag', 'give exactly one of idTag or group');
  return { month, ...(idTag !== undefined ? { idTag } : {}), ...(group !== undefined ? { group } : {}) };
}

const download = (res: Response, filename: string, pdf: Buffer): void => {
  res.setHeader('Content-Type', 'application/pdf');
  res.setHeader('Content-Disposition', `attachment; filename="${filename.replace(/[^A-Za-z0-9._-]/g, '_')}"`);
  res.send(pdf);
};

export function createApi(ctx: ApiContext): express.Express {
  const { csms, store } = ctx;
  const ocpiOpts = ocpiOptions(ctx);
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  const api = express.Router();
  api.use(express.json({ limit: '5mb' }));
  for (const routes of [healthRoutes, chargerRoutes, tariffRoutes, tokenRoutes, locationRoutes]) api.use(routes(ctx));

  // ------------------------------------------------------------ sessions
  api.get('/sessions', async (req, res) => {
    const where: string[] = [];
    const params: unknown[] = [];
    if (req.query.chargerId !== undefined) {
      where.push('charger_id = ?');
      params.push(String(req.query.chargerId));
    }
    if (req.query.state !== undefined) {
      const st = String(req.query.state);
      if (st !== 'active' && st !== 'completed') throw bad('state', 'state must be active or completed');
      where.push('state = ?');
      params.push(st);
    }
    const from = optIso(req.query.from, 'from');
    if (from) {
      where.push('started_at >= ?');
      params.push(from);
    }
    const to = optIso(req.query.to, 'to');
    if (to) {
      where.push('started_at < ?');
      params.push(to);
    }
    const limit = optInt(req.query.limit, 'limit', 100, 1, 10000);
    const offset = optInt(req.query.offset, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
    const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const [count] = await store.query<{ n: number }>(`SELECT COUNT(*) AS n FROM sessions ${w}`, params);
    const rows = await store.query<SessionRow>(`SELECT * FROM sessions ${w} ORDER BY id LIMIT ? OFFSET ?`, [...params, limit, offset]);
    res.json({ items: rows.map((r) => sessionJson(r)), total: count?.n ?? 0, limit, offset });
  });

  api.get('/sessions/:id', async (req, res) => {
    const id = optInt(req.params.id, 'id', 0, 1, Number.MAX_SAFE_INTEGER);
    const row = await store.read<SessionRow>('sessionById', [id]);
    if (!row) throw new ApiError(404, 'not-found', `no session ${id}`);
    const [mvs, lines] = await Promise.all([
      store.readAll<Record<string, unknown>>('meterValuesOfSession', [id]),
      store.readAll<CostLineRow>('costLinesOfSession', [id]),
    ]);
    const out = sessionJson(row, lines);
    out.meterValues = mvs.map((m) => {
      const o: Record<string, unknown> = {
        at: m.at,
        measurand: m.measurand ?? 'Energy.Active.Import.Register',
        phase: m.phase,
        unit: m.unit,
        context: m.context,
        location: m.location,
        format: m.format,
        value: m.value,
      };
      if (m.value_wh !== null) o.valueWh = m.value_wh;
      return o;
    });
    res.json(out);
  });

  // ------------------------------------------------------------ invoices
  const invoiceOr404 = async (idText: string) => {
    const id = optInt(idText, 'id', 0, 1, Number.MAX_SAFE_INTEGER);
    const inv = await loadInvoice(store, id);
    if (!inv) throw new ApiError(404, 'not-found', `no invoice ${id}`);
    return inv;
  };
  api.get('/invoices/:id.html', async (req, res) => {
    const { view } = await invoiceOr404(String(req.params.id));
    res.type('text/html; charset=utf-8').send(invoiceHtml(view));
  });
  api.get('/invoices/:id.pdf', async (req, res) => {
    const { view } = await invoiceOr404(String(req.params.id));
    download(res, `invoice-${view.number}.pdf`, await invoicePdf(view));
  });
  api.get('/invoices/:id', async (req, res) => {
    const { view, lines } = await invoiceOr404(String(req.params.id));
    res.json({ ...view, lines: lines.map(lineJson) });
  });

  // ------------------------------------------------------------ statements
  api.get('/statements', async (req, res) => {
    res.json(await loadStatement(store, statementQuery(req.query)));
  });
  api.get('/statements.html', async (req, res) => {
    res.type('text/html; charset=utf-8').send(statementHtml(await loadStatement(store, statementQuery(req.query))));
  });
  api.get('/statements.pdf', async (req, res) => {
    const st = await loadStatement(store, statementQuery(req.query));
    download(res, `statement-${st.idTag ?? st.group}-${st.month}.pdf`, await statementPdf(st));
  });

  // ------------------------------------------------------------ CDRs
  api.get('/cdrs', async (req, res) => {
    const page: { offset: number; limit: number; from?: string; to?: string } = {
      offset: optInt(req.query.offset, 'offset', 0, 0, Number.MAX_SAFE_INTEGER),
      limit: optInt(req.query.limit, 'limit', 100, 1, 10000),
    };
    const from = optIso(req.query.from, 'from');
    const to = optIso(req.query.to, 'to');
    if (from) page.from = from;
    if (to) page.to = to;
    const sessionId = req.query.sessionId === undefined ? undefined : optInt(req.query.sessionId, 'sessionId', 0, 1, Number.MAX_SAFE_INTEGER);
    const { items, total } = await listCdrs(store, page, sessionId);
    res.json({ items, total, limit: page.limit, offset: page.offset });
  });
  api.get('/cdrs/:id', async (req, res) => {
    const row = await store.read<{ json: string }>('cdrById', [String(req.params.id)]);
    if (!row) throw new ApiError(404, 'not-found', `no CDR ${req.params.id}`);
    // The stored text as is: a CDR never changes, byte for byte.
    res.type('application/json').send(row.json);
  });
  api.post('/cdrs/:id/corrections', async (req, res) => {
    const body = req.body as unknown;
    if (!isObject(body)) throw bad('(body)', 'send { tariffId? | tariff?, meterStartWh?, meterStopWh?, remark? }');
    const known = new Set(['tariffId', 'tariff', 'meterStartWh', 'meterStopWh', 'remark']);
    for (const k of Object.keys(body)) if (!known.has(k)) throw bad(k, `unknown field ${k}; a correction has tariffId, tariff, meterStartWh, meterStopWh, remark`);
    if (Object.keys(body).filter((k) => k !== 'remark').length === 0) throw bad('(body)', 'say what to correct: tariffId, tariff, meterStartWh and/or meterStopWh');
    if (body.tariffId !== undefined && body.tariff !== undefined) throw bad('tariff', 'give tariffId or tariff, not both');
    if (body.tariffId !== undefined && typeof body.tariffId !== 'string') throw bad('tariffId', 'tariffId must be a string');
    for (const k of ['meterStartWh', 'meterStopWh'] as const) {
      const n = body[k];
      if (n !== undefined && (typeof n !== 'number' || !Number.isInteger(n) || n < 0)) throw bad(k, `${k} must be a whole number of Wh >= 0`);
    }
    if (body.remark !== undefined && (typeof body.remark !== 'string' || body.remark.length > 255)) throw bad('remark', 'remark must be a string of at most 255 characters');
    res.status(201).json(await correctCdr(csms, store, String(req.params.id), body as CorrectionRequest));
  });

  // ------------------------------------------------------------ reconciliation
  api.get('/unmatched-stops', async (req, res) => {
    const limit = optInt(req.query.limit, 'limit', 1000, 1, 10000);
    const offset = optInt(req.query.offset, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
    const rows = await store.query<Record<string, unknown>>('SELECT * FROM unmatched_stops ORDER BY id LIMIT ? OFFSET ?', [limit, offset]);
    const [count] = await store.query<{ n: number }>('SELECT COUNT(*) AS n FROM unmatched_stops');
    res.json({
      items: rows.map((r) => ({
        id: r.id,
        chargerId: r.charger_id,
        transactionId: r.transaction_id,
        idTag: r.id_tag,
        timestamp: r.timestamp,
        meterStop: r.meter_stop,
        reason: r.reason,
        transactionData: r.transaction_data === null ? null : JSON.parse(String(r.transaction_data)),
        receivedAt: r.received_at,
      })),
      total: count?.n ?? 0,
    });
  });

  app.use('/api', api);
  app.use('/ocpi/2.2.1', createOcpiRouter(store, ocpiOpts));

  app.use((req, _res, next) => {
    next(new ApiError(404, 'not-found', `no route ${req.method} ${req.path}; the API lives under /api (see docs/http-api.md)`));
  });

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
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
  });

  return app;
}
