// REST API under /api (express 5), exactly as docs/http-api.md describes it.
import express, { type NextFunction, type Request, type Response } from 'express';
import { IANAZone } from 'luxon';
import { TariffValidationError, validateTariff } from './billing/tariff-validation.js';
import type { ChargerRec, Csms, TokenRec, TokenStatus } from './csms.js';
import type { OcppEndpoint } from './ocpp-server.js';
import { costDimensions } from './session-billing.js';
import type { Store } from './store/store.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

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
}

interface CostLineRow {
  idx: number;
  dimension: string;
  period_start: string;
  quantity: string;
  unit_price: string;
  vat: string | null;
  excl_vat: string;
  incl_vat: string;
  tariff_element: number;
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
    tariffId: r.tariff_id,
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

function asList(body: unknown): { items: unknown[]; prefix: (i: number) => string } {
  if (Array.isArray(body)) return { items: body, prefix: (i) => `[${i}].` };
  return { items: [body], prefix: () => '' };
}

const TOKEN_STATUSES = new Set<TokenStatus>(['Accepted', 'Blocked', 'Expired', 'Invalid']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseToken(v: unknown, at: string): TokenRec {
  if (!isObject(v)) throw bad(at || '(body)', 'a token must be a JSON object { idTag, status?, expiryDate?, parentIdTag? }');
  const known = new Set(['idTag', 'status', 'expiryDate', 'parentIdTag']);
  for (const k of Object.keys(v)) if (!known.has(k)) throw bad(at + k, `unknown field ${k}; a token has idTag, status, expiryDate, parentIdTag`);
  const idTag = v.idTag;
  if (typeof idTag !== 'string' || idTag.length < 1 || idTag.length > 20) {
    throw bad(at + 'idTag', 'idTag must be a string of 1 to 20 characters (OCPP 1.6 IdToken)');
  }
  const status = v.status ?? 'Accepted';
  if (typeof status !== 'string' || !TOKEN_STATUSES.has(status as TokenStatus)) {
    throw bad(at + 'status', 'status must be one of Accepted, Blocked, Expired, Invalid');
  }
  let expiryDate: string | null = null;
  if (v.expiryDate !== undefined && v.expiryDate !== null) {
    if (typeof v.expiryDate !== 'string' || Number.isNaN(Date.parse(v.expiryDate))) {
      throw bad(at + 'expiryDate', 'expiryDate must be an ISO 8601 date-time');
    }
    expiryDate = new Date(Date.parse(v.expiryDate)).toISOString();
  }
  let parentIdTag: string | null = null;
  if (v.parentIdTag !== undefined && v.parentIdTag !== null) {
    if (typeof v.parentIdTag !== 'string' || v.parentIdTag.length < 1 || v.parentIdTag.length > 20) {
      throw bad(at + 'parentIdTag', 'parentIdTag must be a string of 1 to 20 characters');
    }
    parentIdTag = v.parentIdTag;
  }
  return { idTag, status: status as TokenStatus, expiryDate, parentIdTag };
}

function parseCharger(v: unknown, at: string, csms: Csms): ChargerRec {
  if (!isObject(v)) throw bad(at || '(body)', 'a charger must be a JSON object { id, connectors?, timeZone?, tariffId? }');
  const known = new Set(['id', 'connectors', 'timeZone', 'tariffId']);
  for (const k of Object.keys(v)) if (!known.has(k)) throw bad(at + k, `unknown field ${k}; a charger has id, connectors, timeZone, tariffId`);
  const id = v.id;
  if (typeof id !== 'string' || id.length < 1 || id.length > 255 || /[/\s]/.test(id)) {
    throw bad(at + 'id', 'id must be a string of 1 to 255 characters without "/" or spaces (it is the OCPP identity)');
  }
  const existing = csms.chargers.get(id);
  let connectors = existing?.connectors ?? 1;
  if (v.connectors !== undefined) {
    if (typeof v.connectors !== 'number' || !Number.isInteger(v.connectors) || v.connectors < 1 || v.connectors > 100) {
      throw bad(at + 'connectors', 'connectors must be a whole number from 1 to 100');
    }
    connectors = v.connectors;
  }
  let timeZone = existing?.timeZone ?? 'UTC';
  if (v.timeZone !== undefined) {
    if (typeof v.timeZone !== 'string' || !IANAZone.isValidZone(v.timeZone)) {
      throw bad(at + 'timeZone', 'timeZone must be an IANA time zone such as Europe/Berlin');
    }
    timeZone = v.timeZone;
  }
  let tariffId = existing?.tariffId ?? null;
  if (v.tariffId !== undefined) {
    if (v.tariffId === null) tariffId = null;
    else if (typeof v.tariffId !== 'string' || !csms.hasTariff(v.tariffId)) {
      throw bad(at + 'tariffId', 'tariffId must name a tariff already posted to /api/tariffs (or be null for the default)');
    }
    else tariffId = v.tariffId;
  }
  return { id, connectors, timeZone, tariffId };
}

export interface ApiContext {
  csms: Csms;
  store: Store;
  ocpp: OcppEndpoint;
  version: string;
  startedAtMs: number;
}

export function createApi(ctx: ApiContext): express.Express {
  const { csms, store, ocpp } = ctx;
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  const api = express.Router();
  api.use(express.json({ limit: '5mb' }));

  api.get('/health', async (_req, res) => {
    let db = 'ok';
    try {
      await store.query('SELECT 1');
    } catch {
      db = 'error';
    }
    res.status(db === 'ok' ? 200 : 503).json({
      status: db === 'ok' ? 'ok' : 'degraded',
      db,
      uptimeSec: Math.round((Date.now() - ctx.startedAtMs) / 1000),
      version: ctx.version,
    });
  });

  api.get('/stats', (_req, res) => {
    res.json({ store: store.stats(), connections: ocpp.connectionCount(), activeSessions: csms.activeSessionCount() });
  });

  // ------------------------------------------------------------ chargers
  api.get('/chargers', async (_req, res) => {
    const rows = await store.query<{
      id: string;
      connectors: number;
      vendor: string | null;
      model: string | null;
      time_zone: string;
      tariff_id: string | null;
      registered: number;
      last_boot_at: string | null;
      last_heartbeat_at: string | null;
    }>('SELECT * FROM chargers ORDER BY id');
    const statuses = await store.query<{ charger_id: string; connector_id: number; status: string; error_code: string; at: string }>(
      'SELECT charger_id, connector_id, status, error_code, at FROM connector_status ORDER BY charger_id, connector_id',
    );
    const byCharger = new Map<string, Array<Record<string, unknown>>>();
    for (const s of statuses) {
      let l = byCharger.get(s.charger_id);
      if (!l) byCharger.set(s.charger_id, (l = []));
      l.push({ connectorId: s.connector_id, status: s.status, errorCode: s.error_code, at: s.at });
    }
    res.json({
      items: rows.map((r) => ({
        id: r.id,
        connectors: r.connectors,
        vendor: r.vendor,
        model: r.model,
        timeZone: r.time_zone,
        tariffId: r.tariff_id,
        registered: r.registered === 1,
        lastBootAt: r.last_boot_at,
        lastHeartbeatAt: r.last_heartbeat_at,
        connected: ocpp.isConnected(r.id),
        connectorStatus: byCharger.get(r.id) ?? [],
      })),
      total: rows.length,
    });
  });

  api.post('/chargers', async (req, res) => {
    const { items, prefix } = asList(req.body);
    if (items.length === 0) throw bad('(body)', 'send one charger object or a non-empty array of them');
    const chargers = items.map((v, i) => parseCharger(v, prefix(i), csms));
    await csms.putChargers(chargers);
    res.status(200).json({ items: chargers, total: chargers.length });
  });

  api.get('/chargers/:id/status-history', async (req, res) => {
    const id = String(req.params.id);
    const rows =
      req.query.connectorId === undefined
        ? await store.readAll<Record<string, unknown>>('statusHistory', [id])
        : await store.readAll<Record<string, unknown>>('statusHistoryConnector', [
            id,
            optInt(req.query.connectorId, 'connectorId', 0, 0, 1000),
          ]);
    res.json({
      items: rows.map((r) => ({
        connectorId: r.connector_id,
        status: r.status,
        errorCode: r.error_code,
        at: r.at,
        receivedAt: r.received_at,
      })),
    });
  });

  // ------------------------------------------------------------ tariffs
  api.get('/tariffs', (_req, res) => {
    res.json({ items: csms.currentTariffs(), defaultTariffId: csms.getDefaultTariffId() });
  });

  api.post('/tariffs', async (req, res) => {
    let tariff;
    try {
      tariff = validateTariff(req.body);
    } catch (err) {
      if (err instanceof TariffValidationError) {
        throw new ApiError(400, 'invalid-tariff', err.message, err.field || '(body)');
      }
      throw err;
    }
    const d = req.query.default;
    if (d !== undefined && d !== 'true' && d !== 'false') throw bad('default', 'default must be true or false');
    const r = await csms.putTariff(tariff, d === 'true');
    res.status(201).json({ id: tariff.id, version: r.version, default: r.isDefault });
  });

  // ------------------------------------------------------------ tokens
  api.get('/tokens', (_req, res) => {
    res.json({ items: [...csms.tokens.values()] });
  });

  api.post('/tokens', async (req, res) => {
    const { items, prefix } = asList(req.body);
    if (items.length === 0) throw bad('(body)', 'send one token object or a non-empty array of them');
    const tokens = items.map((v, i) => parseToken(v, prefix(i)));
    await csms.putTokens(tokens);
    res.status(200).json({ items: tokens, total: tokens.length });
  });

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
  api.get('/invoices/:id', async (req, res) => {
    const id = optInt(req.params.id, 'id', 0, 1, Number.MAX_SAFE_INTEGER);
    const inv = await store.read<{
      id: number;
      number: string;
      year: number;
      session_id: number;
      issued_at: string;
      currency: string;
      total_excl_vat: string;
      total_incl_vat: string;
      vat_json: string;
    }>('invoiceById', [id]);
    if (!inv) throw new ApiError(404, 'not-found', `no invoice ${id}`);
    const lines = await store.readAll<CostLineRow>('costLinesOfSession', [inv.session_id]);
    res.json({
      id: inv.id,
      number: inv.number,
      year: inv.year,
      sessionId: inv.session_id,
      issuedAt: inv.issued_at,
      currency: inv.currency,
      lines: lines.map(lineJson),
      totalExclVat: inv.total_excl_vat,
      totalInclVat: inv.total_incl_vat,
      vat: JSON.parse(inv.vat_json),
    });
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
