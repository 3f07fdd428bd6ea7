// HTTP API: validation errors name the field, unknown routes and malformed JSON answer
// JSON errors, session filters and pagination.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../backend/server.js';
import { testCharger } from './helpers/test-charger.js';

let dir: string;
let backend: Backend;
let base: string;

async function api(path: string, init?: RequestInit): Promise<{ status: number; body: any }> {
  const res = await fetch(base + path, init);
  expect(res.headers.get('content-type')).toMatch(/application\/json/);
  return { status: res.status, body: await res.json() };
}
const post = (path: string, body: unknown) => api(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cb-backend-api-'));
  backend = await startBackend({ port: 0, dbPath: join(dir, 'api.db'), unknownTagPolicy: 'accept', log: () => undefined });
  base = `http://127.0.0.1:${backend.port}/api`;
});
afterAll(async () => {
  await backend.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('HTTP API', () => {
  it('health', async () => {
    const { status, body } = await api('/health');
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'ok', db: 'ok', version: '0.1.0' });
    expect(typeof body.uptimeSec).toBe('number');
  });

  it('unknown routes answer 404 JSON, malformed JSON 400 JSON', async () => {
    const r1 = await api('/nope');
    expect(r1.status).toBe(404);
    expect(r1.body.error).toBe('not-found');
    const r2 = await api('/tokens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"idTag": ' });
    expect(r2.status).toBe(400);
    expect(r2.body.error).toBe('malformed-json');
    const r3 = await api('/sessions/999999');
    expect(r3.status).toBe(404);
  });

  it('token validation names the field', async () => {
    expect((await post('/tokens', { idTag: 'X'.repeat(21) })).body.field).toBe('idTag');
    expect((await post('/tokens', { idTag: 'A', status: 'Maybe' })).body.field).toBe('status');
    expect((await post('/tokens', [{ idTag: 'A' }, { idTag: 'B', expiryDate: 'soon' }])).body).toMatchObject({
      error: 'invalid-request',
      field: '[1].expiryDate',
    });
    expect((await post('/tokens', { idTag: 'A', colour: 'red' })).body.field).toBe('colour');
    const ok = await post('/tokens', [{ idTag: 'A' }, { idTag: 'B', status: 'Blocked', parentIdTag: 'A', expiryDate: '2027-01-01T00:00:00+01:00' }]);
    expect(ok.status).toBe(200);
    const list = await api('/tokens');
    expect(list.body.items).toEqual(expect.arrayContaining([{ idTag: 'B', status: 'Blocked', expiryDate: '2026-12-31T23:00:00.000Z', parentIdTag: 'A' }]));
  });

  it('charger validation names the field; create and update keep unspecified fields', async () => {
    const e1 = await post('/chargers', { id: 'CB-API-1', timeZone: 'Mars/Olympus' });
    expect(e1.status).toBe(400);
    expect(e1.body.field).toBe('timeZone');
    expect((await post('/chargers', { id: 'CB-API-1', connectors: 0 })).body.field).toBe('connectors');
    expect((await post('/chargers', { id: 'CB-API-1', tariffId: 'no-such-tariff' })).body.field).toBe('tariffId');
    expect((await post('/chargers', [{ id: 'ok' }, { id: '' }])).body.field).toBe('[1].id');
    expect((await post('/chargers', { id: 'CB-API-1', connectors: 2, timeZone: 'Europe/Berlin' })).status).toBe(200);
    expect((await post('/chargers', { id: 'CB-API-1', connectors: 3 })).status).toBe(200);
    const { body } = await api('/chargers');
    expect(body.items.find((c: any) => c.id === 'CB-API-1')).toMatchObject({
      connectors: 3,
      timeZone: 'Europe/Berlin',
      tariffId: null,
      registered: false,
      connected: false,
    });
  });

  it('tariff validation errors are 400 JSON naming the field', async () => {
    const r = await post('/tariffs', { id: 'broken', currency: 'EUR', elements: 'not an array' });
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('invalid-tariff');
    expect(typeof r.body.field).toBe('string');
  });

  it('sessions: filters, pagination, validation of the query', async () => {
    const c = testCharger(backend.port, 'CB-API-S');
    await c.connect();
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) {
      // One open session per connector: a new start on a connector closes the session open there.
      const r = (await c.call('StartTransaction', {
        connectorId: i + 1,
        idTag: `S${i}`,
        meterStart: 0,
        timestamp: `2026-03-0${i + 1}T08:00:00Z`,
      })) as any;
      ids.push(r.transactionId);
    }
    await c.call('StopTransaction', { transactionId: ids[0], meterStop: 10, timestamp: '2026-03-01T09:00:00Z' });
    await c.close({ force: true });

    const all = await api('/sessions?chargerId=CB-API-S');
    expect(all.body).toMatchObject({ total: 5, limit: 100, offset: 0 });
    const page = await api('/sessions?chargerId=CB-API-S&limit=2&offset=2');
    expect(page.body.items.map((s: any) => s.id)).toEqual([ids[2], ids[3]]);
    expect(page.body.total).toBe(5);
    const completed = await api('/sessions?chargerId=CB-API-S&state=completed');
    expect(completed.body.items.map((s: any) => s.id)).toEqual([ids[0]]);
    const active = await api('/sessions?chargerId=CB-API-S&state=active');
    expect(active.body.total).toBe(4);
    const window = await api('/sessions?chargerId=CB-API-S&from=2026-03-02T00:00:00Z&to=2026-03-04T00:00:00Z');
    expect(window.body.items.map((s: any) => s.id)).toEqual([ids[1], ids[2]]);
    expect((await api('/sessions?state=done')).body.field).toBe('state');
    expect((await api('/sessions?limit=10001')).body.field).toBe('limit');
    expect((await api('/sessions?from=yesterday')).body.field).toBe('from');
  });
});
