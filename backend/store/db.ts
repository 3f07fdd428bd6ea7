// Promise wrappers around node-sqlite3. Kept minimal: the hot path uses prepared
// statements (Stmt) created once and reused for the life of the connection.
import sqlite3 from 'sqlite3';

export type SqlParams = unknown[];

export interface RunResult {
  lastID: number;
  changes: number;
}

export class Stmt {
  constructor(
    private readonly st: sqlite3.Statement,
    readonly sql: string,
  ) {}

  run(params: SqlParams): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      this.st.run(params, function (this: sqlite3.RunResult, err: Error | null) {
        if (err) reject(err);
        else resolve({ lastID: this.lastID, changes: this.changes });
      });
    });
  }

  /**
   * First row. Implemented with all(): node-sqlite3's Statement#get leaves the statement
   * un-reset, which would pin a WAL read snapshot and make later reads stale.
   */
  get<T>(params: SqlParams): Promise<T | undefined> {
    return new Promise((resolve, reject) => {
      this.st.all(params, (err: Error | null, rows: T[]) => (err ? reject(err) : resolve(rows[0])));
    });
  }

  all<T>(params: SqlParams): Promise<T[]> {
    return new Promise((resolve, reject) => {
      this.st.all(params, (err: Error | null, rows: T[]) => (err ? reject(err) : resolve(rows)));
    });
  }

  finalize(): Promise<void> {
    return new Promise((resolve) => {
      this.st.finalize(() => resolve());
    });
  }
}

export class Db {
  private readonly stmts: Stmt[] = [];

  private constructor(readonly raw: sqlite3.Database) {}

  static open(path: string, readOnly = false): Promise<Db> {
    return new Promise((resolve, reject) => {
      const mode = readOnly ? sqlite3.OPEN_READONLY : sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE;
      const raw = new sqlite3.Database(path, mode, (err) => {
        if (err) reject(new Error(`cannot open sqlite database ${path}: ${err.message}`));
        else resolve(new Db(raw));
      });
    });
  }

  exec(sql: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.raw.exec(sql, (err) => (err ? reject(err) : resolve()));
    });
  }

  run(sql: string, params: SqlParams = []): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      this.raw.run(sql, params, function (this: sqlite3.RunResult, err: Error | null) {
        if (err) reject(err);
        else resolve({ lastID: this.lastID, changes: this.changes });
      });
    });
  }

  get<T>(sql: string, params: SqlParams = []): Promise<T | undefined> {
    return new Promise((resolve, reject) => {
      this.raw.get(sql, params, (err: Error | null, row: T | undefined) => (err ? reject(err) : resolve(row)));
    });
  }

  all<T>(sql: string, params: SqlParams = []): Promise<T[]> {
    return new Promise((resolve, reject) => {
      this.raw.all(sql, params, (err: Error | null, rows: T[]) => (err ? reject(err) : resolve(rows)));
    });
  }

  /** Prepare once; the statement is finalized when the connection closes. */
  prepare(sql: string): Promise<Stmt> {
    return new Promise((resolve, reject) => {
      const st = this.raw.prepare(sql, (err: Error | null) => {
        if (err) reject(new Error(`cannot prepare statement: ${err.message}\n${sql}`));
        else {
          const s = new Stmt(st, sql);
          this.stmts.push(s);
          resolve(s);
        }
      });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.stmts.splice(0).map((s) => s.finalize()));
    await new Promise<void>((resolve, reject) => {
      this.raw.close((err) => (err ? reject(err) : resolve()));
    });
  }
}
