// Multi-row forms of write statements: one statement applied to a JSON array of parameter
// lists, so a group-commit batch needs one statement per kind of write instead of one per
// write. In a multi-row form, `?N` of the one-row statement reads `u.value->>(N-1)` and the
// array itself is `?1`, which is filled in as a SQL string literal (see MultiRowSql.withRows).
import type { SqlParams } from './db.js';

export class MultiRowSql {
  private readonly before: string;
  private readonly after: string;

  /**
   * keyParam, for an UPDATE: the parameter that names the row. UPDATE ... FROM applies one
   * arbitrary row per target, so a batch that names a row twice cannot use this form.
   */
  constructor(
    sql: string,
    readonly keyParam?: number,
  ) {
    const parts = sql.split('?1');
    if (parts.length !== 2 || /\?\d/.test(sql.replace('?1', ''))) {
      throw new Error(`a multi-row statement takes its rows as ?1, once, and no other parameter:\n${sql}`);
    }
    [this.before, this.after] = parts;
  }

  /** The statement with its rows inlined as a string literal. */
  withRows(rows: readonly SqlParams[]): string {
    return `${this.before}'${JSON.stringify(rows).replaceAll("'", "''")}'${this.after}`;
  }
}

/** `?N` -> `(u.value->>N-1)`: the N-th parameter of row `u` of the JSON array. */
export function paramsFromJsonRow(sql: string, alias = 'u'): string {
  return sql.replace(/\?(\d+)/g, (_, n: string) => `(${alias}.value->>${Number(n) - 1})`);
}

/**
 * `INSERT ... VALUES (?1, ...) [ON CONFLICT ...]` as `INSERT ... SELECT ... FROM jsonb_each(?1)`,
 * rows inserted in array order (an upsert later in the array sees the earlier rows, as in
 * one-by-one execution). `WHERE true` keeps an upsert's ON from parsing as a join constraint.
 * jsonb_each hands each row over as binary JSON: json_each would turn the row back into text for
 * every `->>` that reads a column of it (about a third more sqlite CPU per wide row).
 */
export function insertFromJsonRows(sql: string): string {
  const m = /^([\s\S]*?)\bVALUES\s*\(([^()]*)\)([\s\S]*)$/.exec(sql);
  if (!m) throw new Error(`not a one-row INSERT ... VALUES (...) without nested parentheses:\n${sql}`);
  const [, head, values, tail] = m;
  return `${head}SELECT ${paramsFromJsonRow(values)} FROM jsonb_each(?1) AS u WHERE true ORDER BY u.key${paramsFromJsonRow(tail)}`;
}

/**
 * Whether a parameter list survives a JSON round trip into exactly what binding it directly
 * would store: null, booleans, finite numbers and well-formed strings without NUL.
 */
export function jsonExact(params: SqlParams): boolean {
  for (const p of params) {
    if (p === null || p === undefined || typeof p === 'boolean') continue;
    if (typeof p === 'number') {
      if (!Number.isFinite(p)) return false;
      continue;
    }
    if (typeof p !== 'string') return false;
    if (p.includes('\u0000') || !(p as string & { isWellFormed(): boolean }).isWellFormed()) return false;
  }
  return true;
}
