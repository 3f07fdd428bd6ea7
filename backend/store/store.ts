// The back end's sqlite3 store: one write connection (group commit through WriteQueue,
// prepared statements built once), one read-only connection for the HTTP API and
// look-ups of committed rows, and one that checkpoints the WAL in the background. WAL lets
// the reader see every committed batch while the writer works.
import { Db, type Stmt } from './db.js';
import { migrate } from './migrations.js';
import { insertFromJsonRows, MultiRowSql } from './multi-row.js';
import { WriteQueue, type Op, type WriteStats } from './write-queue.js';

const WRITE_SQL = {
  chargerBoot: `INSERT INTO chargers (id, vendor, model, serial_number, firmware_version, registered, last_boot_at, created_at)
    VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?6)
    ON CONFLICT (id) DO UPDATE SET vendor = excluded.vendor, model = excluded.model,
      serial_number = excluded.serial_number, firmware_version = excluded.firmware_version,
      registered = 1, last_boot_at = excluded.last_boot_at`,
  chargerEnsure: `INSERT INTO chargers (id, created_at) VALUES (?1, ?2) ON CONFLICT (id) DO NOTHING`,
  chargerAdmin: `INSERT INTO chargers (id, connectors, time_zone, tariff_id, created_at, location_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
    ON CONFLICT (id) DO UPDATE SET connectors = excluded.connectors, time_zone = excluded.time_zone,
      tariff_id = excluded.tariff_id, location_id = excluded.location_id`,
  chargerTariff: `UPDATE chargers SET tariff_id = ?2 WHERE id = ?1`,
  location: `INSERT INTO locations (id, name, time_zone, address_json, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
    ON CONFLICT (id) DO UPDATE SET name = excluded.name, time_zone = excluded.time_zone,
      address_json = excluded.address_json, updated_at = excluded.updated_at`,
  tariffAssignmentPut: `INSERT INTO tariff_assignments (scope, target, tariff_id, updated_at) VALUES (?1, ?2, ?3, ?4)
    ON CONFLICT (scope, target) DO UPDATE SET tariff_id = excluded.tariff_id, updated_at = excluded.updated_at`,
  tariffAssignmentDelete: `DELETE FROM tariff_assignments WHERE scope = ?1 AND target = ?2`,
  settingDelete: `DELETE FROM settings WHERE key = ?1`,
  chargerHeartbeat: `UPDATE chargers SET last_heartbeat_at = ?2 WHERE id = ?1`,
  status: `INSERT INTO status_history (charger_id, connector_id, status, error_code, info, vendor_id, vendor_error_code, at, at_from_message, received_at)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)`,
  token: `INSERT INTO tokens (id_tag, status, expiry_date, parent_id_tag, updated_at, group_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
    ON CONFLICT (id_tag) DO UPDATE SET status = excluded.status, expiry_date = excluded.expiry_date,
      parent_id_tag = excluded.parent_id_tag, updated_at = excluded.updated_at, group_id = excluded.group_id`,
  tariffInsert: `INSERT INTO tariffs (vid, id, valid_from, valid_to, json, created_at, last_updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)`,
  tariffSupersede: `UPDATE tariffs SET superseded = 1 WHERE id = ?1 AND vid < ?2
    AND COALESCE(valid_from, '') = COALESCE(?3, '') AND COALESCE(valid_to, '') = COALESCE(?4, '')`,
  setting: `INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
  // The latest history row of each connector since the last fold, in arrival order, then the mark.
  connectorStatusFold: `INSERT INTO connector_status (charger_id, connector_id, status, error_code, at, received_at)
    SELECT charger_id, connector_id, status, error_code, at, received_at FROM status_history
    WHERE id > COALESCE((SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'connector_status_folded_upto'), 0) ORDER BY id
    ON CONFLICT (charger_id, connector_id) DO UPDATE SET
      status = excluded.status, error_code = excluded.error_code, at = excluded.at, received_at = excluded.received_at`,
  connectorStatusFoldMark: `INSERT INTO settings (key, value)
    VALUES ('connector_status_folded_upto', (SELECT COALESCE(MAX(id), 0) FROM status_history))
    ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
  sessionStart: `INSERT INTO sessions (id, charger_id, connector_id, id_tag, state, started_at, meter_start, reservation_id,
      tariff_vid, tariff_id, time_zone, received_at, tariff_scope, location_id, token_group, auth_method)
    VALUES (?1, ?2, ?3, ?4, 'active', ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)`,
  sessionStop: `UPDATE sessions SET state = 'completed', stopped_at = ?2, meter_stop = ?3, stop_reason = ?4, stop_id_tag = ?5,
      stop_response = ?6, energy_wh = ?7, charging_seconds = ?8, parking_seconds = ?9, flags = ?10, pricing_error = ?11,
      currency = ?12, total_excl_vat = ?13, total_incl_vat = ?14, cost_json = ?15, invoice_id = ?16, stop_received_at = ?17
    WHERE id = ?1 AND state = 'active'`,
  // One statement per message, however many sampled values: rows travel as a JSON array of
  // [at, context, measurand, phase, unit, location, format, value, valueWh].
  meterValues: `INSERT INTO meter_values (session_id, charger_id, connector_id, source, received_at,
      at, context, measurand, phase, unit, location, format, value, value_wh)
    SELECT ?1, ?2, ?3, ?4, ?5, j.value->>0, j.value->>1, j.value->>2, j.value->>3, j.value->>4, j.value->>5,
      j.value->>6, j.value->>7, j.value->>8
    FROM jsonb_each(?6) AS j`,
  costLines: `INSERT INTO cost_lines (session_id, idx, dimension, period_start, quantity, unit_price, vat, excl_vat, incl_vat, tariff_element, reservation)
    SELECT ?1, j.key, j.value->>'dimension', j.value->>'period_start', j.value->>'quantity', j.value->>'unit_price',
      j.value->>'vat', j.value->>'excl_vat', j.value->>'incl_vat', j.value->>'tariff_element', COALESCE(j.value->>'reservation', 0)
    FROM jsonb_each(?2) AS j`,
  // Gapless per year: the next number is taken inside the same transaction as the stop.
  invoice: `INSERT INTO invoices (id, session_id, year, seq, number, issued_at, currency, total_excl_vat, total_incl_vat, vat_json)
    SELECT ?1, ?1, ?2, n.seq, printf('%d-%06d', ?2, n.seq), ?3, ?4, ?5, ?6, ?7
    FROM (SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM invoices WHERE year = ?2) AS n`,
  // The JSON is the OCPI object as published; it is never updated (see the cdrs triggers).
  cdr: `INSERT INTO cdrs (id, session_id, credit, credit_reference_id, last_updated, currency, total_excl_vat, total_incl_vat, json)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)`,
  unmatchedStop: `INSERT OR IGNORE INTO unmatched_stops (charger_id, transaction_id, id_tag, timestamp, meter_stop, reason, transaction_data, received_at)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)`,
  sessionClosedWithoutStop: `UPDATE sessions SET close_reason = ?2 WHERE id = ?1`,
  // The first late stop is kept; a repeated one changes nothing.
  sessionLateStop: `UPDATE sessions SET late_stop = ?2, flags = json_insert(flags, '$[#]', 'late-stop')
    WHERE id = ?1 AND late_stop IS NULL AND close_reason IS NOT NULL`,
} as const;

/**
 * Multi-row forms (see multi-row.ts) of the writes a busy back end makes: a group-commit batch
 * whose writes all have one runs as one statement per kind of write.
 */
const MULTI_ROW_SQL: Partial<Record<WriteName, { sql: string; keyParam?: number }>> = {
  chargerBoot: { sql: insertFromJsonRows(WRITE_SQL.chargerBoot) },
  chargerEnsure: { sql: insertFromJsonRows(WRITE_SQL.chargerEnsure) },
  chargerAdmin: { sql: insertFromJsonRows(WRITE_SQL.chargerAdmin) },
  chargerHeartbeat: {
    sql: `UPDATE chargers SET last_heartbeat_at = u.value->>1 FROM jsonb_each(?1) AS u WHERE chargers.id = u.value->>0`,
    keyParam: 0,
  },
  status: { sql: insertFromJsonRows(WRITE_SQL.status) },
  token: { sql: insertFromJsonRows(WRITE_SQL.token) },
  sessionStart: { sql: insertFromJsonRows(WRITE_SQL.sessionStart) },
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
  cdr: { sql: insertFromJsonRows(WRITE_SQL.cdr) },
  unmatchedStop: { sql: insertFromJsonRows(WRITE_SQL.unmatchedStop) },
};

const READ_SQL = {
  sessionById: `SELECT * FROM sessions WHERE id = ?1`,
  sessionByKey: `SELECT * FROM sessions WHERE charger_id = ?1 AND connector_id = ?2 AND id_tag = ?3 AND started_at = ?4 AND meter_start = ?5`,
  meterValuesOfSession: `SELECT at, measurand, phase, unit, context, location, format, value, value_wh FROM meter_values
    WHERE session_id = ?1 ORDER BY at, id`,
  costLinesOfSession: `SELECT * FROM cost_lines WHERE session_id = ?1 ORDER BY idx`,
  invoiceById: `SELECT * FROM invoices WHERE id = ?1`,
  cdrById: `SELECT * FROM cdrs WHERE id = ?1`,
  cdrsOfSession: `SELECT * FROM cdrs WHERE session_id = ?1 ORDER BY seq`,
  statusHistory: `SELECT connector_id, status, error_code, at, received_at FROM status_history WHERE charger_id = ?1 ORDER BY id`,
  statusHistoryConnector: `SELECT connector_id, status, error_code, at, received_at FROM status_history
    WHERE charger_id = ?1 AND connector_id = ?2 ORDER BY id`,
} as const;

/**
 * WAL pages after which a commit checkpoints (SQLite's default is 1,000). That checkpoint runs
 * inside a commit, so the background checkpointer below does the bulk of the copying and the
 * commit's own finds little left. It is the checkpoint most likely to catch up completely, and
 * only then does the next write start the WAL over from its beginning: a background one that
 * copies while commits keep coming rarely does. While the background one runs, the commit's own
 * is skipped (busy) and the next commit tries again. A large WAL copies a page rewritten by many
 * commits once: at 1,000 tx/s the disk took 54 MB/s of writes against 77 with 1,000 pages.
 */
export const WAL_CHECKPOINT_PAGES = 10_000;

/**
 * How often a connection of its own copies committed WAL pages into the database file
 * (a PASSIVE checkpoint: it never waits for, or blocks, the writer). Inside a commit, the
 * copying and its two fsyncs held up every message of that batch for about 25 ms per
 * checkpoint at 1,000 tx/s.
 */
export const BACKGROUND_CHECKPOINT_MS = 200;

/** What the last background checkpoint that ran reported, in WAL frames. */
export interface CheckpointResult {
  /** Frames in the WAL when it ran. */
  log: number;
  /** Frames copied into the database file so far (all of them once it caught up). */
  checkpointed: number;
  /** Commits when it started: it copied every one of them. */
  atCommits: number;
}

/**
 * How often connector_status catches up with status_history: a few dozen pages rewritten once
 * per interval instead of one page per StatusNotification. Reads fold first, so they are exact.
 */
export const CONNECTOR_STATUS_FOLD_MS = 5_000;

export type WriteName = keyof typeof WRITE_SQL;
export type ReadName = keyof typeof READ_SQL;

export interface StoreStats extends WriteStats {
  /** Background checkpoints run. */
  backgroundCheckpoints: number;
  /** Background checkpoints that found another one running (busy), or failed. */
  skippedCheckpoints: number;
  lastCheckpoint: CheckpointResult | null;
}

export interface StoreOptions {
  maxBatch?: number;
  /** false runs every batch unit by unit (the reference the merged form must equal). */
  multiRow?: boolean;
  /** Background checkpoint interval (BACKGROUND_CHECKPOINT_MS). */
  checkpointEveryMs?: number;
}

export class Store {
  private readonly foldTimer: NodeJS.Timeout;
  private foldedAtUnits = -1;
  private readonly checkpointTimer: NodeJS.Timeout;
  private checkpointedAtCommits = 0;
  private checkpointing: Promise<void> | null = null;
  private backgroundCheckpoints = 0;
  private skippedCheckpoints = 0;
  private lastCheckpoint: CheckpointResult | null = null;

  private constructor(
    readonly writer: Db,
    readonly reader: Db,
    private readonly checkpointer: Db,
    readonly queue: WriteQueue,
    private readonly w: Record<WriteName, Stmt>,
    private readonly r: Record<ReadName, Stmt>,
    checkpointEveryMs: number,
  ) {
    this.foldTimer = setInterval(() => {
      // Only when something was submitted since the last fold.
      if (this.queue.stats.units !== this.foldedAtUnits) this.foldConnectorStatus().catch(() => undefined);
    }, CONNECTOR_STATUS_FOLD_MS);
    this.foldTimer.unref();
    this.checkpointTimer = setInterval(() => {
      if (this.queue.stats.commits !== this.checkpointedAtCommits) void this.checkpoint();
    }, checkpointEveryMs);
    this.checkpointTimer.unref();
  }

  static async open(path: string, opts: StoreOptions = {}): Promise<Store> {
    const writer = await Db.open(path);
    writer.raw.configure('busyTimeout', 5000);
    await writer.exec('PRAGMA journal_mode = WAL');
    await writer.exec('PRAGMA synchronous = NORMAL');
    await writer.exec('PRAGMA foreign_keys = OFF');
    await writer.exec('PRAGMA temp_store = MEMORY');
    await writer.exec(`PRAGMA wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`);
    await migrate(writer);
    const reader = await Db.open(path, true);
    reader.raw.configure('busyTimeout', 5000);
    const w = {} as Record<WriteName, Stmt>;
    for (const k of Object.keys(WRITE_SQL) as WriteName[]) w[k] = await writer.prepare(WRITE_SQL[k]);
    const r = {} as Record<ReadName, Stmt>;
    for (const k of Object.keys(READ_SQL) as ReadName[]) r[k] = await reader.prepare(READ_SQL[k]);
    const multiRow = new Map<Stmt, MultiRowSql>();
    for (const k of opts.multiRow === false ? [] : (Object.keys(MULTI_ROW_SQL) as WriteName[])) {
      const m = MULTI_ROW_SQL[k]!;
      multiRow.set(w[k], new MultiRowSql(m.sql, m.keyParam));
    }
    const queue = await WriteQueue.create(writer, opts.maxBatch ?? 500, multiRow);
    const checkpointer = await Db.open(path);
    const store = new Store(writer, reader, checkpointer, queue, w, r, opts.checkpointEveryMs ?? BACKGROUND_CHECKPOINT_MS);
    try {
      // Statuses committed after the last fold, before a crash, are folded now.
      await store.foldConnectorStatus();
    } catch (err) {
      await store.close().catch(() => undefined);
      throw err;
    }
    return store;
  }

  /** Brings connector_status up to the latest committed status of each connector. */
  async foldConnectorStatus(): Promise<void> {
    // Every unit submitted before this one is in the fold: the queue commits in order.
    const upto = this.queue.stats.units + 1;
    await this.queue.submit([this.op('connectorStatusFold', []), this.op('connectorStatusFoldMark', [])], { alone: true });
    this.foldedAtUnits = upto;
  }

  /**
   * Copies committed WAL pages into the database file on the checkpoint connection, without
   * holding up the writer. One at a time; a call while one runs waits for that one.
   */
  private checkpoint(): Promise<void> {
    if (this.checkpointing) return this.checkpointing;
    const commits = this.queue.stats.commits;
    this.checkpointing = this.checkpointer
      .all<{ busy: number; log: number; checkpointed: number }>('PRAGMA wal_checkpoint(PASSIVE)')
      .then(
        ([row]) => {
          // busy = 1 (log and checkpointed -1): the commit's own checkpoint holds the lock; the next turn copies.
          if (!row || row.busy !== 0 || row.log < 0) {
            this.skippedCheckpoints++;
            return;
          }
          this.checkpointedAtCommits = commits;
          this.backgroundCheckpoints++;
          this.lastCheckpoint = { log: row.log, checkpointed: row.checkpointed, atCommits: commits };
        },
        () => {
          // An I/O error here would show in the next commit too; counted, and tried again next turn.
          this.skippedCheckpoints++;
        },
      )
      .finally(() => {
        this.checkpointing = null;
      });
    return this.checkpointing;
  }

  /** One write of a unit of work. */
  op(name: WriteName, params: unknown[]): Op {
    return [this.w[name], params];
  }

  /** Submit a unit of work; resolves when committed. */
  commit(...ops: Op[]): Promise<void> {
    return this.queue.submit(ops);
  }

  read<T>(name: ReadName, params: unknown[]): Promise<T | undefined> {
    return this.r[name].get<T>(params);
  }

  readAll<T>(name: ReadName, params: unknown[]): Promise<T[]> {
    return this.r[name].all<T>(params);
  }

  /** Ad-hoc read (HTTP API filters, start-up hydration). */
  query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.reader.all<T>(sql, params);
  }

  /** Reads on the writer connection, only between batches (used at start-up). */
  queryWriter<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.writer.all<T>(sql, params);
  }

  stats(): StoreStats {
    return {
      ...this.queue.stats,
      queued: this.queue.queued,
      backgroundCheckpoints: this.backgroundCheckpoints,
      skippedCheckpoints: this.skippedCheckpoints,
      lastCheckpoint: this.lastCheckpoint,
    };
  }

  async close(): Promise<void> {
    clearInterval(this.foldTimer);
    clearInterval(this.checkpointTimer);
    await this.queue.drain();
    await this.foldConnectorStatus().catch(() => undefined);
    await this.queue.close();
    await this.checkpointing;
    await this.checkpointer.close();
    await this.reader.close();
    // Fold the WAL back into the main file so the db file alone is complete.
    await this.writer.exec('PRAGMA wal_checkpoint(TRUNCATE)').catch(() => undefined);
    await this.writer.close();
  }
}
