// Store: WAL + migrations, group commit, unit isolation, durability across close/reopen.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend } from '../backend/server.js';
import { Db } from '../backend/store/db.js';
import { MIGRATIONS } from '../backend/store/migrations.js';
import { Store, WAL_CHECKPOINT_PAGES } from '../backend/store/store.js';
import { WriteQueue } from '../backend/store/write-queue.js';
import { testCharger } from './helpers/test-charger.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cb-backend-store-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('store', () => {
  it('opens in WAL mode, with its own checkpoint threshold and the schema at the latest version, and reopening migrates nothing', async () => {
    const path = join(dir, 'schema.db');
    const s = await Store.open(path);
    const [jm] = await s.queryWriter<{ journal_mode: string }>('PRAGMA journal_mode');
    const [uv] = await s.queryWriter<{ user_version: number }>('PRAGMA user_version');
    const [cp] = await s.queryWriter<{ wal_autocheckpoint: number }>('PRAGMA wal_autocheckpoint');
    expect(jm.journal_mode).toBe('wal');
    expect(cp.wal_autocheckpoint).toBe(WAL_CHECKPOINT_PAGES);
    expect(uv.user_version).toBe(MIGRATIONS.length);
    await s.close();
    const again = await Store.open(path);
    const [uv2] = await again.queryWriter<{ user_version: number }>('PRAGMA user_version');
    expect(uv2.user_version).toBe(MIGRATIONS.length);
    await again.close();
  });

  it("one unique start key serves a retried start and a charger's sessions by time; no second index per charger", async () => {
    const s = await Store.open(join(dir, 'sessions-index.db'));
    const indexes = await s.queryWriter<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'sessions' ORDER BY name");
    expect(indexes.map((i) => i.name)).toEqual(['sessions_active', 'sessions_id_tag', 'sessions_start_key', 'sessions_started', 'sessions_token_group']);
    const plan = async (sql: string) => (await s.queryWriter<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)).map((r) => r.detail).join('; ');
    expect(await plan("SELECT * FROM sessions WHERE charger_id = 'A' AND started_at >= '2026-01-01' ORDER BY id")).toMatch(
      /USING INDEX sessions_start_key \(charger_id=\? AND started_at>\?\)/,
    );
    expect(await plan("SELECT * FROM sessions WHERE charger_id = 'A' AND connector_id = 1 AND id_tag = 'T' AND started_at = 'x' AND meter_start = 0")).toMatch(
      /USING INDEX sessions_start_key \(charger_id=\? AND started_at=\? AND connector_id=\? AND id_tag=\? AND meter_start=\?\)/,
    );
    const insert = `INSERT INTO sessions (id, charger_id, connector_id, id_tag, state, started_at, meter_start, time_zone, received_at)
      VALUES (?1, 'A', 1, 'T', 'active', '2026-01-01T10:00:00.000Z', 100, 'UTC', '2026-01-01T10:00:00.000Z')`;
    await s.queryWriter(insert, [1]);
    await expect(s.queryWriter(insert, [2])).rejects.toThrow(/UNIQUE constraint failed/);
    await s.close();
  });

  it('connector_status is folded from the history, last received first: on demand, and on opening after statuses the last fold missed', async () => {
    const path = join(dir, 'fold.db');
    const current = async (st: Store) =>
      st.queryWriter<{ connector_id: number; status: string; at: string }>(
        "SELECT connector_id, status, at FROM connector_status WHERE charger_id = 'F1' ORDER BY connector_id",
      );
    const status = (st: Store, connector: number, value: string, at: string) =>
      st.commit(st.op('status', ['F1', connector, value, 'NoError', null, null, null, at, 1, at]));
    const s = await Store.open(path);
    await status(s, 1, 'Charging', '2026-03-02T10:05:00.000Z');
    // Sent later with an earlier timestamp: arrival order decides, as a trigger per row did.
    await status(s, 1, 'Available', '2026-03-02T10:00:00.000Z');
    await status(s, 2, 'Faulted', '2026-03-02T10:01:00.000Z');
    expect(await current(s)).toEqual([]);
    await s.foldConnectorStatus();
    expect(await current(s)).toEqual([
      { connector_id: 1, status: 'Available', at: '2026-03-02T10:00:00.000Z' },
      { connector_id: 2, status: 'Faulted', at: '2026-03-02T10:01:00.000Z' },
    ]);
    await s.close();
    // A status committed after the last fold, then the process died: the next open folds it.
    const raw = await Db.open(path);
    await raw.run(
      "INSERT INTO status_history (charger_id, connector_id, status, error_code, at, at_from_message, received_at) VALUES ('F1', 2, 'Available', 'NoError', ?1, 1, ?1)",
      ['2026-03-02T10:02:00.000Z'],
    );
    await raw.close();
    const again = await Store.open(path);
    expect((await current(again)).map((r) => r.status)).toEqual(['Available', 'Available']);
    await again.close();
  });

  it('a connection of its own copies committed WAL pages into the database file on its timer, while the store stays open', async () => {
    const path = join(dir, 'checkpoint.db');
    const s = await Store.open(path, { checkpointEveryMs: 20 });
    const status = (i: number) =>
      s.commit(s.op('status', ['K1', 1, 'Charging', 'NoError', null, null, null, `2026-03-02T10:00:${String(i).padStart(2, '0')}.000Z`, 1, 'x']));
    await Promise.all(Array.from({ length: 50 }, (_, i) => status(i)));
    // Far below WAL_CHECKPOINT_PAGES: no commit checkpoints on its own. Wait for a background
    // checkpoint that started after the last commit.
    const committed = s.stats().commits;
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && s.stats().lastCheckpoint?.atCommits !== committed) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const cp = s.stats().lastCheckpoint!;
    expect(cp.atCommits).toBe(committed);
    expect(cp.log).toBeGreaterThan(0);
    expect(cp.checkpointed).toBe(cp.log);
    // The database file alone, without its WAL, already holds every status.
    const copy = join(dir, 'checkpoint-copy.db');
    copyFileSync(path, copy);
    const raw = await Db.open(copy, true);
    expect(await raw.all("SELECT COUNT(*) AS n FROM status_history WHERE charger_id = 'K1'")).toEqual([{ n: 50 }]);
    await raw.close();
    await s.close();
  });

  it('a fold is a batch of its own, so the statuses around it still commit merged', async () => {
    const s = await Store.open(join(dir, 'fold-alone.db'));
    const before = s.stats();
    const status = (i: number) =>
      s.commit(
        s.op('status', [
          'A1',
          1 + (i % 2),
          i % 3 === 0 ? 'Charging' : 'Available',
          'NoError',
          null,
          null,
          null,
          `2026-03-02T10:00:${String(i).padStart(2, '0')}.000Z`,
          1,
          'x',
        ]),
      );
    const units = [...Array.from({ length: 10 }, (_, i) => status(i)), s.foldConnectorStatus(), ...Array.from({ length: 10 }, (_, i) => status(10 + i))];
    await Promise.all(units);
    const after = s.stats();
    expect(after.commits - before.commits).toBe(3);
    expect(after.mergedBatches - before.mergedBatches).toBe(2);
    // The fold saw the ten statuses before it: connector 1 last had i = 8, connector 2 i = 9.
    expect(await s.queryWriter("SELECT connector_id, status FROM connector_status WHERE charger_id = 'A1' ORDER BY connector_id")).toEqual([
      { connector_id: 1, status: 'Available' },
      { connector_id: 2, status: 'Charging' },
    ]);
    await s.close();
  });

  it('migrating a database whose connector_status a trigger kept marks all of its history folded', async () => {
    const raw = await Db.open(join(dir, 'v3.db'));
    for (const m of MIGRATIONS.slice(0, 3)) await raw.exec(m);
    await raw.exec('PRAGMA user_version = 3');
    for (const [i, value] of ['Preparing', 'Charging'].entries()) {
      await raw.run(
        "INSERT INTO status_history (charger_id, connector_id, status, error_code, at, at_from_message, received_at) VALUES ('M1', 1, ?1, 'NoError', ?2, 1, ?2)",
        [value, `2026-03-02T10:0${i}:00.000Z`],
      );
    }
    await raw.close();
    const s = await Store.open(join(dir, 'v3.db'));
    const [mark] = await s.queryWriter<{ value: string }>("SELECT value FROM settings WHERE key = 'connector_status_folded_upto'");
    expect(Number(mark.value)).toBe(2);
    expect(await s.queryWriter('SELECT charger_id, status FROM connector_status')).toEqual([{ charger_id: 'M1', status: 'Charging' }]);
    const triggers = await s.queryWriter("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'status_history'");
    expect(triggers).toEqual([]);
    await s.close();
  });

  it('a failing unit is rolled back alone; the rest of its batch commits', async () => {
    const db = await Db.open(join(dir, 'queue.db'));
    await db.exec('PRAGMA journal_mode = WAL; CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)');
    const ins = await db.prepare('INSERT INTO t (k, v) VALUES (?1, ?2)');
    const q = await WriteQueue.create(db, 500);
    const results = await Promise.allSettled([
      q.submit([[ins, [1, 'a']]]),
      // two statements, the second violates NOT NULL: the first must be undone too
      q.submit([
        [ins, [2, 'b']],
        [ins, [3, null]],
      ]),
      q.submit([[ins, [1, 'duplicate']]]), // primary key clash, single statement
      q.submit([
        [ins, [4, 'd']],
        [ins, [5, 'e']],
      ]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    const rows = await db.all<{ k: number; v: string }>('SELECT k, v FROM t ORDER BY k');
    expect(rows).toEqual([
      { k: 1, v: 'a' },
      { k: 4, v: 'd' },
      { k: 5, v: 'e' },
    ]);
    expect(q.stats.commits).toBe(1);
    expect(q.stats.failedUnits).toBe(2);
    await q.close();
    await db.close();
  });

  it('group commit: 200 concurrent StartTransactions share far fewer commits than units', async () => {
    const b = await startBackend({ port: 0, dbPath: join(dir, 'group.db'), unknownTagPolicy: 'accept', log: () => undefined });
    const clients = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const c = testCharger(b.port, `CB-GC-${i}`);
        await c.connect();
        return c;
      }),
    );
    // Let the connection-time registrations commit first: wait until the store is quiet.
    for (let last = -1, waited = 0; waited < 5000 && b.stats().committedUnits !== last; waited += 100) {
      last = b.stats().committedUnits;
      await new Promise((r) => setTimeout(r, 100));
    }
    const before = b.stats();
    const calls: Promise<unknown>[] = [];
    for (let n = 0; n < 200; n++) {
      const c = clients[n % 20];
      calls.push(
        c.call(
          'StartTransaction',
          { connectorId: 1 + Math.floor(n / 20), idTag: `T${n}`, meterStart: n, timestamp: '2026-03-02T08:00:00Z' },
          { callTimeoutMs: 20000 },
        ),
      );
    }
    const answers = (await Promise.all(calls)) as Array<{ transactionId: number }>;
    const after = b.stats();
    const ids = new Set(answers.map((a) => a.transactionId));
    expect(ids.size).toBe(200);
    const units = after.committedUnits - before.committedUnits;
    const commits = after.commits - before.commits;
    expect(units).toBe(200);
    expect(commits).toBeLessThan(units / 4);
    expect(after.maxBatch).toBeGreaterThan(1);
    const res = await fetch(`http://127.0.0.1:${b.port}/api/stats`);
    expect(((await res.json()) as any).store.commits).toBe(after.commits);
    await Promise.all(clients.map((c) => c.close({ force: true })));
    await b.close();
  });

  it('durability: after close() and reopen of the same file the sessions, stops and tokens are there', async () => {
    const path = join(dir, 'durable.db');
    const b1 = await startBackend({ port: 0, dbPath: path, log: () => undefined });
    const base1 = `http://127.0.0.1:${b1.port}/api`;
    await fetch(`${base1}/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ idTag: 'DUR-1' }) });
    const c = testCharger(b1.port, 'CB-DUR');
    await c.connect();
    const s1 = (await c.call('StartTransaction', { connectorId: 1, idTag: 'DUR-1', meterStart: 10, timestamp: '2026-03-02T08:00:00Z' })) as any;
    const s2 = (await c.call('StartTransaction', { connectorId: 2, idTag: 'DUR-1', meterStart: 20, timestamp: '2026-03-02T08:05:00Z' })) as any;
    await c.call('MeterValues', {
      connectorId: 2,
      transactionId: s2.transactionId,
      meterValue: [{ timestamp: '2026-03-02T08:30:00Z', sampledValue: [{ value: '1.02', unit: 'kWh' }] }],
    });
    await c.call('StopTransaction', { transactionId: s1.transactionId, meterStop: 1010, timestamp: '2026-03-02T09:00:00Z' });
    await c.close({ force: true });
    await b1.close();

    const b2 = await startBackend({ port: 0, dbPath: path, log: () => undefined });
    const base2 = `http://127.0.0.1:${b2.port}/api`;
    const sessions = (await (await fetch(`${base2}/sessions`)).json()) as any;
    expect(sessions.total).toBe(2);
    expect(sessions.items.map((x: any) => [x.id, x.state, x.energyWh])).toEqual([
      [s1.transactionId, 'completed', 1000],
      [s2.transactionId, 'active', null],
    ]);
    const tokens = (await (await fetch(`${base2}/tokens`)).json()) as any;
    expect(tokens.items.map((t: any) => t.idTag)).toContain('DUR-1');

    // The open session survives the restart: its retried start answers the same id, its
    // stop (with the reading from before the restart) closes it, a new start gets a new id.
    const c2 = testCharger(b2.port, 'CB-DUR');
    await c2.connect();
    const retry = (await c2.call('StartTransaction', { connectorId: 2, idTag: 'DUR-1', meterStart: 20, timestamp: '2026-03-02T08:05:00Z' })) as any;
    expect(retry.transactionId).toBe(s2.transactionId);
    const retryDone = (await c2.call('StartTransaction', { connectorId: 1, idTag: 'DUR-1', meterStart: 10, timestamp: '2026-03-02T08:00:00Z' })) as any;
    expect(retryDone.transactionId).toBe(s1.transactionId);
    // meterStop lost (0): the last trustworthy reading (1020 Wh, from before the restart) counts
    await c2.call('StopTransaction', { transactionId: s2.transactionId, meterStop: 0, timestamp: '2026-03-02T09:00:00Z' });
    const s3 = (await c2.call('StartTransaction', { connectorId: 1, idTag: 'DUR-1', meterStart: 0, timestamp: '2026-03-02T10:00:00Z' })) as any;
    expect(s3.transactionId).toBeGreaterThan(s2.transactionId);
    const one = (await (await fetch(`${base2}/sessions/${s2.transactionId}`)).json()) as any;
    expect(one).toMatchObject({ state: 'completed', energyWh: 1000 });
    expect(one.flags).toContain('missing-stop-reading');
    await c2.close({ force: true });
    await b2.close();
  });
});
