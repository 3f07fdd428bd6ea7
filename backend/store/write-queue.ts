// Group commit. Handlers submit their writes as one unit of work (an ordered list of
// prepared statements with parameters). A single flusher runs every pending unit inside
// one BEGIN ... COMMIT and resolves the units only once COMMIT has returned, so a message
// is durable (WAL, synchronous=NORMAL) before it is answered, and concurrent messages share
// one transaction. A unit of more than one statement runs inside its own SAVEPOINT so a
// failing unit is rolled back alone; a single statement is atomic by itself in SQLite.
//
// Each statement is a round trip through sqlite3's thread pool, and under load every round
// trip waits for a turn of a busy event loop. So a batch first tries the merged plan: every
// kind of write in the batch as one multi-row statement (kinds in order of first appearance,
// rows in submission order), the whole BEGIN ... COMMIT sent as one script, one round trip.
// If it fails, nothing of it is kept and the batch runs again unit by unit as above.
import type { Db, SqlParams, Stmt } from './db.js';
import { jsonExact, type MultiRowSql } from './multi-row.js';

export type Op = readonly [Stmt, SqlParams];

interface Unit {
  ops: readonly Op[];
  /** Runs as a batch of its own (its writes have no multi-row form; the batches around it stay merged). */
  alone: boolean;
  resolve: () => void;
  reject: (err: Error) => void;
  error: Error | null;
}

export interface WriteStats {
  /** Units of work submitted. */
  units: number;
  /** Units that committed. */
  committedUnits: number;
  /** Units rolled back on their own (their SAVEPOINT), the rest of their batch committed. */
  failedUnits: number;
  /** Transactions committed. */
  commits: number;
  /** Transactions that failed to commit (all their units were rejected). */
  failedCommits: number;
  /** Batches written as merged multi-row statements. */
  mergedBatches: number;
  /** Merged batches that failed and ran again unit by unit. */
  mergeRetries: number;
  /** Largest batch so far. */
  maxBatch: number;
  /** Units waiting right now. */
  queued: number;
}

export class WriteQueue {
  private pending: Unit[] = [];
  private running = false;
  private scheduled = false;
  private idleWaiters: Array<() => void> = [];
  private closed = false;
  readonly stats: WriteStats = {
    units: 0,
    committedUnits: 0,
    failedUnits: 0,
    commits: 0,
    failedCommits: 0,
    mergedBatches: 0,
    mergeRetries: 0,
    maxBatch: 0,
    queued: 0,
  };

  private constructor(
    private readonly db: Db,
    private readonly maxBatch: number,
    private readonly begin: Stmt,
    private readonly commit: Stmt,
    private readonly rollback: Stmt,
    private readonly savepoint: Stmt,
    private readonly release: Stmt,
    private readonly rollbackTo: Stmt,
    private readonly multiRow: ReadonlyMap<Stmt, MultiRowSql>,
  ) {}

  /** multiRow: the multi-row form of each statement that has one; a batch using any other runs unit by unit. */
  static async create(db: Db, maxBatch = 500, multiRow: ReadonlyMap<Stmt, MultiRowSql> = new Map()): Promise<WriteQueue> {
    return new WriteQueue(
      db,
      maxBatch,
      await db.prepare('BEGIN'),
      await db.prepare('COMMIT'),
      await db.prepare('ROLLBACK'),
      await db.prepare('SAVEPOINT unit'),
      await db.prepare('RELEASE unit'),
      await db.prepare('ROLLBACK TO unit'),
      multiRow,
    );
  }

  /**
   * Resolves once the unit is committed; rejects if the unit (or its batch's COMMIT) failed.
   * opts.alone: the unit is its own batch, for an occasional write without a multi-row form.
   */
  submit(ops: readonly Op[], opts: { alone?: boolean } = {}): Promise<void> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    if (ops.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ ops, alone: opts.alone === true, resolve, reject, error: null });
      this.stats.units++;
      if (!this.running && !this.scheduled) {
        this.scheduled = true;
        // Let the other messages already read from the sockets join this batch.
        setImmediate(() => {
          this.scheduled = false;
          void this.flushLoop();
        });
      }
    });
  }

  /** Waits until nothing is queued or running. */
  drain(): Promise<void> {
    if (!this.running && !this.scheduled && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async close(): Promise<void> {
    await this.drain();
    this.closed = true;
  }

  get queued(): number {
    return this.pending.length;
  }

  private async flushLoop(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.pending.length > 0) {
        const aloneAt = this.pending.findIndex((u) => u.alone);
        const size = aloneAt === 0 ? 1 : Math.min(this.maxBatch, aloneAt === -1 ? this.pending.length : aloneAt);
        const batch = size === this.pending.length ? this.pending : this.pending.slice(0, size);
        this.pending = size === this.pending.length ? [] : this.pending.slice(size);
        if (batch.length > this.stats.maxBatch) this.stats.maxBatch = batch.length;
        await this.runBatch(batch);
      }
    } finally {
      this.running = false;
      if (!this.scheduled && this.pending.length === 0) {
        const waiters = this.idleWaiters.splice(0);
        for (const w of waiters) w();
      }
    }
  }

  private async runBatch(batch: Unit[]): Promise<void> {
    const merged = this.mergedPlan(batch);
    if (merged) {
      const script = `BEGIN;\n${merged.map((g) => g.multi.withRows(g.rows)).join(';\n')};\nCOMMIT;`;
      try {
        await this.db.exec(script);
        this.stats.mergedBatches++;
        this.stats.commits++;
        this.stats.committedUnits += batch.length;
        for (const u of batch) u.resolve();
        return;
      } catch {
        // Some unit is bad (or the commit failed): undo all of it, then unit by unit, so a bad unit fails alone.
        this.stats.mergeRetries++;
        await this.rollback.run([]).catch(() => undefined);
      }
    }
    try {
      await this.begin.run([]);
    } catch (err) {
      this.stats.failedCommits++;
      for (const u of batch) u.reject(err as Error);
      return;
    }
    try {
      await this.runUnitByUnit(batch);
      await this.commit.run([]);
    } catch (err) {
      this.stats.failedCommits++;
      await this.rollback.run([]).catch(() => undefined);
      for (const u of batch) u.reject(err as Error);
      return;
    }
    this.stats.commits++;
    for (const u of batch) {
      if (u.error) {
        this.stats.failedUnits++;
        u.reject(u.error);
      } else {
        this.stats.committedUnits++;
        u.resolve();
      }
    }
  }

  /** The batch as one group per kind of write, or null when some write has no exact multi-row form. */
  private mergedPlan(batch: Unit[]): MergedGroup[] | null {
    const groups = new Map<Stmt, MergedGroup>();
    for (const unit of batch) {
      for (const [st, params] of unit.ops) {
        let g = groups.get(st);
        if (!g) {
          const multi = this.multiRow.get(st);
          if (!multi) return null;
          g = { multi, rows: [], keys: multi.keyParam === undefined ? null : new Set() };
          groups.set(st, g);
        }
        if (!jsonExact(params)) return null;
        if (g.keys) {
          const key = params[g.multi.keyParam!];
          if (g.keys.has(key)) return null;
          g.keys.add(key);
        }
        g.rows.push(params);
      }
    }
    return [...groups.values()];
  }

  private async runUnitByUnit(batch: Unit[]): Promise<void> {
    for (const unit of batch) {
      unit.error = null;
      if (unit.ops.length === 1) {
        const [st, params] = unit.ops[0];
        try {
          await st.run(params);
        } catch (err) {
          unit.error = err as Error;
        }
        continue;
      }
      await this.savepoint.run([]);
      try {
        for (const [st, params] of unit.ops) await st.run(params);
        await this.release.run([]);
      } catch (err) {
        unit.error = err as Error;
        await this.rollbackTo.run([]);
        await this.release.run([]);
      }
    }
  }
}

/** All writes of one statement in a batch, in submission order. */
interface MergedGroup {
  multi: MultiRowSql;
  rows: SqlParams[];
  /** Rows named so far, for a keyed UPDATE. */
  keys: Set<unknown> | null;
}
