// End to end through the REAL billing engine (backend/billing/): tariffs posted over HTTP,
// sessions over OCPP, bills and invoices read back over HTTP. These tests fail with
// "not implemented" until backend/billing/ lands; they assert the published vectors of the
// OCPI 2.2.1 tariff module's worked examples, nothing home-made.
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

const post = async (path: string, body: unknown) => {
  const res = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as any };
};
const get = async (path: string) => (await (await fetch(base + path)).json()) as any;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cb-backend-billing-'));
  backend = await startBackend({ port: 0, dbPath: join(dir, 'billing.db'), unknownTagPolicy: 'accept', log: () => undefined });
  base = `http://127.0.0.1:${backend.port}/api`;
  c = testCharger(backend.port, 'CB-BILL');
  await c.connect();
});
afterAll(async () => {
  await c?.close({ force: true });
  await backend?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function session(opts: { connectorId: number; start: string; stop: string; startWh: number; stopWh: number; parkingFrom?: string }) {
  const { transactionId } = (await c.call('StartTransaction', {
    connectorId: opts.connectorId,
    idTag: 'BILL',
    meterStart: opts.startWh,
    timestamp: opts.start,
  })) as any;
  if (opts.parkingFrom) {
    await c.call('StatusNotification', { connectorId: opts.connectorId, errorCode: 'NoError', status: 'SuspendedEV', timestamp: opts.parkingFrom });
  }
  await c.call('StopTransaction', { transactionId, meterStop: opts.stopWh, timestamp: opts.stop, idTag: 'BILL' });
  return transactionId as number;
}

describe('billing through the real engine', () => {
  it('POST /api/tariffs validates with validateTariff and names the field', async () => {
    const r = await post('/tariffs', { id: 'broken', currency: 'EUR', elements: 'not an array' });
    expect(r.status).toBe(400);
    expect(r.body.field).toMatch(/elements/);
  });

  it('bills a session with the default tariff, stores cost lines and dimensions, and invoices it with a gapless number', async () => {
    const t = await post('/tariffs', {
      id: 'energy-25',
      currency: 'EUR',
      elements: [{ price_components: [{ type: 'ENERGY', price: '0.25', vat: 10, step_size: 1 }] }],
    });
    expect(t.status).toBe(201);
    expect(t.body.default).toBe(true);
    const id1 = await session({ connectorId: 1, start: '2026-03-02T08:00:00Z', stop: '2026-03-02T10:00:00Z', startWh: 100000, stopWh: 120000 });
    const s1 = await get(`/sessions/${id1}`);
    expect(s1).toMatchObject({ state: 'completed', energyWh: 20000, tariffId: 'energy-25', flags: [] });
    expect(s1.cost).toMatchObject({ currency: 'EUR', totalExclVat: '5.00', totalInclVat: '5.50' });
    expect(Number(s1.cost.dimensions.ENERGY.quantity)).toBe(20);
    expect(Number(s1.cost.dimensions.ENERGY.exclVat)).toBe(5);
    expect(Number(s1.cost.dimensions.TIME.exclVat)).toBe(0);
    expect(Number(s1.cost.dimensions.FLAT.quantity)).toBe(0);
    expect(s1.cost.lines.length).toBeGreaterThan(0);
    const inv1 = await get(`/invoices/${s1.invoiceId}`);
    expect(inv1).toMatchObject({ number: '2026-000001', year: 2026, sessionId: id1, currency: 'EUR', totalExclVat: '5.00', totalInclVat: '5.50' });
    expect(inv1.vat.map((v: any) => [Number(v.rate), Number(v.base), Number(v.amount)])).toEqual([[10, 5, 0.5]]);

    // a repeated stop: one stop, one bill
    await c.call('StopTransaction', { transactionId: id1, meterStop: 120000, timestamp: '2026-03-02T10:00:00Z', idTag: 'BILL' });
    const id2 = await session({ connectorId: 2, start: '2026-03-03T08:00:00Z', stop: '2026-03-03T09:00:00Z', startWh: 0, stopWh: 1500 });
    const s2 = await get(`/sessions/${id2}`);
    expect((await get(`/invoices/${s2.invoiceId}`)).number).toBe('2026-000002');
    // a new calendar year starts again at 1
    const id3 = await session({ connectorId: 1, start: '2026-12-31T23:00:00Z', stop: '2027-01-01T00:30:00Z', startWh: 0, stopWh: 1000 });
    expect((await get(`/invoices/${(await get(`/sessions/${id3}`)).invoiceId}`)).number).toBe('2027-000001');
  });

  it('prices TIME and PARKING_TIME from the connector status history (150 min charging + 42 min parking)', async () => {
    await post('/tariffs', {
      id: 'time-parking',
      currency: 'EUR',
      elements: [
        {
          price_components: [
            { type: 'TIME', price: '3.00', vat: 10, step_size: 60 },
            { type: 'PARKING_TIME', price: '5.00', vat: 20, step_size: 300 },
          ],
        },
      ],
    });
    expect((await post('/chargers', { id: 'CB-BILL', tariffId: 'time-parking', timeZone: 'Europe/Berlin' })).status).toBe(200);
    const id = await session({
      connectorId: 3,
      start: '2026-03-04T08:00:00Z',
      parkingFrom: '2026-03-04T10:30:00Z',
      stop: '2026-03-04T11:12:00Z',
      startWh: 0,
      stopWh: 30000,
    });
    const s = await get(`/sessions/${id}`);
    expect(s).toMatchObject({ chargingSeconds: 9000, parkingSeconds: 2520, tariffId: 'time-parking', timeZone: 'Europe/Berlin' });
    expect(s.cost).toMatchObject({ totalExclVat: '11.25', totalInclVat: '12.75' });
    expect(Number(s.cost.dimensions.PARKING_TIME.quantity)).toBe(0.75);
  });
});
