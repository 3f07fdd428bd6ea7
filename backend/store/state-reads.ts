// The reads that rebuild the back end's in-memory state at start-up (on the writer connection,
// before any write) and read a finished session's readings back (CDR corrections). Rows come
// out as the meanings the back end works with: readings and charging states, not sampled
// values and connector statuses.
import type { MeterReading, StateChange } from '../billing/periods.js';
import { chargingStateOf } from '../metering/connector-states.js';
import { readingOf, type MeterValue16 } from '../metering/sampled-values.js';
import type { Store } from './store.js';

export interface ChargerRow {
  id: string;
  connectors: number;
  timeZone: string;
  tariffId: string | null;
  locationId: string | null;
}

export interface TokenRow {
  idTag: string;
  status: string;
  expiryDate: string | null;
  parentIdTag: string | null;
  group: string | null;
}

export interface TariffRow {
  vid: number;
  json: string;
  superseded: boolean;
  lastUpdated: string;
}

export interface LocationRow {
  id: string;
  name: string;
  timeZone: string;
  addressJson: string | null;
}

export interface AssignmentRow {
  scope: string;
  target: string;
  tariffId: string;
}

/** A session that was open when the back end stopped. */
export interface OpenSessionRow {
  id: number;
  chargerId: string;
  connectorId: number;
  idTag: string;
  startedAt: string;
  meterStart: number;
  tariffVid: number | null;
  timeZone: string;
  locationId: string | null;
  authMethod: string | null;
}

export interface StartupState {
  chargers: ChargerRow[];
  tokens: TokenRow[];
  /** In version order. */
  tariffs: TariffRow[];
  locations: LocationRow[];
  assignments: AssignmentRow[];
  defaultTariffId: string | null;
  /** The highest session id, or transaction id of an unmatched stop, ever used (0 when none). */
  highestSessionId: number;
  openSessions: OpenSessionRow[];
  /** Readings of the open sessions, in time order per session. */
  openReadings: Array<{ sessionId: number; reading: MeterReading }>;
  /** Charging states of the open sessions since their start, in arrival order. */
  openStates: Array<{ sessionId: number; state: StateChange }>;
}

interface SampledValueRow {
  at: string;
  measurand: string | null;
  phase: string | null;
  unit: string | null;
  format: string | null;
  value: string;
}

/** Stored sampled values (ordered by instant) as one reading per instant that has a register. */
function readingsOfRows<R extends SampledValueRow>(rows: R[], groupOf: (r: R) => number): Array<{ group: number; reading: MeterReading }> {
  const out: Array<{ group: number; reading: MeterReading }> = [];
  let cur: { group: number; mv: MeterValue16 } | null = null;
  const flush = (): void => {
    if (!cur) return;
    const reading = readingOf(cur.mv, cur.mv.timestamp);
    if (reading) out.push({ group: cur.group, reading });
  };
  for (const r of rows) {
    const group = groupOf(r);
    if (!cur || cur.group !== group || cur.mv.timestamp !== r.at) {
      flush();
      cur = { group, mv: { timestamp: r.at, sampledValue: [] } };
    }
    cur.mv.sampledValue.push({
      value: r.value,
      ...(r.measurand !== null ? { measurand: r.measurand } : {}),
      ...(r.phase !== null ? { phase: r.phase } : {}),
      ...(r.unit !== null ? { unit: r.unit } : {}),
      ...(r.format !== null ? { format: r.format } : {}),
    });
  }
  flush();
  return out;
}

export async function readStartupState(s: Store): Promise<StartupState> {
  const openSessions = await readOpenSessions(s);
  const state: StartupState = {
    ...(await readRegistryAndTariffs(s)),
    highestSessionId: await readHighestSessionId(s),
    openSessions,
    openReadings: [],
    openStates: [],
  };
  if (openSessions.length > 0) {
    // Meter readings and status changes of the sessions that were open when we stopped.
    state.openReadings = await readOpenReadings(s);
    state.openStates = await readOpenStates(s);
  }
  return state;
}

async function readRegistryAndTariffs(
  s: Store,
): Promise<Pick<StartupState, 'chargers' | 'tokens' | 'tariffs' | 'locations' | 'assignments' | 'defaultTariffId'>> {
  const chargers = (
    await s.queryWriter<{ id: string; connectors: number; time_zone: string; tariff_id: string | null; location_id: string | null }>(
      'SELECT id, connectors, time_zone, tariff_id, location_id FROM chargers',
    )
  ).map((r) => ({ id: r.id, connectors: r.connectors, timeZone: r.time_zone, tariffId: r.tariff_id, locationId: r.location_id }));
  const tokens = (
    await s.queryWriter<{ id_tag: string; status: string; expiry_date: string | null; parent_id_tag: string | null; group_id: string | null }>(
      'SELECT id_tag, status, expiry_date, parent_id_tag, group_id FROM tokens',
    )
  ).map((r) => ({ idTag: r.id_tag, status: r.status, expiryDate: r.expiry_date, parentIdTag: r.parent_id_tag, group: r.group_id }));
  const tariffs = (
    await s.queryWriter<{ vid: number; json: string; superseded: number; last_updated: string }>(
      'SELECT vid, json, superseded, last_updated FROM tariffs ORDER BY vid',
    )
  ).map((r) => ({ vid: r.vid, json: r.json, superseded: r.superseded === 1, lastUpdated: r.last_updated }));
  const locations = (
    await s.queryWriter<{ id: string; name: string; time_zone: string; address_json: string | null }>('SELECT id, name, time_zone, address_json FROM locations')
  ).map((r) => ({ id: r.id, name: r.name, timeZone: r.time_zone, addressJson: r.address_json }));
  const assignments = (
    await s.queryWriter<{ scope: string; target: string; tariff_id: string }>('SELECT scope, target, tariff_id FROM tariff_assignments')
  ).map((r) => ({ scope: r.scope, target: r.target, tariffId: r.tariff_id }));
  const def = await s.queryWriter<{ value: string }>(`SELECT value FROM settings WHERE key = 'default_tariff_id'`);
  return { chargers, tokens, tariffs, locations, assignments, defaultTariffId: def[0]?.value ?? null };
}

async function readHighestSessionId(s: Store): Promise<number> {
  const maxId = await s.queryWriter<{ m: number | null }>('SELECT MAX(id) AS m FROM sessions');
  const maxUnmatched = await s.queryWriter<{ m: number | null }>('SELECT MAX(transaction_id) AS m FROM unmatched_stops');
  return Math.max(maxId[0]?.m ?? 0, maxUnmatched[0]?.m ?? 0);
}

async function readOpenSessions(s: Store): Promise<OpenSessionRow[]> {
  const rows = await s.queryWriter<{
    id: number;
    charger_id: string;
    connector_id: number;
    id_tag: string;
    started_at: string;
    meter_start: number;
    tariff_vid: number | null;
    time_zone: string;
    location_id: string | null;
    auth_method: string | null;
  }>(`SELECT id, charger_id, connector_id, id_tag, started_at, meter_start, tariff_vid, time_zone, location_id, auth_method
      FROM sessions WHERE state = 'active'`);
  return rows.map((r) => ({
    id: r.id,
    chargerId: r.charger_id,
    connectorId: r.connector_id,
    idTag: r.id_tag,
    startedAt: r.started_at,
    meterStart: r.meter_start,
    tariffVid: r.tariff_vid,
    timeZone: r.time_zone,
    locationId: r.location_id,
    authMethod: r.auth_method,
  }));
}

async function readOpenReadings(s: Store): Promise<StartupState['openReadings']> {
  const rows = await s.queryWriter<SampledValueRow & { session_id: number }>(
    `SELECT mv.session_id, mv.at, mv.measurand, mv.phase, mv.unit, mv.format, mv.value
      FROM meter_values mv JOIN sessions s ON s.id = mv.session_id
      WHERE s.state = 'active' ORDER BY mv.session_id, mv.at, mv.id`,
  );
  return readingsOfRows(rows, (r) => r.session_id).map(({ group, reading }) => ({ sessionId: group, reading }));
}

async function readOpenStates(s: Store): Promise<StartupState['openStates']> {
  const rows = await s.queryWriter<{ id: number; status: string; at: string }>(
    `SELECT s.id, sh.status, sh.at FROM status_history sh
      JOIN sessions s ON s.state = 'active' AND sh.charger_id = s.charger_id AND sh.connector_id = s.connector_id
      AND sh.at > s.started_at ORDER BY sh.id`,
  );
  return rows.flatMap((r) => {
    const charging = chargingStateOf(r.status);
    return charging === null ? [] : [{ sessionId: r.id, state: { at: r.at, charging } }];
  });
}

/** The readings of a session, one per instant with a register, in time order. */
export async function readSessionReadings(store: Store, sessionId: number): Promise<MeterReading[]> {
  const rows = await store.readAll<SampledValueRow>('meterValuesOfSession', [sessionId]);
  return readingsOfRows(rows, () => 0).map((r) => r.reading);
}

/** The charging states a connector reported strictly between two instants, in arrival order. */
export async function readConnectorStates(store: Store, chargerId: string, connectorId: number, after: string, before: string): Promise<StateChange[]> {
  const statusRows = await store.query<{ status: string; at: string }>(
    'SELECT status, at FROM status_history WHERE charger_id = ? AND connector_id = ? AND at > ? AND at < ? ORDER BY id',
    [chargerId, connectorId, after, before],
  );
  return statusRows.flatMap((r) => {
    const charging = chargingStateOf(r.status);
    return charging === null ? [] : [{ at: r.at, charging }];
  });
}
