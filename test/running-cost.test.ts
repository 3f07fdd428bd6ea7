// Cost on the charger display (OCPP 1.6 California Pricing DataTransfer messages) from the
// reference back end, with ocpp-rpc RPCClient as the charger. Expected costs come from the
// back end's own engine (buildChargingPeriods + priceSession) on the same readings.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RPCClient } from 'ocpp-rpc';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../backend/server.js';
import { buildChargingPeriods } from '../backend/billing/periods.js';
import { priceSession } from '../backend/billing/pricing.js';
import type { Tariff } from '../backend/billing/ocpi.js';
import { tariffPriceText } from '../backend/price-text.js';
import { testCharger } from './helpers/test-charger.js';
import type { ChargerHandler } from './helpers/test-charger.js';

const VENDOR = 'org.openchargealliance.costmsg';
const ZONE = 'Europe/Berlin';
const TARIFF: Tariff = {
  id: 'display',
  currency: 'EUR',
  elements: [
    {
      price_components: [
        { type: 'FLAT', price: '0.50', vat: '19', step_size: 1 },
        { type: 'ENERGY', price: '0.39', vat: '19', step_size: 1 },
        { type: 'TIME', price: '1.80', vat: '19', step_size: 60 },
      ],
    },
  ],
};

interface Shown {
  messageId: string;
  raw: string;
  data: any;
}

let dir: string;
let backend: Backend;
let base: string;
const clients: RPCClient[] = [];

/** A charger that answers cost messages with `status` and keeps what it was sent. */
async function charger(id: string, status: 'Accepted' | 'UnknownVendorId' = 'Accepted'): Promise<{ c: RPCClient; shown: Shown[] }> {
  const c = testCharger(backend.port, id);
  const shown: Shown[] = [];
  c.handle('DataTransfer', (({ params }: { params: { vendorId: string; messageId?: string; data?: string } }) => {
    if (params.vendorId === VENDOR) shown.push({ messageId: params.messageId ?? '', raw: params.data ?? '', data: JSON.parse(params.data ?? 'null') });
    return { status: params.vendorId === VENDOR ? status : 'UnknownVendorId' };
  }) as unknown as ChargerHandler);
  await c.connect();
  clients.push(c);
  await c.call('BootNotification', { chargePointVendor: 'ACME', chargePointModel: 'X1' });
  return { c, shown };
}

async function api<T = any>(path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(base + path, init);
  return (await res.json()) as T;
}
const post = (path: string, body: unknown) => api(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function waitFor<T>(what: string, probe: () => T | undefined, ms = 3000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
const settle = () => new Promise((r) => setTimeout(r, 150));

const at = (min: number) => new Date(Date.parse('2026-03-02T08:00:00Z') + min * 60_000).toISOString();
const meterValues = (c: RPCClient, transactionId: number, min: number, wh: number) =>
  c.call('MeterValues', {
    connectorId: 1,
    transactionId,
    meterValue: [{ timestamp: at(min), sampledValue: [{ value: String(wh), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }],
  });

/** The back end's engine on the given register readings (minute, Wh), stopped at the last one. */
function engineTotal(readings: Array<[number, number]>): string {
  const last = readings[readings.length - 1];
  const periods = buildChargingPeriods({
    startAt: at(readings[0][0]),
    stopAt: at(last[0]),
    readings: readings.map(([min, wh]) => ({ at: at(min), registerWh: String(wh) })),
    states: [{ at: at(readings[0][0]), charging: true }],
  });
  return priceSession(TARIFF, { start_date_time: at(readings[0][0]), end_date_time: at(last[0]), time_zone: ZONE, charging_periods: periods }).total_cost
    .incl_vat;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cb-running-cost-'));
  backend = await startBackend({ port: 0, dbPath: join(dir, 'test.db'), runningCostIntervalSec: 600, log: () => undefined });
  base = `http://127.0.0.1:${backend.port}/api`;
  await post('/tariffs?default=true', TARIFF);
  await post('/tokens', [{ idTag: 'DRIVER-1' }, { idTag: 'DRIVER-2' }, { idTag: 'DRIVER-3' }]);
  await post(
    '/chargers',
    ['RC-1', 'RC-2', 'RC-3'].map((id) => ({ id, connectors: 1, timeZone: ZONE, tariffId: 'display' })),
  );
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close({ force: true })));
});

afterAll(async () => {
  await backend.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('cost on the charger display', () => {
  it('shows the user price after Authorize, the running cost every interval, the invoice total at the end', async () => {
    const { c, shown } = await charger('RC-1');
    const auth = (await c.call('Authorize', { idTag: 'DRIVER-1' })) as any;
    expect(auth.idTagInfo.status).toBe('Accepted');
    const price = await waitFor('SetUserPrice', () => shown.find((m) => m.messageId === 'SetUserPrice'));
    expect(price.data).toEqual({ idToken: 'DRIVER-1', priceText: '€0.4641/kWh, €0.0357/min, €0.595 per session, incl. 19 % VAT' });

    const start = (await c.call('StartTransaction', { connectorId: 1, idTag: 'DRIVER-1', meterStart: 1000, timestamp: at(0) })) as any;
    const tx = start.transactionId as number;
    await settle();
    expect(shown.map((m) => m.messageId)).toEqual(['SetUserPrice']); // started after Authorize: no second price

    const readings: Array<[number, number]> = [[0, 1000]];
    const running = () => shown.filter((m) => m.messageId === 'RunningCost');
    let checked = 0;
    for (const [min, wh, expectRunning] of [
      [5, 1800, 0],
      [10, 2650, 1],
      [15, 3400, 1],
      [20, 4100, 2],
    ] as const) {
      readings.push([min, wh]);
      await meterValues(c, tx, min, wh);
      if (expectRunning > running().length) await waitFor(`RunningCost at minute ${min}`, () => (running().length === expectRunning ? true : undefined));
      else await settle();
      expect(running().length, `after minute ${min}`).toBe(expectRunning);
      const rc = running().at(-1);
      if (!rc || rc.data.timestamp !== at(min)) continue;
      const expected = engineTotal(readings);
      expect(rc.data).toEqual({
        transactionId: tx,
        timestamp: at(min),
        meterValue: wh,
        cost: Number(expected),
        state: 'Charging',
        chargingPrice: { kWhPrice: 0.4641, hourPrice: 2.142, flatFee: 0.595 },
        priceText: price.data.priceText,
      });
      expect(rc.raw).toContain(`"cost":${expected},`); // the currency's decimals, as a JSON number
      checked++;
    }
    expect(checked).toBe(2);
    expect(running().map((m) => m.data.timestamp)).toEqual([at(10), at(20)]);

    await c.call('StopTransaction', { transactionId: tx, idTag: 'DRIVER-1', meterStop: 4500, timestamp: at(25), reason: 'Local' });
    const final = await waitFor('FinalCost', () => shown.find((m) => m.messageId === 'FinalCost'));
    const session = await api(`/sessions/${tx}`);
    const invoice = await api(`/invoices/${session.invoiceId}`);
    expect(invoice.totalInclVat).toBe(session.cost.totalInclVat);
    expect(final.data.transactionId).toBe(tx);
    expect(final.raw).toContain(`"cost":${invoice.totalInclVat},`);
    expect(final.data.cost).toBe(Number(invoice.totalInclVat));
    expect(final.data.priceText).toMatch(/^€\d+\.\d\d incl\. VAT for 3\.500 kWh, 25 min$/);
    expect(final.data.qrCodeText).toBe(`http://127.0.0.1:${backend.port}/api/invoices/${session.invoiceId}.html`);
    expect((await fetch(final.data.qrCodeText)).status).toBe(200);

    // A repeated stop is answered as before and shows nothing new.
    await c.call('StopTransaction', { transactionId: tx, idTag: 'DRIVER-1', meterStop: 4500, timestamp: at(25), reason: 'Local' });
    await settle();
    expect(shown.filter((m) => m.messageId === 'FinalCost')).toHaveLength(1);
  });

  it('shows the user price at a start without Authorize (remote start)', async () => {
    const { c, shown } = await charger('RC-2');
    await c.call('StartTransaction', { connectorId: 1, idTag: 'DRIVER-2', meterStart: 0, timestamp: at(100) });
    const price = await waitFor('SetUserPrice', () => shown.find((m) => m.messageId === 'SetUserPrice'));
    expect(price.data.idToken).toBe('DRIVER-2');
  });

  it('sends nothing more to a charger that does not know the cost messages', async () => {
    const { c, shown } = await charger('RC-3', 'UnknownVendorId');
    await c.call('Authorize', { idTag: 'DRIVER-3' });
    await waitFor('SetUserPrice', () => (shown.length === 1 ? true : undefined));
    await settle();
    const start = (await c.call('StartTransaction', { connectorId: 1, idTag: 'DRIVER-3', meterStart: 0, timestamp: at(200) })) as any;
    await meterValues(c, start.transactionId, 215, 2000);
    await c.call('StopTransaction', { transactionId: start.transactionId, meterStop: 2500, timestamp: at(220) });
    await settle();
    expect(shown.map((m) => m.messageId)).toEqual(['SetUserPrice']);
    const session = await api(`/sessions/${start.transactionId}`);
    expect(session.cost.totalInclVat).toMatch(/^\d+\.\d\d$/); // billed as usual
  });
});

describe('running cost disabled', () => {
  it('interval 0: a user price and a final cost, no running cost', async () => {
    const other = await startBackend({ port: 0, dbPath: join(dir, 'off.db'), runningCostIntervalSec: 0, log: () => undefined });
    const saved = { backend, base };
    try {
      backend = other;
      base = `http://127.0.0.1:${other.port}/api`;
      await post('/tariffs?default=true', TARIFF);
      await post('/tokens', [{ idTag: 'DRIVER-9' }]);
      const { c, shown } = await charger('RC-OFF');
      const start = (await c.call('StartTransaction', { connectorId: 1, idTag: 'DRIVER-9', meterStart: 0, timestamp: at(0) })) as any;
      await meterValues(c, start.transactionId, 30, 5000);
      await c.call('StopTransaction', { transactionId: start.transactionId, meterStop: 5000, timestamp: at(31) });
      await waitFor('FinalCost', () => shown.find((m) => m.messageId === 'FinalCost'));
      expect(shown.map((m) => m.messageId)).toEqual(['SetUserPrice', 'FinalCost']);
    } finally {
      await Promise.all(clients.splice(0).map((cl) => cl.close({ force: true })));
      ({ backend, base } = saved);
      await other.close();
    }
  });
});

describe('price text', () => {
  const base: Tariff = { id: 't', currency: 'EUR', elements: [] };
  it('prefers the tariff\'s own English text', () => {
    const t: Tariff = { ...base, tariff_alt_text: [{ language: 'de', text: 'Preis' }, { language: 'en', text: 'Price' }], elements: TARIFF.elements };
    expect(tariffPriceText(t)).toBe('Price');
  });
  it('prices incl. VAT; no VAT named when none applies; idle time; restrictions noted; free', () => {
    expect(
      tariffPriceText({
        ...base,
        currency: 'USD',
        elements: [
          { price_components: [{ type: 'ENERGY', price: '0.45', step_size: 1 }, { type: 'PARKING_TIME', price: '6', step_size: 60 }] },
          { price_components: [{ type: 'ENERGY', price: '0.30', step_size: 1 }], restrictions: { start_time: '22:00', end_time: '06:00' } },
        ],
      }),
    ).toBe('$0.45/kWh, $0.10/min idle (prices vary by time and use)');
    expect(tariffPriceText({ ...base, currency: 'SEK', elements: [{ price_components: [{ type: 'ENERGY', price: '2', vat: '25', step_size: 1 }] }] })).toBe(
      '2.50 SEK/kWh, incl. 25 % VAT',
    );
    expect(tariffPriceText({ ...base, elements: [{ price_components: [{ type: 'FLAT', price: 0, step_size: 1 }] }] })).toBe('Free');
  });
});
