// The reads the REST API and OCPI run, by name: each takes the store and its parameters and
// answers typed rows, so no SQL text lives outside backend/store/. Reads the store prepares
// once (Store.read/readAll) stay prepared; the filtered lists are built here as before.
import type { CostLineRow } from '../invoicing/invoices.js';
import type { Store } from './store.js';

export interface ChargerRow {
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
}

export interface ConnectorStatusRow {
  charger_id: string;
  connector_id: number;
  status: string;
  error_code: string;
  at: string;
}

export interface StatusHistoryRow {
  connector_id: number;
  status: string;
  error_code: string;
  at: string;
  received_at: string;
}

export interface SessionRow {
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

export interface MeterValueRow {
  at: string;
  measurand: string | null;
  phase: string | null;
  unit: string | null;
  context: string | null;
  location: string | null;
  format: string | null;
  value: string;
  value_wh: number | null;
}

export interface UnmatchedStopRow {
  id: number;
  charger_id: string;
  transaction_id: number;
  id_tag: string | null;
  timestamp: string;
  meter_stop: number;
  reason: string | null;
  transaction_data: string | null;
  received_at: string;
}

/** A page of rows and how many match in all. */
export interface RowPage<T> {
  rows: T[];
  total: number;
}

export interface SessionFilter {
  chargerId?: string;
  state?: 'active' | 'completed';
  /** started_at from (inclusive) and to (exclusive), ISO 8601. */
  from?: string;
  to?: string;
}

/** A last_updated window: from inclusive, to exclusive (ISO 8601). */
export interface LastUpdatedWindow {
  from?: string;
  to?: string;
}

export interface Slice {
  offset: number;
  limit: number;
}

const where = (parts: string[]): string => (parts.length ? `WHERE ${parts.join(' AND ')}` : '');

/** Resolves when the reader connection answers (the health check). */
export async function ping(store: Store): Promise<void> {
  await store.query('SELECT 1');
}

export function chargerRows(store: Store): Promise<ChargerRow[]> {
  return store.query<ChargerRow>('SELECT * FROM chargers ORDER BY id');
}

/** The last folded status of every connector, by charger then connector. */
export function connectorStatusRows(store: Store): Promise<ConnectorStatusRow[]> {
  return store.query<ConnectorStatusRow>('SELECT charger_id, connector_id, status, error_code, at FROM connector_status ORDER BY charger_id, connector_id');
}

/** A charger's status notifications in arrival order, of one connector when given. */
export function statusHistory(store: Store, chargerId: string, connectorId?: number): Promise<StatusHistoryRow[]> {
  return connectorId === undefined
    ? store.readAll<StatusHistoryRow>('statusHistory', [chargerId])
    : store.readAll<StatusHistoryRow>('statusHistoryConnector', [chargerId, connectorId]);
}

/** Sessions matching the filter, by id. */
export async function sessionPage(store: Store, filter: SessionFilter, slice: Slice): Promise<RowPage<SessionRow>> {
  const parts: string[] = [];
  const params: unknown[] = [];
  if (filter.chargerId !== undefined) {
    parts.push('charger_id = ?');
    params.push(filter.chargerId);
  }
  if (filter.state !== undefined) {
    parts.push('state = ?');
    params.push(filter.state);
  }
  if (filter.from) {
    parts.push('started_at >= ?');
    params.push(filter.from);
  }
  if (filter.to) {
    parts.push('started_at < ?');
    params.push(filter.to);
  }
  const w = where(parts);
  const [count] = await store.query<{ n: number }>(`SELECT COUNT(*) AS n FROM sessions ${w}`, params);
  const rows = await store.query<SessionRow>(`SELECT * FROM sessions ${w} ORDER BY id LIMIT ? OFFSET ?`, [...params, slice.limit, slice.offset]);
  return { rows, total: count?.n ?? 0 };
}

export function sessionById(store: Store, id: number): Promise<SessionRow | undefined> {
  return store.read<SessionRow>('sessionById', [id]);
}

/** A session's meter values by time (then arrival). */
export function meterValuesOfSession(store: Store, sessionId: number): Promise<MeterValueRow[]> {
  return store.readAll<MeterValueRow>('meterValuesOfSession', [sessionId]);
}

/** A session's cost lines in breakdown order. */
export function costLinesOfSession(store: Store, sessionId: number): Promise<CostLineRow[]> {
  return store.readAll<CostLineRow>('costLinesOfSession', [sessionId]);
}

/** The stored CDR text, as it was written. */
export function cdrJsonById(store: Store, id: string): Promise<{ json: string } | undefined> {
  return store.read<{ json: string }>('cdrById', [id]);
}

function lastUpdatedParts(window: LastUpdatedWindow, parts: string[], params: unknown[]): void {
  if (window.from !== undefined) {
    parts.push('last_updated >= ?');
    params.push(window.from);
  }
  if (window.to !== undefined) {
    parts.push('last_updated < ?');
    params.push(window.to);
  }
}

/** CDR texts by last_updated (then creation order), of one session when given. */
export async function cdrPage(store: Store, window: LastUpdatedWindow, slice: Slice, sessionId?: number): Promise<RowPage<{ json: string }>> {
  const parts: string[] = [];
  const params: unknown[] = [];
  lastUpdatedParts(window, parts, params);
  if (sessionId !== undefined) {
    parts.push('session_id = ?');
    params.push(sessionId);
  }
  const w = where(parts);
  const [count] = await store.query<{ n: number }>(`SELECT COUNT(*) AS n FROM cdrs ${w}`, params);
  const rows = await store.query<{ json: string }>(`SELECT json FROM cdrs ${w} ORDER BY last_updated, seq LIMIT ? OFFSET ?`, [
    ...params,
    slice.limit,
    slice.offset,
  ]);
  return { rows, total: count?.n ?? 0 };
}

/** Current (not superseded) tariff versions by last_updated, then version. */
export async function currentTariffPage(store: Store, window: LastUpdatedWindow, slice: Slice): Promise<RowPage<{ json: string; last_updated: string }>> {
  const parts = ['superseded = 0'];
  const params: unknown[] = [];
  lastUpdatedParts(window, parts, params);
  const w = where(parts);
  const [count] = await store.query<{ n: number }>(`SELECT COUNT(*) AS n FROM tariffs ${w}`, params);
  const rows = await store.query<{ json: string; last_updated: string }>(
    `SELECT json, last_updated FROM tariffs ${w} ORDER BY last_updated, vid LIMIT ? OFFSET ?`,
    [...params, slice.limit, slice.offset],
  );
  return { rows, total: count?.n ?? 0 };
}

/** StopTransactions that matched no session, in arrival order. */
export async function unmatchedStopPage(store: Store, slice: Slice): Promise<RowPage<UnmatchedStopRow>> {
  const rows = await store.query<UnmatchedStopRow>('SELECT * FROM unmatched_stops ORDER BY id LIMIT ? OFFSET ?', [slice.limit, slice.offset]);
  const [count] = await store.query<{ n: number }>('SELECT COUNT(*) AS n FROM unmatched_stops');
  return { rows, total: count?.n ?? 0 };
}
