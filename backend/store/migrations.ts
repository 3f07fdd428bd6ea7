// Versioned schema. PRAGMA user_version holds the number of migrations applied; each
// migration runs in its own transaction together with the version bump. Append only:
// never edit a migration that has shipped, add a new one.
import type { Db } from './db.js';

export const MIGRATIONS: readonly string[] = [
  // 1: initial schema
  `
  CREATE TABLE chargers (
    id                TEXT PRIMARY KEY,
    connectors        INTEGER NOT NULL DEFAULT 1,
    vendor            TEXT,
    model             TEXT,
    serial_number     TEXT,
    firmware_version  TEXT,
    time_zone         TEXT NOT NULL DEFAULT 'UTC',
    tariff_id         TEXT,
    registered        INTEGER NOT NULL DEFAULT 0,
    last_boot_at      TEXT,
    last_heartbeat_at TEXT,
    created_at        TEXT NOT NULL
  );

  CREATE TABLE connector_status (
    charger_id   TEXT NOT NULL,
    connector_id INTEGER NOT NULL,
    status       TEXT NOT NULL,
    error_code   TEXT NOT NULL,
    at           TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    PRIMARY KEY (charger_id, connector_id)
  ) WITHOUT ROWID;

  CREATE TABLE status_history (
    id                INTEGER PRIMARY KEY,
    charger_id        TEXT NOT NULL,
    connector_id      INTEGER NOT NULL,
    status            TEXT NOT NULL,
    error_code        TEXT NOT NULL,
    info              TEXT,
    vendor_id         TEXT,
    vendor_error_code TEXT,
    at                TEXT NOT NULL,       -- message timestamp (sim time); received time if absent
    at_from_message   INTEGER NOT NULL,    -- 1 when the charger sent a timestamp
    received_at       TEXT NOT NULL        -- wall clock at the back end
  );
  CREATE INDEX status_history_connector ON status_history (charger_id, connector_id, at);

  -- The current status per connector follows every history row, inside the same statement.
  CREATE TRIGGER status_history_current AFTER INSERT ON status_history BEGIN
    INSERT INTO connector_status (charger_id, connector_id, status, error_code, at, received_at)
    VALUES (NEW.charger_id, NEW.connector_id, NEW.status, NEW.error_code, NEW.at, NEW.received_at)
    ON CONFLICT (charger_id, connector_id) DO UPDATE SET
      status = excluded.status, error_code = excluded.error_code,
      at = excluded.at, received_at = excluded.received_at;
  END;

  CREATE TABLE tokens (
    id_tag        TEXT PRIMARY KEY,
    status        TEXT NOT NULL,
    expiry_date   TEXT,
    parent_id_tag TEXT,
    updated_at    TEXT NOT NULL
  ) WITHOUT ROWID;

  -- Every POST of a tariff is a new immutable version; sessions point at the version
  -- that was valid at their start.
  CREATE TABLE tariffs (
    vid        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL,
    valid_from TEXT,
    valid_to   TEXT,
    json       TEXT NOT NULL,
    superseded INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
  );
  CREATE INDEX tariffs_by_id ON tariffs (id, vid);

  CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE sessions (
    id                INTEGER PRIMARY KEY,  -- = OCPP transactionId, unique across the back end
    charger_id        TEXT NOT NULL,
    connector_id      INTEGER NOT NULL,
    id_tag            TEXT NOT NULL,
    state             TEXT NOT NULL,        -- active | completed
    started_at        TEXT NOT NULL,        -- message timestamp, UTC ISO
    meter_start       INTEGER NOT NULL,
    reservation_id    INTEGER,
    tariff_vid        INTEGER,
    tariff_id         TEXT,
    time_zone         TEXT NOT NULL,
    stopped_at        TEXT,
    meter_stop        INTEGER,
    stop_reason       TEXT,
    stop_id_tag       TEXT,
    stop_response     TEXT,                 -- the StopTransaction.conf sent, repeated on a retried stop
    energy_wh         INTEGER,
    charging_seconds  INTEGER,
    parking_seconds   INTEGER,
    flags             TEXT NOT NULL DEFAULT '[]',
    pricing_error     TEXT,
    currency          TEXT,
    total_excl_vat    TEXT,
    total_incl_vat    TEXT,
    cost_json         TEXT,                 -- CostBreakdown without lines
    invoice_id        INTEGER,
    received_at       TEXT NOT NULL,
    stop_received_at  TEXT
  );
  CREATE UNIQUE INDEX sessions_start_key ON sessions (charger_id, connector_id, id_tag, started_at, meter_start);
  CREATE INDEX sessions_started ON sessions (started_at);
  CREATE INDEX sessions_charger ON sessions (charger_id, started_at);
  CREATE INDEX sessions_active ON sessions (state) WHERE state = 'active';

  CREATE TABLE meter_values (
    id           INTEGER PRIMARY KEY,
    session_id   INTEGER,
    charger_id   TEXT NOT NULL,
    connector_id INTEGER NOT NULL,
    source       TEXT NOT NULL,   -- MeterValues | StopTransaction
    at           TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    context      TEXT,
    measurand    TEXT,
    phase        TEXT,
    unit         TEXT,
    location     TEXT,
    format       TEXT,
    value        TEXT NOT NULL,   -- as sent
    value_wh     REAL             -- energy registers normalised to Wh
  );
  CREATE INDEX meter_values_session ON meter_values (session_id, at);

  CREATE TABLE cost_lines (
    session_id     INTEGER NOT NULL,
    idx            INTEGER NOT NULL,
    dimension      TEXT NOT NULL,
    period_start   TEXT NOT NULL,
    quantity       TEXT NOT NULL,
    unit_price     TEXT NOT NULL,
    vat            TEXT,
    excl_vat       TEXT NOT NULL,
    incl_vat       TEXT NOT NULL,
    tariff_element INTEGER NOT NULL,
    PRIMARY KEY (session_id, idx)
  ) WITHOUT ROWID;

  CREATE TABLE invoices (
    id             INTEGER PRIMARY KEY,   -- = session id
    session_id     INTEGER NOT NULL UNIQUE,
    year           INTEGER NOT NULL,
    seq            INTEGER NOT NULL,
    number         TEXT NOT NULL UNIQUE,
    issued_at      TEXT NOT NULL,
    currency       TEXT NOT NULL,
    total_excl_vat TEXT NOT NULL,
    total_incl_vat TEXT NOT NULL,
    vat_json       TEXT NOT NULL,
    UNIQUE (year, seq)
  );

  CREATE TABLE unmatched_stops (
    id               INTEGER PRIMARY KEY,
    charger_id       TEXT NOT NULL,
    transaction_id   INTEGER NOT NULL,
    id_tag           TEXT,
    timestamp        TEXT NOT NULL,
    meter_stop       INTEGER NOT NULL,
    reason           TEXT,
    transaction_data TEXT,
    received_at      TEXT NOT NULL,
    UNIQUE (charger_id, transaction_id, timestamp, meter_stop)
  );
  `,
  // 2: locations, tariff assignments, token groups, CDRs
  `
  CREATE TABLE locations (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    time_zone    TEXT NOT NULL,
    address_json TEXT,                    -- { address, city, postalCode, country }
    updated_at   TEXT NOT NULL
  ) WITHOUT ROWID;
  ALTER TABLE chargers ADD COLUMN location_id TEXT;
  ALTER TABLE tokens ADD COLUMN group_id TEXT;

  -- Location, connector and group assignments; the charger's own tariff stays in
  -- chargers.tariff_id and the default in settings.default_tariff_id.
  CREATE TABLE tariff_assignments (
    scope      TEXT NOT NULL,             -- location | connector | group
    target     TEXT NOT NULL,             -- location id, "chargerId/connectorId", group name
    tariff_id  TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (scope, target)
  ) WITHOUT ROWID;

  -- OCPI last_updated of each tariff version, normalised so date filters compare as text.
  ALTER TABLE tariffs ADD COLUMN last_updated TEXT;
  UPDATE tariffs SET last_updated = COALESCE(strftime('%Y-%m-%dT%H:%M:%fZ', json->>'last_updated'), created_at);

  ALTER TABLE sessions ADD COLUMN tariff_scope TEXT;   -- which assignment chose the tariff
  ALTER TABLE sessions ADD COLUMN location_id TEXT;
  ALTER TABLE sessions ADD COLUMN token_group TEXT;    -- the token's group at session start
  ALTER TABLE sessions ADD COLUMN auth_method TEXT;    -- OCPI AuthMethod
  CREATE INDEX sessions_id_tag ON sessions (id_tag);
  CREATE INDEX sessions_token_group ON sessions (token_group) WHERE token_group IS NOT NULL;

  ALTER TABLE cost_lines ADD COLUMN reservation INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX invoices_issued ON invoices (issued_at);

  -- OCPI CDRs: the JSON is the published object; the columns are copies for filtering.
  CREATE TABLE cdrs (
    seq                 INTEGER PRIMARY KEY,
    id                  TEXT NOT NULL UNIQUE,
    session_id          INTEGER NOT NULL,
    credit              INTEGER NOT NULL DEFAULT 0,
    credit_reference_id TEXT,
    last_updated        TEXT NOT NULL,
    currency            TEXT NOT NULL,
    total_excl_vat      TEXT NOT NULL,
    total_incl_vat      TEXT NOT NULL,
    json                TEXT NOT NULL
  );
  CREATE INDEX cdrs_last_updated ON cdrs (last_updated, seq);
  CREATE INDEX cdrs_session ON cdrs (session_id, seq);
  -- A CDR is credited at most once.
  CREATE UNIQUE INDEX cdrs_credited_once ON cdrs (credit_reference_id) WHERE credit_reference_id IS NOT NULL;
  -- Immutable: a correction is a credit CDR plus a new CDR, never an edit.
  CREATE TRIGGER cdrs_no_update BEFORE UPDATE ON cdrs BEGIN
    SELECT RAISE(ABORT, 'CDRs are immutable; post a correction instead');
  END;
  CREATE TRIGGER cdrs_no_delete BEFORE DELETE ON cdrs BEGIN
    SELECT RAISE(ABORT, 'CDRs are immutable; post a correction instead');
  END;
  `,
  // 3: one index fewer on sessions. The start key, led by (charger_id, started_at), also serves
  // a charger's sessions by time, so sessions_charger goes: every StartTransaction wrote a page
  // of each at a random place (uniqueness is over the same five columns as before).
  `
  DROP INDEX sessions_charger;
  DROP INDEX sessions_start_key;
  CREATE UNIQUE INDEX sessions_start_key ON sessions (charger_id, started_at, connector_id, id_tag, meter_start);
  `,
  // 4: the current status per connector is folded from the history every few seconds and before
  // it is read (Store.foldConnectorStatus), no longer by a trigger on every row: that trigger
  // wrote a page of connector_status at a random place for every StatusNotification. The
  // setting says up to which history row the table is folded; all of it, until now.
  `
  DROP TRIGGER status_history_current;
  INSERT INTO settings (key, value) VALUES ('connector_status_folded_upto', (SELECT COALESCE(MAX(id), 0) FROM status_history));
  `,
  // 5: sessions the charger lost (it rebooted, started again on the connector or reported it
  // Available with the session open) are closed at their last reading; why, and the
  // StopTransaction that may still come for one afterwards, are kept with the session.
  `
  ALTER TABLE sessions ADD COLUMN close_reason TEXT;
  ALTER TABLE sessions ADD COLUMN late_stop TEXT;
  `,
];

export async function migrate(db: Db): Promise<{ from: number; to: number }> {
  const row = await db.get<{ user_version: number }>('PRAGMA user_version');
  const from = row?.user_version ?? 0;
  if (from > MIGRATIONS.length) {
    throw new Error(`database schema version ${from} is newer than this back end knows (${MIGRATIONS.length}); use a newer chargebench or another --db file`);
  }
  for (let v = from; v < MIGRATIONS.length; v++) {
    await db.exec('BEGIN IMMEDIATE');
    try {
      await db.exec(MIGRATIONS[v]);
      await db.exec(`PRAGMA user_version = ${v + 1}`);
      await db.exec('COMMIT');
    } catch (err) {
      await db.exec('ROLLBACK').catch(() => undefined);
      throw new Error(`schema migration ${v + 1} failed: ${(err as Error).message}`, { cause: err });
    }
  }
  return { from, to: MIGRATIONS.length };
}
