// The back end's sqlite3 store: one write connection (group commit through WriteQueue,
// prepared statements built once), one read-only connection for the HTTP API and
// look-ups of committed rows, and one that checkpoints the WAL in the background. WAL lets
// the reader see every committed batch while the writer works.
import { Db, type Stmt } from './db.js';
import { migrate } from './migrations.js';
import { MultiRowSql } from './multi-row.js';
import { WriteQueue, type Op, type WriteStats } from './write-queue.js';
import { MULTI_ROW_SQL, WRITES, type WriteFields, type WriteName } from './writes.js';

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

export type { WriteName } from './writes.js';
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

/** One typed write per statement: its named fields in, the Op of a unit of work out. */
export type Writes = { readonly [K in WriteName]: (fields: WriteFields<K>) => Op };

export class Store {
  readonly writes: Writes;
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
    this.writes = bindWrites(w);
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
    for (const k of Object.keys(WRITES) as WriteName[]) w[k] = await writer.prepare(WRITES[k].sql);
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
    await this.queue.submit([this.writes.connectorStatusFold({}), this.writes.connectorStatusFoldMark({})], { alone: true });
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

  /**
   * One write from its positional parameters, in the order of its SQL: the raw form the store's
   * own tests drive the queue with. The back end writes through `writes`.
   */
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

/** Each statement's typed write: the prepared statement and its parameter order, bound once. */
function bindWrites(w: Record<WriteName, Stmt>): Writes {
  const out = {} as Record<WriteName, (fields: never) => Op>;
  for (const k of Object.keys(WRITES) as WriteName[]) {
    const stmt = w[k];
    const params = WRITES[k].params as (fields: never) => unknown[];
    out[k] = (fields) => [stmt, params(fields)];
  }
  return out as unknown as Writes;
}
