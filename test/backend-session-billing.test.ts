// session-billing.ts: what the back end hands the billing engine, and how it survives the
// engine failing. The engine itself is replaced by a spy that records its input and throws,
// so these tests hold whether or not backend/billing/ is implemented yet.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PeriodInput } from '../backend/billing/periods.js';
import type { Tariff } from '../backend/billing/ocpi.js';
import { testCharger } from './helpers/test-charger.js';

const seen: PeriodInput[] = [];
vi.mock('../backend/billing/periods.js', () => ({
  buildChargingPeriods: (input: PeriodInput) => {
    seen.push(structuredClone(input));
    return [];
  },
}));
vi.mock('../backend/billing/pricing.js', () => ({
  priceSession: () => {
    throw new Error('engine exploded');
  },
}));

const { billSession } = await import('../backend/core/session-billing.js');
const { chargingStateOf } = await import('../backend/metering/connector-states.js');
const { Store } = await import('../backend/store/store.js');
const { Csms } = await import('../backend/core/csms.js');
const { startBackend } = await import('../backend/server.js');

const tariff: Tariff = {
  id: 'T',
  currency: 'EUR',
  elements: [{ price_components: [{ type: 'ENERGY', price: '0.25', vat: 10, step_size: 1 }] }],
};

beforeEach(() => {
  seen.length = 0;
});

describe('billSession', () => {
  it('maps statuses to charging / parking', () => {
    expect(['Charging', 'SuspendedEVSE', 'SuspendedEV', 'Finishing', 'Available'].map(chargingStateOf)).toEqual([true, true, false, false, null]);
  });

  it('builds the period input from registers, readings and status changes; energy and times from them', () => {
    const bill = billSession({
      startedAt: '2026-03-02T08:00:00.000Z',
      stoppedAt: '2026-03-02T10:00:00.000Z',
      meterStartWh: 1000,
      meterStopWh: 21000,
      readings: [
        { at: '2026-03-02T09:00:00.000Z', registerWh: '11000.5', powerW: '11000' },
        { at: '2026-03-02T07:59:00.000Z', registerWh: '999' }, // before the start: ignored
      ],
      states: [
        { at: '2026-03-02T07:59:30.000Z', charging: true },
        { at: '2026-03-02T09:30:00.000Z', charging: false },
        { at: '2026-03-02T09:45:00.000Z', charging: false },
      ],
      timeZone: 'Europe/Berlin',
      tariff,
    });
    expect(seen).toEqual([
      {
        startAt: '2026-03-02T08:00:00.000Z',
        stopAt: '2026-03-02T10:00:00.000Z',
        readings: [
          { at: '2026-03-02T08:00:00.000Z', registerWh: '1000' },
          { at: '2026-03-02T09:00:00.000Z', registerWh: '11000.5', powerW: '11000' },
          { at: '2026-03-02T10:00:00.000Z', registerWh: '21000' },
        ],
        states: [
          { at: '2026-03-02T08:00:00.000Z', charging: true },
          { at: '2026-03-02T09:30:00.000Z', charging: false },
        ],
      },
    ]);
    expect(bill).toMatchObject({ energyWh: 20000, chargingSeconds: 5400, parkingSeconds: 1800, cost: null, pricingError: 'engine exploded' });
    expect(bill.flags).toEqual(['pricing-failed']);
  });

  it('an EV already full at the start (SuspendedEV at the start instant) parks from the start', () => {
    const bill = billSession({
      startedAt: '2026-03-02T08:00:00.000Z',
      stoppedAt: '2026-03-02T09:00:00.000Z',
      meterStartWh: 1000,
      meterStopWh: 1000,
      readings: [],
      states: [
        { at: '2026-03-02T08:00:00.000Z', charging: true },
        { at: '2026-03-02T08:00:00.000Z', charging: false },
      ],
      timeZone: 'UTC',
      tariff,
    });
    expect(seen[0].states).toEqual([{ at: '2026-03-02T08:00:00.000Z', charging: false }]);
    expect(bill).toMatchObject({ chargingSeconds: 0, parkingSeconds: 3600 });
  });

  it('a falling register is a meter reset (energy since the reset counts); a lost stop reading uses the last reading', () => {
    const base = {
      startedAt: '2026-03-02T08:00:00.000Z',
      stoppedAt: '2026-03-02T09:00:00.000Z',
      meterStartWh: 50000,
      readings: [
        { at: '2026-03-02T08:20:00.000Z', registerWh: '52000' },
        { at: '2026-03-02T08:40:00.000Z', registerWh: '300' }, // reset mid-session
      ],
      states: [],
      timeZone: 'UTC',
      tariff: null,
    };
    // 50000 -> 52000 (+2000), reset, 300 (+300), stop 900 (+600)
    const reset = billSession({ ...base, meterStopWh: 900 });
    expect(reset.energyWh).toBe(2900);
    expect(reset.flags).toEqual(['meter-reset', 'no-tariff']);
    const lost = billSession({ ...base, meterStopWh: -1 });
    expect(lost.energyWh).toBe(2300);
    expect(lost.flags).toEqual(['missing-stop-reading', 'meter-reset', 'no-tariff']);
    // meterStop below meterStart without readings: energy since the reset, never negative
    const below = billSession({ ...base, readings: [], meterStopWh: 400 });
    expect(below).toMatchObject({ energyWh: 400, flags: ['meter-reset', 'no-tariff'] });
    const clean = billSession({ ...base, readings: [base.readings[0]], meterStopWh: 53000 });
    expect(clean).toMatchObject({ energyWh: 3000, flags: ['no-tariff'], chargingSeconds: 3600, parkingSeconds: 0 });
  });
});

describe('a session whose pricing fails', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cb-backend-sb-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is still closed and committed, flagged pricing-failed with the message, and logged', async () => {
    const path = join(dir, 'pf.db');
    // Seed a tariff straight through the core (validateTariff may not be implemented yet).
    const store = await Store.open(path);
    const core = await Csms.create(store, { unknownTagPolicy: 'accept', heartbeatIntervalSec: 60, log: () => undefined });
    await core.putTariff(tariff, true);
    await store.close();

    const lines: string[] = [];
    const b = await startBackend({ port: 0, dbPath: path, unknownTagPolicy: 'accept', log: (l) => lines.push(l) });
    const c = testCharger(b.port, 'CB-PF');
    await c.connect();
    const { transactionId } = (await c.call('StartTransaction', { connectorId: 1, idTag: 'X', meterStart: 0, timestamp: '2026-03-02T08:00:00Z' })) as any;
    await c.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'SuspendedEV', timestamp: '2026-03-02T08:50:00Z' });
    const stop = await c.call('StopTransaction', { transactionId, meterStop: 4000, timestamp: '2026-03-02T09:00:00Z' });
    expect(stop).toEqual({});
    const s = (await (await fetch(`http://127.0.0.1:${b.port}/api/sessions/${transactionId}`)).json()) as any;
    expect(s).toMatchObject({
      state: 'completed',
      energyWh: 4000,
      chargingSeconds: 3000,
      parkingSeconds: 600,
      flags: ['pricing-failed'],
      pricingError: 'engine exploded',
      tariffId: 'T',
      cost: null,
      invoiceId: null,
    });
    expect(lines.some((l) => l.includes('pricing failed') && l.includes('engine exploded'))).toBe(true);
    await c.close({ force: true });
    await b.close();
  });
});
