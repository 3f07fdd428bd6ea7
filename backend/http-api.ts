// REST API under /api (express 5), exactly as docs/http-api.md describes it.
import express, { type NextFunction, type Request, type Response } from 'express';
import { TariffValidationError, validateTariff } from './billing/tariff-validation.js';
import { isValidTimeZone } from './billing/local-time.js';
import type { LocationRec } from './cdrs/cdr.js';
import { DEFAULT_PARTY } from './cdrs/cdr.js';
import { ApiError } from './api-error.js';
import { correctCdr, type CorrectionRequest } from './cdrs/corrections.js';
import type { ChargerRec, Csms, TokenRec, TokenStatus } from './core/csms.js';
import { invoicePdf, statementPdf } from './invoicing/invoice-pdf.js';
import { invoiceHtml, statementHtml } from './invoicing/invoice-html.js';
import { loadInvoice, loadStatement, type CostLineRow, type StatementQuery } from './invoicing/invoices.js';
import { createOcpiRouter, listCdrs, listTariffs, type OcpiOptions } from './ocpi-api.js';
import type { OcppEndpoint } from './ocpp/endpoint.js';
import { costDimensions } from './core/session-billing.js';
import type { Store } from './store/store.js';
import { SCOPE_PRECEDENCE, type AssignmentScope } from './core/tariff-assignments.js';

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

function asList(body: unknown): { items: unknown[]; prefix: (i: number) => string } {
  if (Array.isArray(body)) return { items: body, prefix: (i) => `[${i}].` };
  return { items: [body], prefix: () => '' };
}

const TOKEN_STATUSES = new Set<TokenStatus>(['Accepted', 'Blocked', 'Expired', 'Invalid']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseToken(v: unknown, at: string): TokenRec {
  if (!isObject(v)) throw bad(at || '(body)', 'a token must be a JSON object { idTag, status?, expiryDate?, parentIdTag?, group? }');
  const known = new Set(['idTag', 'status', 'expiryDate', 'parentIdTag', 'group']);
  for (const k of Object.keys(v)) if (!known.has(k)) throw bad(at + k, `unknown field ${k}; a token has idTag, status, expiryDate, parentIdTag, group`);
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
  let group: string | null = null;
  if (v.group !== undefined && v.group !== null) {
    if (typeof v.group !== 'string' || v.group.length < 1 || v.group.length > 64) {
      throw bad(at + 'group', 'group must be a string of 1 to 64 characters (the customer group the token belongs to)');
    }
    group = v.group;
  }
  return { idTag, status: status as TokenStatus, expiryDate, parentIdTag, group };
}

/** A token as the API shows it: group only when the token has one. */
function tokenJson(t: TokenRec): Record<string, unknown> {
  const { group, ...rest } = t;
  return group === null ? rest : { ...rest, group };
}

function parseCharger(v: unknown, at: string, csms: Csms): ChargerRec {
  if (!isObject(v)) throw bad(at || '(body)', 'a charger must be a JSON object { id, connectors?, timeZone?, tariffId?, locationId? }');
  const known = new Set(['id', 'connectors', 'timeZone', 'tariffId', 'locationId']);
  for (const k of Object.keys(v)) if (!known.has(k)) throw bad(at + k, `unknown field ${k}; a charger has id, connectors, timeZone, tariffId, locationId`);
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
    if (typeof v.timeZone !== 'string' || !isValidTimeZone(v.timeZone)) {
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
  let locationId = existing?.locationId ?? null;
  if (v.locationId !== undefined) {
    if (v.locationId === null) locationId = null;
    else if (typeof v.locationId !== 'string' || !csms.locations.has(v.locationId)) {
      throw bad(at + 'locationId', 'locationId must name a location already posted to /api/locations (or be null)');
    } else locationId = v.locationId;
  }
  return { id, connectors, timeZone, tariffId, locationId };
}

const LOCATION_ID = /^[A-Za-z0-9_.:-]{1,36}$/;

function parseLocation(v: unknown): LocationRec {
  if (!isObject(v)) throw bad('(body)', 'a location must be a JSON object { id, name, timeZone, address? }');
  const known = new Set(['id', 'name', 'timeZone', 'address']);
  for (const k of Object.keys(v)) if (!known.has(k)) throw bad(k, `unknown field ${k}; a location has id, name, timeZone, address`);
  if (typeof v.id !== 'string' || !LOCATION_ID.test(v.id)) throw bad('id', 'id must be 1 to 36 characters of letters, digits, _ . : -');
  if (typeof v.name !== 'string' || v.name.length < 1 || v.name.length > 255) throw bad('name', 'name must be a string of 1 to 255 characters');
  if (typeof v.timeZone !== 'string' || !isValidTimeZone(v.timeZone)) {
    throw bad('timeZone', 'timeZone must be an IANA time zone such as Europe/Amsterdam');
  }
  let address: LocationRec['address'] = null;
  if (v.address !== undefined && v.address !== null) {
    const a = v.address;
    if (!isObject(a)) throw bad('address', 'address must be an object { address, city, postalCode?, country }');
    for (const k of Object.keys(a)) if (!['address', 'city', 'postalCode', 'country'].includes(k)) throw bad(`address.${k}`, `unknown field ${k}`);
    if (typeof a.address !== 'string' || a.address.length > 45) throw bad('address.address', 'address.address must be a string of at most 45 characters');
    if (typeof a.city !== 'string' || a.city.length > 45) throw bad('address.city', 'address.city must be a string of at most 45 characters');
    if (a.postalCode !== undefined && (typeof a.postalCode !== 'string' || a.postalCode.length > 10)) {
      throw bad('address.postalCode', 'address.postalCode must be a string of at most 10 characters');
    }
    if (typeof a.country !== 'string' || !/^[A-Z]{3}$/.test(a.country)) throw bad('address.country', 'address.country must be an ISO 3166 alpha-3 code such as NLD');
    address = { address: a.address, city: a.city, country: a.country, ...(a.postalCode !== undefined ? { postalCode: a.postalCode as string } : {}) };
  }
  return { id: v.id, name: v.name, timeZone: v.timeZone, address };
}

function parseAssignment(v: unknown, csms: Csms) {
  if (!isObject(v)) throw bad('(body)', 'an assignment must be a JSON object { tariffId, scope, locationId?, chargerId?, connectorId?, group? }');
  const known = new Set(['tariffId', 'scope', 'locationId', 'chargerId', 'connectorId', 'group']);
  for (const k of Object.keys(v)) if (!known.has(k)) throw bad(k, `unknown field ${k}`);
  const scope = v.scope as AssignmentScope;
  if (!SCOPE_PRECEDENCE.includes(scope)) throw bad('scope', `scope must be one of ${SCOPE_PRECEDENCE.join(', ')}`);
  const tariffId = v.tariffId;
  if (tariffId !== null && (typeof tariffId !== 'string' || !csms.hasTariff(tariffId))) {
    throw bad('tariffId', 'tariffId must name a tariff already posted to /api/tariffs (or be null to remove the assignment)');
  }
  const out: { scope: AssignmentScope; tariffId: string | null; locationId?: string; chargerId?: string; connectorId?: number; group?: string } = { scope, tariffId };
  const needs: Record<AssignmentScope, string[]> = { location: ['locationId'], charger: ['chargerId'], connector: ['chargerId', 'connectorId'], group: ['group'], default: [] };
  for (const k of ['locationId', 'chargerId', 'connectorId', 'group']) {
    if (!needs[scope].includes(k) && v[k] !== undefined) throw bad(k, `${k} does not belong to scope ${scope}`);
  }
  if (scope === 'location') {
    if (typeof v.locationId !== 'string' || !csms.locations.has(v.locationId)) throw bad('locationId', 'locationId must name a location posted to /api/locations');
    out.locationId = v.locationId;
  }
  if (scope === 'charger' || scope === 'connector') {
    if (typeof v.chargerId !== 'string' || !csms.chargers.has(v.chargerId)) throw bad('chargerId', 'chargerId must name a known charger (POST /api/chargers first)');
    out.chargerId = v.chargerId;
  }
  if (scope === 'connector') {
    if (typeof v.connectorId !== 'number' || !Number.isInteger(v.connectorId) || v.connectorId < 1 || v.connectorId > 100) {
      throw bad('connectorId', 'connectorId must be a whole number from 1 to 100');
    }
    out.connectorId = v.connectorId;
  }
  if (scope === 'group') {
    if (typeof v.group !== 'string' || v.group.length < 1 || v.group.length > 64) throw bad('group', 'group must be a string of 1 to 64 characters');
    out.group = v.group;
  }
  return out;
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

export interface ApiContext {
  csms: Csms;
  store: Store;
  ocpp: OcppEndpoint;
  version: string;
  startedAtMs: number;
  /** OCPI endpoints under /ocpi/2.2.1 (party defaults to NL / CBX, no auth). */
  ocpi?: OcpiOptions;
}

export function createApi(ctx: ApiContext): express.Express {
  const { csms, store, ocpp } = ctx;
  const ocpiOpts: OcpiOptions = ctx.ocpi ?? { party: csms.party ?? DEFAULT_PARTY };
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
    res.json({
      store: store.stats(),
      connections: ocpp.connectionCount(),
      refusedUpgrades: { ...ocpp.refusedUpgrades },
      activeSessions: csms.activeSessionCount(),
    });
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
      location_id: string | null;
      registered: number;
      last_boot_at: string | null;
      last_heartbeat_at: string | null;
    }>('SELECT * FROM chargers ORDER BY id');
    // Exact unless the store is closing: then what was folded last.
    await store.foldConnectorStatus().catch(() => undefined);
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
        locationId: r.location_id,
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
    res.json({ items: [...csms.tokens.values()].map(tokenJson) });
  });

  api.post('/tokens', async (req, res) => {
    const { items, prefix } = asList(req.body);
    if (items.length === 0) throw bad('(body)', 'send one token object or a non-empty array of them');
    const tokens = items.map((v, i) => parseToken(v, prefix(i)));
    await csms.putTokens(tokens);
    res.status(200).json({ items: tokens.map(tokenJson), total: tokens.length });
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

  // ------------------------------------------------------------ locations and tariff assignments
  api.get('/locations', (_req, res) => {
    const items = [...csms.locations.values()];
    res.json({ items, total: items.length });
  });
  api.post('/locations', async (req, res) => {
    const loc = parseLocation(req.body);
    await csms.putLocation(loc);
    res.status(200).json(loc);
  });
  api.get('/tariff-assignments', (_req, res) => {
    const items = csms.tariffAssignments();
    res.json({ items, total: items.length, precedence: SCOPE_PRECEDENCE });
  });
  api.post('/tariff-assignments', async (req, res) => {
    const a = parseAssignment(req.body, csms);
    await csms.putTariffAssignment(a);
    res.status(200).json(a);
  });
  api.get('/tariffs/ocpi', async (req, res) => {
    const page = { offset: optInt(req.query.offset, 'offset', 0, 0, Number.MAX_SAFE_INTEGER), limit: optInt(req.query.limit, 'limit', 100, 1, 10000) };
    const { items, total } = await listTariffs(store, ocpiOpts.party, page);
    res.json({ items, total, ...page });
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
