// Group commit with merged batches: one multi-row statement per kind of write, the whole
// batch in one round trip; a bad unit still fails alone, order and results are those of
// running the units one by one.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Db, type Stmt } from '../backend/store/db.js';
import { insertFromJsonRows, jsonExact, MultiRowSql } from '../backend/store/multi-row.js';
import { Store } from '../backend/store/store.js';
import { WriteQueue } from '../backend/store/write-queue.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cb-write-batching-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const INSERT_T = 'INSERT INTO t (k, v) VALUES (?1, ?2)';
const INSERT_LOG = 'INSERT INTO log (msg) VALUES (?1)';
const UPDATE_T = 'UPDATE t SET v = ?2 WHERE k = ?1';

async function queueDb(name: string): Promise<{ db: Db; q: WriteQueue; ins: Stmt; log: Stmt; upd: Stmt }> {
  const db = await Db.open(join(dir, name));
  await db.exec(`PRAGMA journal_mode = WAL;
    CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL);
    CREATE TABLE log (id INTEGER PRIMARY KEY, msg TEXT NOT NULL)`);
  const ins = await db.prepare(INSERT_T);
  const log = await db.prepare(INSERT_LOG);
  const upd = await db.prepare(UPDATE_T);
  const multi = new Map<Stmt, MultiRowSql>([
    [ins, new MultiRowSql(insertFromJsonRows(INSERT_T))],
    [log, new MultiRowSql(insertFromJsonRows(INSERT_LOG))],
    [upd, new MultiRowSql('UPDATE t SET v = u.value->>1 FROM json_each(?1) AS u WHERE t.k = u.value->>0', 0)],
  ]);
  return { db, q: await WriteQueue.create(db, 500, multi), ins, log, upd };
}

describe('merged group commit', () => {
  it('a batch of many units is one commit in one merged script, rows in submission order', async () => {
    const { db, q, ins, log } = await queueDb('order.db');
    const units = Array.from({ length: 100 }, (_, i) =>
      q.submit(
        i % 3 === 0
          ? [[log, [`m${i}`]]]
          : [
              [ins, [i, `v${i}`]],
              [log, [`t${i}`]],
            ],
      ),
    );
    await Promise.all(units);
    expect(q.stats.commits).toBe(1);
    expect(q.stats.mergedBatches).toBe(1);
    expect(q.stats.committedUnits).toBe(100);
    const logRows = await db.all<{ msg: string }>('SELECT msg FROM log ORDER BY id');
    expect(logRows.map((r) => r.msg)).toEqual(Array.from({ length: 100 }, (_, i) => (i % 3 === 0 ? `m${i}` : `t${i}`)));
    expect((await db.all('SELECT k FROM t')).length).toBe(66);
    await q.close();
    await db.close();
  });

  it('a bad unit in a merged batch fails alone: the batch runs again unit by unit, the others commit', async () => {
    const { db, q, ins, log } = await queueDb('bad.db');
    const results = await Promise.allSettled([
      q.submit([[ins, [1, 'a']]]),
      q.submit([
        [ins, [2, 'b']],
        [log, ['kept only with unit 2']],
        [ins, [3, null]], // NOT NULL: the whole unit is undone
      ]),
      q.submit([[ins, [1, 'duplicate']]]), // primary key clash
      q.submit([
        [ins, [4, 'd']],
        [log, ['d']],
      ]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect(await db.all('SELECT k, v FROM t ORDER BY k')).toEqual([
      { k: 1, v: 'a' },
      { k: 4, v: 'd' },
    ]);
    expect(await db.all('SELECT msg FROM log')).toEqual([{ msg: 'd' }]);
    expect(q.stats).toMatchObject({ commits: 1, mergeRetries: 1, mergedBatches: 0, failedUnits: 2, committedUnits: 2 });
    // The queue goes on merging afterwards.
    await Promise.all([q.submit([[ins, [5, 'e']]]), q.submit([[ins, [6, 'f']]])]);
    expect(q.stats.mergedBatches).toBe(1);
    await q.close();
    await db.close();
  });

  it('an UPDATE naming the same row twice in a batch runs one by one, so the later write wins', async () => {
    const { db, q, ins, upd } = await queueDb('update.db');
    await q.submit([[ins, [1, 'a']]]);
    const before = q.stats.mergedBatches;
    await Promise.all([q.submit([[upd, [1, 'first']]]), q.submit([[upd, [1, 'second']]])]);
    expect(await db.all('SELECT v FROM t')).toEqual([{ v: 'second' }]);
    expect(q.stats.mergedBatches).toBe(before);
    await Promise.all([q.submit([[upd, [1, 'x']]]), q.submit([[ins, [2, 'y']]])]);
    expect(q.stats.mergedBatches).toBe(before + 1);
    expect(await db.all('SELECT k, v FROM t ORDER BY k')).toEqual([
      { k: 1, v: 'x' },
      { k: 2, v: 'y' },
    ]);
    await q.close();
    await db.close();
  });

  it('parameters a JSON round trip would change are written as they are, unmerged', async () => {
    expect(jsonExact(['text', 1, 2.5, null, true])).toBe(true);
    expect(jsonExact(['lone \ud800 surrogate'])).toBe(false);
    expect(jsonExact(['nul \u0000'])).toBe(false);
    expect(jsonExact([Number.NaN])).toBe(false);
    expect(jsonExact([Buffer.from('x')])).toBe(false);
    const { db, q, log } = await queueDb('exact.db');
    await Promise.all([q.submit([[log, ["it's"]]]), q.submit([[log, ['lone \ud800']]])]);
    expect(q.stats.mergedBatches).toBe(0);
    await Promise.all([q.submit([[log, ['quote \' and "json" \\ text']]]), q.submit([[log, ['ünïcödé ✓ 😀']]])]);
    expect(q.stats.mergedBatches).toBe(1);
    const rows = await db.all<{ msg: string }>('SELECT msg FROM log ORDER BY id');
    expect(rows.map((r) => r.msg)).toEqual(["it's", 'lone \ufffd', 'quote \' and "json" \\ text', 'ünïcödé ✓ 😀']);
    await q.close();
    await db.close();
  });

  it("the back end's writes merged give exactly the rows that unit-by-unit execution gives", async () => {
    const run = async (name: string, multiRow: boolean): Promise<Record<string, unknown[]>> => {
      const s = await Store.open(join(dir, name), { multiRow });
      const at = (m: number): string => new Date(Date.UTC(2026, 2, 2, 8, m)).toISOString();
      // A first invoice in 2026 so that merged numbering must continue from it.
      await s.commit(s.op('invoice', [900, 2026, at(0), 'EUR', '1.00', '1.19', '[]']));
      await s.commit(s.op('chargerEnsure', ['C1', at(0)]));
      const units: Promise<void>[] = [];
      for (let i = 1; i <= 6; i++) {
        units.push(s.commit(s.op('status', ['C1', i, 'Charging', 'NoError', null, null, null, at(i), 1, at(i)])));
        units.push(s.commit(s.op('sessionStart', [i, 'C1', i, `T${i}`, at(i), 100 * i, null, 1, 'tar', 'UTC', at(i), 'default', null, null, 'WHITELIST'])));
        units.push(
          s.commit(
            s.op('meterValues', [
              i,
              'C1',
              i,
              'MeterValues',
              at(i),
              JSON.stringify([
                [at(i), null, 'Energy.Active.Import.Register', null, 'Wh', null, null, `${i}`, i],
                [at(i), 'Sample.Periodic', 'Power.Active.Import', 'L1', 'W', null, null, '7000', null],
              ]),
            ]),
          ),
        );
        units.push(s.commit(s.op('chargerHeartbeat', ['C1', at(i)])).catch(() => undefined));
      }
      await Promise.all(units);
      const stops: Promise<void>[] = [];
      for (let i = 1; i <= 6; i++) {
        const lines = [
          {
            dimension: 'ENERGY',
            period_start: at(i),
            quantity: '1.5',
            unit_price: '0.39',
            vat: '19',
            excl_vat: '0.585',
            incl_vat: '0.69615',
            tariff_element: 0,
          },
        ];
        stops.push(
          s.commit(
            s.op('sessionStop', [i, at(i + 10), 1000 * i, 'Local', null, '{}', 900, 600, 0, '[]', null, 'EUR', '0.59', '0.70', '{"x":1}', i, at(i + 10)]),
            s.op('costLines', [i, JSON.stringify(lines)]),
            // Two years in one batch: each numbered on its own.
            s.op('invoice', [i, i % 2 === 0 ? 2026 : 2027, at(i + 10), 'EUR', '0.59', '0.70', '[]']),
            s.op('cdr', [String(i), i, 0, null, at(i + 10), 'EUR', '0.59', '0.70', JSON.stringify({ id: String(i), note: "it's" })]),
          ),
        );
      }
      stops.push(s.commit(s.op('unmatchedStop', ['C1', 77, null, at(30), 5, null, null, at(30)])));
      await Promise.all(stops);
      await s.foldConnectorStatus();
      const stats = s.stats();
      const dump: Record<string, unknown[]> = { stats: [multiRow ? stats.mergedBatches > 0 : stats.mergedBatches === 0] };
      for (const [table, order] of [
        ['chargers', 'id'],
        ['status_history', 'id'],
        ['connector_status', 'charger_id, connector_id'],
        ['sessions', 'id'],
        ['meter_values', 'id'],
        ['cost_lines', 'session_id, idx'],
        ['invoices', 'id'],
        ['cdrs', 'seq'],
        ['unmatched_stops', 'transaction_id'],
      ]) {
        dump[table] = await s.queryWriter(`SELECT * FROM ${table} ORDER BY ${order}`);
      }
      await s.close();
      return dump;
    };
    const merged = await run('merged.db', true);
    const oneByOne = await run('one-by-one.db', false);
    expect(merged.stats).toEqual([true]);
    expect(oneByOne.stats).toEqual([true]);
    expect(merged).toEqual(oneByOne);
    expect((merged.invoices as Array<{ number: string }>).map((r) => r.number).sort()).toEqual([
      '2026-000001',
      '2026-000002',
      '2026-000003',
      '2026-000004',
      '2027-000001',
      '2027-000002',
      '2027-000003',
    ]);
    expect(merged.meter_values.length).toBe(12);
  });
});
