// Tariff assignment over real HTTP and OCPP: group > connector > charger > location > default,
// and the tariff version valid at the session start (not the latest posted).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RPCClient } from 'ocpp-rpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../backend/server.js';
import { testCharger } from './helpers/test-charger.js';

let dir: string;
let backend: Backend;
let base: string;
let c: RPCClient;

async function post(path: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}
const get = async (path: string): Promise<any> => (await fetch(base + path)).json();

const energyTariff = (id: string, price: number, extra: Record<string, unknown> = {}) => ({
  id,
  currency: 'EUR',
  elements: [{ price_components: [{ type: 'ENERGY', price, step_size: 1 }] }],
  ...extra,
});

let day = 1;
/** A 10 kWh session; answers the stored session. */
async function charge(connectorId: number, idTag: string, at?: string): Promise<any> {
  const start = at ?? `2026-04-${String(day++).padStart(2, '0')}T08:00:00Z`;
  const stop = new Date(Date.parse(start) + 3600_000).toISOString();
  const r = (await c.call('StartTransaction', { connectorId, idTag, meterStart: 0, timestamp: start })) as any;
  await c.call('StopTransaction', { transactionId: r.transactionId, meterStop: 10000, timestamp: stop });
  return get(`/sessions/${r.transactionId}`);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cb-assign-'));
  backend = await startBackend({ port: 0, dbPath: join(dir, 'assign.db'), unknownTagPolicy: 'accept', log: () => undefined });
  base = `http://127.0.0.1:${backend.port}/api`;
  for (const [id, price] of [
    ['PUBLIC', 0.1],
    ['LOC', 0.2],
    ['CHG', 0.3],
    ['CON', 0.4],
    ['GRP', 0.5],
  ] as const) {
    expect((await post('/tariffs', energyTariff(id, price))).status).toBe(201);
  }
  expect((await post('/locations', { id: 'L1', name: 'Site 1', timeZone: 'Europe/Berlin' })).status).toBe(200);
  expect((await post('/chargers', { id: 'CB-TA-1', connectors: 2, locationId: 'L1' })).status).toBe(200);
  expect((await post('/tokens', [{ idTag: 'FLEET-1', group: 'fleet' }, { idTag: 'PUBLIC-1' }])).status).toBe(200);
  c = testCharger(backend.port, 'CB-TA-1');
  await c.connect();
});
afterAll(async () => {
  await c.close({ force: true });
  await backend.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('tariff assignment', () => {
  it('most specific wins: group > connector > charger > location > default', async () => {
    const expectPriced = (s: any, tariffId: string, scope: string, total: string) => {
      expect(s).toMatchObject({ tariffId, tariffScope: scope, timeZone: 'Europe/Berlin', locationId: 'L1' });
      expect(s.cost.totalExclVat).toBe(total);
    };
    expectPriced(await charge(1, 'FLEET-1'), 'PUBLIC', 'default', '1.00');

    expect((await post('/tariff-assignments', { scope: 'location', locationId: 'L1', tariffId: 'LOC' })).status).toBe(200);
    expectPriced(await charge(1, 'FLEET-1'), 'LOC', 'location', '2.00');

    expect((await post('/tariff-assignments', { scope: 'charger', chargerId: 'CB-TA-1', tariffId: 'CHG' })).status).toBe(200);
    expectPriced(await charge(1, 'FLEET-1'), 'CHG', 'charger', '3.00');

    expect((await post('/tariff-assignments', { scope: 'connector', chargerId: 'CB-TA-1', connectorId: 1, tariffId: 'CON' })).status).toBe(200);
    expectPriced(await charge(1, 'FLEET-1'), 'CON', 'connector', '4.00');
    expectPriced(await charge(2, 'FLEET-1'), 'CHG', 'charger', '3.00');

    expect((await post('/tariff-assignments', { scope: 'group', group: 'fleet', tariffId: 'GRP' })).status).toBe(200);
    expectPriced(await charge(1, 'FLEET-1'), 'GRP', 'group', '5.00');
    expectPriced(await charge(2, 'FLEET-1'), 'GRP', 'group', '5.00');
    // Members of no group, and unknown tokens, pay the public price of the spot.
    expectPriced(await charge(1, 'PUBLIC-1'), 'CON', 'connector', '4.00');
    expectPriced(await charge(1, 'NOBODY'), 'CON', 'connector', '4.00');
    expect((await charge(1, 'FLEET-1')).tokenGroup).toBe('fleet');

    const list = await get('/tariff-assignments');
    expect(list.items.map((a: any) => [a.scope, a.tariffId])).toEqual([
      ['group', 'GRP'],
      ['connector', 'CON'],
      ['charger', 'CHG'],
      ['location', 'LOC'],
      ['default', 'PUBLIC'],
    ]);
    expect(list.items[1]).toEqual({ scope: 'connector', tariffId: 'CON', chargerId: 'CB-TA-1', connectorId: 1 });

    // Removing assignments falls back to the next scope.
    expect((await post('/tariff-assignments', { scope: 'group', group: 'fleet', tariffId: null })).status).toBe(200);
    expect((await post('/tariff-assignments', { scope: 'connector', chargerId: 'CB-TA-1', connectorId: 1, tariffId: null })).status).toBe(200);
    expectPriced(await charge(1, 'FLEET-1'), 'CHG', 'charger', '3.00');
  });

  it('validates assignments and names the field', async () => {
    expect((await post('/tariff-assignments', { scope: 'planet', tariffId: 'LOC' })).body.field).toBe('scope');
    expect((await post('/tariff-assignments', { scope: 'location', locationId: 'nowhere', tariffId: 'LOC' })).body.field).toBe('locationId');
    expect((await post('/tariff-assignments', { scope: 'connector', chargerId: 'CB-TA-1', tariffId: 'LOC' })).body.field).toBe('connectorId');
    expect((await post('/tariff-assignments', { scope: 'charger', chargerId: 'CB-NONE', tariffId: 'LOC' })).body.field).toBe('chargerId');
    expect((await post('/tariff-assignments', { scope: 'default', tariffId: 'NOPE' })).body.field).toBe('tariffId');
    expect((await post('/tariff-assignments', { scope: 'default', tariffId: 'LOC', group: 'x' })).body.field).toBe('group');
    expect((await post('/chargers', { id: 'CB-TA-1', locationId: 'nowhere' })).body.field).toBe('locationId');
    expect((await post('/tokens', { idTag: 'X', group: '' })).body.field).toBe('group');
    expect((await post('/locations', { id: 'L2', name: 'x', timeZone: 'Mars/Base' })).body.field).toBe('timeZone');
  });

  it('the version valid at the session start wins, whatever order the versions were posted in', async () => {
    // Free the charger of its own tariff so the default applies, and make VER the default.
    expect((await post('/tariff-assignments', { scope: 'charger', chargerId: 'CB-TA-1', tariffId: null })).status).toBe(200);
    expect((await post('/tariff-assignments', { scope: 'location', locationId: 'L1', tariffId: null })).status).toBe(200);
    const summer = await post('/tariffs', energyTariff('VER', 0.2, { start_date_time: '2026-06-01T00:00:00Z' }));
    const spring = await post('/tariffs', energyTariff('VER', 0.1, { start_date_time: '2026-01-01T00:00:00Z' }));
    expect((await post('/tariff-assignments', { scope: 'default', tariffId: 'VER' })).status).toBe(200);

    const march = await charge(1, 'PUBLIC-1', '2026-03-10T08:00:00Z');
    expect(march).toMatchObject({ tariffId: 'VER', tariffVersion: spring.body.version, tariffScope: 'default' });
    expect(march.cost.totalExclVat).toBe('1.00');
    const july = await charge(1, 'PUBLIC-1', '2026-07-10T08:00:00Z');
    expect(july).toMatchObject({ tariffId: 'VER', tariffVersion: summer.body.version });
    expect(july.cost.totalExclVat).toBe('2.00');
    // Before any version: no tariff, not priced.
    const early = await charge(1, 'PUBLIC-1', '2025-12-10T08:00:00Z');
    expect(early.cost).toBeNull();
    expect(early.flags).toContain('no-tariff');

    // The CDR carries the version as it was at the start.
    const cdr = await get(`/cdrs/${july.id}`);
    expect(cdr.tariffs[0]).toMatchObject({ id: 'VER', start_date_time: '2026-06-01T00:00:00Z' });
    expect((await get(`/cdrs?sessionId=${early.id}`)).total).toBe(0);
  });

  it('assignments, locations and token groups survive a restart', async () => {
    expect((await post('/tariff-assignments', { scope: 'group', group: 'fleet', tariffId: 'GRP' })).status).toBe(200);
    await c.close({ force: true });
    await backend.close();
    backend = await startBackend({ port: 0, dbPath: join(dir, 'assign.db'), unknownTagPolicy: 'accept', log: () => undefined });
    base = `http://127.0.0.1:${backend.port}/api`;
    c = testCharger(backend.port, 'CB-TA-1');
    await c.connect();
    const s = await charge(2, 'FLEET-1', '2026-08-01T08:00:00Z');
    expect(s).toMatchObject({ tariffId: 'GRP', tariffScope: 'group', locationId: 'L1', timeZone: 'Europe/Berlin' });
  });
});
