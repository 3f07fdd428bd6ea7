// Every write the back end commits: its SQL, and next to it the one place its parameter order is
// defined (named fields in, the positional ?1..?N out). Store.writes turns each into a function
// that returns the Op of a unit of work; callers never build positional arrays.
import type { SqlParams } from './db.js';
import { insertFromJsonRows } from './multi-row.js';
import type {
  ChargerBoot,
  ChargerEnsure,
  ChargerAdmin,
  ChargerTariff,
  LocationWrite,
  TariffAssignmentPut,
  TariffAssignmentDelete,
  SettingDelete,
  ChargerHeartbeat,
  StatusWrite,
  TokenWrite,
  TariffInsert,
  TariffSupersede,
  SettingWrite,
  SessionStart,
  SessionStop,
  MeterValuesWrite,
  CostLinesWrite,
  InvoiceWrite,
  CdrWrite,
  UnmatchedStop,
  SessionClosedWithoutStop,
  SessionLateStop,
} from './write-fields.js';

/** A statement and how its named fields become its parameters. */
export interface WriteDef<F> {
  readonly sql: string;
  readonly params: (f: F) => SqlParams;
}

const write = <F>(sql: string, params: (f: F) => SqlParams): WriteDef<F> => ({ sql, params });
const NO_PARAMS = (): SqlParams => [];

export const WRITES = {
  chargerBoot: write<ChargerBoot>(
    `INSERT INTO chargers (id, vendor, model, serial_number, firmware_version, registered, last_boot_at, created_at)
    VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?6)
    ON CONFLICT (id) DO UPDATE SET vendor = excluded.vendor, model = excluded.model,
      serial_number = excluded.serial_number, firmware_version = excluded.firmware_version,
      registered = 1, last_boot_at = excluded.last_boot_at`,
    (f) => [f.id, f.vendor, f.model, f.serialNumber, f.firmwareVersion, f.bootedAt],
  ),
  chargerEnsure: write<ChargerEnsure>(`INSERT INTO chargers (id, created_at) VALUES (?1, ?2) ON CONFLICT (id) DO NOTHING`, (f) => [f.id, f.createdAt]),
  chargerAdmin: write<ChargerAdmin>(
    `INSERT INTO chargers (id, connectors, time_zone, tariff_id, created_at, location_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
    ON CONFLICT (id) DO UPDATE SET connectors = excluded.connectors, time_zone = excluded.time_zone,
      tariff_id = excluded.tariff_id, location_id = excluded.location_id`,
    (f) => [f.id, f.connectors, f.timeZone, f.tariffId, f.createdAt, f.locationId],
  ),
  chargerTariff: write<ChargerTariff>(`UPDATE chargers SET tariff_id = ?2 WHERE id = ?1`, (f) => [f.id, f.tariffId]),
  location: write<LocationWrite>(
    `INSERT INTO locations (id, name, time_zone, address_json, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
    ON CONFLICT (id) DO UPDATE SET name = excluded.name, time_zone = excluded.time_zone,
      address_json = excluded.address_json, updated_at = excluded.updated_at`,
    (f) => [f.id, f.name, f.timeZone, f.addressJson, f.updatedAt],
  ),
  tariffAssignmentPut: write<TariffAssignmentPut>(
    `INSERT INTO tariff_assignments (scope, target, tariff_id, updated_at) VALUES (?1, ?2, ?3, ?4)
    ON CONFLICT (scope, target) DO UPDATE SET tariff_id = excluded.tariff_id, updated_at = excluded.updated_at`,
    (f) => [f.scope, f.target, f.tariffId, f.updatedAt],
  ),
  tariffAssignmentDelete: write<TariffAssignmentDelete>(`DELETE FROM tariff_assignments WHERE scope = ?1 AND target = ?2`, (f) => [f.scope, f.target]),
  settingDelete: write<SettingDelete>(`DELETE FROM settings WHERE key = ?1`, (f) => [f.key]),
  chargerHeartbeat: write<ChargerHeartbeat>(`UPDATE chargers SET last_heartbeat_at = ?2 WHERE id = ?1`, (f) => [f.id, f.at]),
  status: write<StatusWrite>(
    `INSERT INTO status_history (charger_id, connector_id, status, error_code, info, vendor_id, vendor_error_code, at, at_from_message, received_at)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)`,
    (f) => [f.chargerId, f.connectorId, f.status, f.errorCode, f.info, f.vendorId, f.vendorErrorCode, f.at, f.atFromMessage, f.receivedAt],
  ),
  token: write<TokenWrite>(
    `INSERT INTO tokens (id_tag, status, expiry_date, parent_id_tag, updated_at, group_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
    ON CONFLICT (id_tag) DO UPDATE SET status = excluded.status, expiry_date = excluded.expiry_date,
      parent_id_tag = excluded.parent_id_tag, updated_at = excluded.updated_at, group_id = excluded.group_id`,
    (f) => [f.idTag, f.status, f.expiryDate, f.parentIdTag, f.updatedAt, f.group],
  ),
  tariffInsert: write<TariffInsert>(
    `INSERT INTO tariffs (vid, id, valid_from, valid_to, json, created_at, last_updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)`,
    (f) => [f.vid, f.id, f.validFrom, f.validTo, f.json, f.createdAt, f.lastUpdated],
  ),
  tariffSupersede: write<TariffSupersede>(
    `UPDATE tariffs SET superseded = 1 WHERE id = ?1 AND vid < ?2
    AND COALESCE(valid_from, '') = COALESCE(?3, '') AND COALESCE(valid_to, '') = COALESCE(?4, '')`,
    (f) => [f.id, f.vid, f.validFrom, f.validTo],
  ),
  setting: write<SettingWrite>(`INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, (f) => [
    f.key,
    f.value,
  ]),
  // The latest history row of each connector since the last fold, in arrival order, then the mark.
  connectorStatusFold: write<Record<string, never>>(
    `INSERT INTO connector_status (charger_id, connector_id, status, error_code, at, received_at)
    SELECT charger_id, connector_id, status, error_code, at, received_at FROM status_history
    WHERE id > COALESCE((SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'connector_status_folded_upto'), 0) ORDER BY id
    ON CONFLICT (charger_id, connector_id) DO UPDATE SET
      status = excluded.status, error_code = excluded.error_code, at = excluded.at, received_at = excluded.received_at`,
    NO_PARAMS,
  ),
  connectorStatusFoldMark: write<Record<string, never>>(
    `INSERT INTO settings (key, value)
    VALUES ('connector_status_folded_upto', (SELECT COALESCE(MAX(id), 0) FROM status_history))
    ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
    NO_PARAMS,
  ),
  sessionStart: write<SessionStart>(
    `INSERT INTO sessions (id, charger_id, connector_id, id_tag, state, started_at, meter_start, reservation_id,
      tariff_vid, tariff_id, time_zone, received_at, tariff_scope, location_id, token_group, auth_method)
    VALUES (?1, ?2, ?3, ?4, 'active', ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)`,
    (f) => [
      f.id,
      f.chargerId,
      f.connectorId,
      f.idTag,
      f.startedAt,
      f.meterStart,
      f.reservationId,
      f.tariffVid,
      f.tariffId,
      f.timeZone,
      f.receivedAt,
      f.tariffScope,
      f.locationId,
      f.tokenGroup,
      f.authMethod,
    ],
  ),
  sessionStop: write<SessionStop>(
    `UPDATE sessions SET state = 'completed', stopped_at = ?2, meter_stop = ?3, stop_reason = ?4, stop_id_tag = ?5,
      stop_response = ?6, energy_wh = ?7, charging_seconds = ?8, parking_seconds = ?9, flags = ?10, pricing_error = ?11,
      currency = ?12, total_excl_vat = ?13, total_incl_vat = ?14, cost_json = ?15, invoice_id = ?16, stop_received_at = ?17
    WHERE id = ?1 AND state = 'active'`,
    (f) => [
      f.id,
      f.stoppedAt,
      f.meterStop,
      f.stopReason,
      f.stopIdTag,
      f.stopResponse,
      f.energyWh,
      f.chargingSeconds,
      f.parkingSeconds,
      f.flags,
      f.pricingError,
      f.currency,
      f.totalExclVat,
      f.totalInclVat,
      f.costJson,
      f.invoiceId,
      f.receivedAt,
    ],
  ),
  // One statement per message, however many sampled values: rows travel as a JSON array of
  // [at, context, measurand, phase, unit, location, format, value, valueWh].
  meterValues: write<MeterValuesWrite>(
    `INSERT INTO meter_values (session_id, charger_id, connector_id, source, received_at,
      at, context, measurand, phase, unit, location, format, value, value_wh)
    SELECT ?1, ?2, ?3, ?4, ?5, j.value->>0, j.value->>1, j.value->>2, j.value->>3, j.value->>4, j.value->>5,
      j.value->>6, j.value->>7, j.value->>8
    FROM jsonb_each(?6) AS j`,
    (f) => [f.sessionId, f.chargerId, f.connectorId, f.source, f.receivedAt, f.rows],
  ),
  costLines: write<CostLinesWrite>(
    `INSERT INTO cost_lines (session_id, idx, dimension, period_start, quantity, unit_price, vat, excl_vat, incl_vat, tariff_element, reservation)
    SELECT ?1, j.key, j.value->>'dimension', j.value->>'period_start', j.value->>'quantity', j.value->>'unit_price',
      j.value->>'vat', j.value->>'excl_vat', j.value->>'incl_vat', j.value->>'tariff_element', COALESCE(j.value->>'reservation', 0)
    FROM jsonb_each(?2) AS j`,
    (f) => [f.sessionId, f.lines],
  ),
  // Gapless per year: the next number is taken inside the same transaction as the stop.
  invoice: write<InvoiceWrite>(
    `INSERT INTO invoices (id, session_id, year, seq, number, issued_at, currency, total_excl_vat, total_incl_vat, vat_json)
    SELECT ?1, ?1, ?2, n.seq, printf('%d-%06d', ?2, n.seq), ?3, ?4, ?5, ?6, ?7
    FROM (SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM invoices WHERE year = ?2) AS n`,
    (f) => [f.id, f.year, f.issuedAt, f.currency, f.totalExclVat, f.totalInclVat, f.vatJson],
  ),
  // The JSON is the OCPI object as published; it is never updated (see the cdrs triggers).
  cdr: write<CdrWrite>(
    `INSERT INTO cdrs (id, session_id, credit, credit_reference_id, last_updated, currency, total_excl_vat, total_incl_vat, json)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)`,
    (f) => [f.id, f.sessionId, f.credit, f.creditReferenceId, f.lastUpdated, f.currency, f.totalExclVat, f.totalInclVat, f.json],
  ),
  unmatchedStop: write<UnmatchedStop>(
    `INSERT OR IGNORE INTO unmatched_stops (charger_id, transaction_id, id_tag, timestamp, meter_stop, reason, transaction_data, received_at)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)`,
    (f) => [f.chargerId, f.transactionId, f.idTag, f.timestamp, f.meterStop, f.reason, f.transactionData, f.receivedAt],
  ),
  sessionClosedWithoutStop: write<SessionClosedWithoutStop>(`UPDATE sessions SET close_reason = ?2 WHERE id = ?1`, (f) => [f.id, f.closeReason]),
  // The first late stop is kept; a repeated one changes nothing.
  sessionLateStop: write<SessionLateStop>(
    `UPDATE sessions SET late_stop = ?2, flags = json_insert(flags, '$[#]', 'late-stop')
    WHERE id = ?1 AND late_stop IS NULL AND close_reason IS NOT NULL`,
    (f) => [f.id, f.lateStop],
  ),
} as const;

export type WriteName = keyof typeof WRITES;
export type WriteFields<K extends WriteName> = Parameters<(typeof WRITES)[K]['params']>[0];

/**
 * Multi-row forms (see multi-row.ts) of the writes a busy back end makes: a group-commit batch
 * whose writes all have one runs as one statement per kind of write. `u.value->>N` reads the
 * (N+1)-th parameter of a row, in the order WRITES defines.
 */
export const MULTI_ROW_SQL: Partial<Record<WriteName, { sql: string; keyParam?: number }>> = {
  chargerBoot: { sql: insertFromJsonRows(WRITES.chargerBoot.sql) },
  chargerEnsure: { sql: insertFromJsonRows(WRITES.chargerEnsure.sql) },
  chargerAdmin: { sql: insertFromJsonRows(WRITES.chargerAdmin.sql) },
  chargerHeartbeat: {
    sql: `UPDATE chargers SET last_heartbeat_at = u.value->>1 FROM jsonb_each(?1) AS u WHERE chargers.id = u.value->>0`,
    keyParam: 0,
  },
  status: { sql: insertFromJsonRows(WRITES.status.sql) },
  token: { sql: insertFromJsonRows(WRITES.token.sql) },
  sessionStart: { sql: insertFromJsonRows(WRITES.sessionStart.sql) },
  // `+state`: look sessions up by id, not by scanning the open ones for every row.
  sessionStop: {
    sql: `UPDATE sessions SET state = 'completed', stopped_at = u.value->>1, meter_stop = u.value->>2, stop_reason = u.value->>3,
      stop_id_tag = u.value->>4, stop_response = u.value->>5, energy_wh = u.value->>6, charging_seconds = u.value->>7,
      parking_seconds = u.value->>8, flags = u.value->>9, pricing_error = u.value->>10, currency = u.value->>11,
      total_excl_vat = u.value->>12, total_incl_vat = u.value->>13, cost_json = u.value->>14, invoice_id = u.value->>15,
      stop_received_at = u.value->>16
    FROM jsonb_each(?1) AS u WHERE sessions.id = u.value->>0 AND +sessions.state = 'active'`,
    keyParam: 0,
  },
  meterValues: {
    sql: `INSERT INTO meter_values (session_id, charger_id, connector_id, source, received_at,
        at, context, measurand, phase, unit, location, format, value, value_wh)
      SELECT u.value->>0, u.value->>1, u.value->>2, u.value->>3, u.value->>4, j.value->>0, j.value->>1, j.value->>2,
        j.value->>3, j.value->>4, j.value->>5, j.value->>6, j.value->>7, j.value->>8
      FROM jsonb_each(?1) AS u, jsonb_each(u.value->>5) AS j ORDER BY u.key, j.key`,
  },
  costLines: {
    sql: `INSERT INTO cost_lines (session_id, idx, dimension, period_start, quantity, unit_price, vat, excl_vat, incl_vat, tariff_element, reservation)
      SELECT u.value->>0, j.key, j.value->>'dimension', j.value->>'period_start', j.value->>'quantity', j.value->>'unit_price',
        j.value->>'vat', j.value->>'excl_vat', j.value->>'incl_vat', j.value->>'tariff_element', COALESCE(j.value->>'reservation', 0)
      FROM jsonb_each(?1) AS u, jsonb_each(u.value->>1) AS j ORDER BY u.key, j.key`,
  },
  // Gapless per year: each year's next numbers follow its highest one, in submission order.
  invoice: {
    sql: `INSERT INTO invoices (id, session_id, year, seq, number, issued_at, currency, total_excl_vat, total_incl_vat, vat_json)
      SELECT r.id, r.id, r.year, r.seq, printf('%d-%06d', r.year, r.seq), r.issued_at, r.currency, r.excl, r.incl, r.vat
      FROM (SELECT u.key AS k, u.value->>0 AS id, u.value->>1 AS year, u.value->>2 AS issued_at, u.value->>3 AS currency,
              u.value->>4 AS excl, u.value->>5 AS incl, u.value->>6 AS vat,
              (SELECT COALESCE(MAX(i.seq), 0) FROM invoices AS i WHERE i.year = u.value->>1)
                + row_number() OVER (PARTITION BY u.value->>1 ORDER BY u.key) AS seq
            FROM jsonb_each(?1) AS u) AS r
      ORDER BY r.k`,
  },
  cdr: { sql: insertFromJsonRows(WRITES.cdr.sql) },
  unmatchedStop: { sql: insertFromJsonRows(WRITES.unmatchedStop.sql) },
};
