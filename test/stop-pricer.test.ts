// Stop pricing on its own thread: the same bills, cost lines, VAT summaries and CDRs as
// pricing inline; each tariff version sent once; a thread that dies fails only the stops it
// held and is replaced.
import { afterEach, describe, expect, it } from 'vitest';
import type { Tariff } from '../backend/billing/ocpi.js';
import { DEFAULT_PARTY, publishedTariff } from '../backend/cdr.js';
import { inlinePricer, ThreadPricer, type StopPricer } from '../backend/stop-pricer.js';
import type { StopPricingInput, TariffForms } from '../backend/stop-pricing.js';

const energy: Tariff = {
  id: 'E',
  currency: 'EUR',
  elements: [
    { price_components: [{ type: 'FLAT', price: '0.50', vat: 21, step_size: 1 }] },
    { price_components: [{ type: 'ENERGY', price: '0.3512', vat: 21, step_size: 1 }] },
  ],
};
const night: Tariff = {
  id: 'N',
  currency: 'EUR',
  elements: [
    { price_components: [{ type: 'TIME', price: '1.20', vat: 9, step_size: 60 }], restrictions: { start_time: '22:00', end_time: '06:00' } },
    { price_components: [{ type: 'ENERGY', price: '0.42', vat: 9, step_size: 1 }, { type: 'PARKING_TIME', price: '6.00', vat: 9, step_size: 300 }] },
  ],
};
const versions = new Map<number, TariffForms>([
  [1, { tariff: energy, published: publishedTariff(energy, DEFAULT_PARTY, '2026-01-01T00:00:00Z') }],
  [2, { tariff: night, published: publishedTariff(night, DEFAULT_PARTY, '2026-01-01T00:00:00Z') }],
]);

function stop(id: number, tariffVid: number | null, over: Partial<StopPricingInput['facts']> = {}): StopPricingInput {
  return {
    facts: {
      startedAt: '2026-03-02T21:40:00.000Z',
      stoppedAt: '2026-03-02T23:10:00.000Z',
      meterStartWh: 1000,
      meterStopWh: 23456,
      readings: [
        { at: '2026-03-02T22:10:00.000Z', registerWh: '9000.5', powerW: '11000' },
        { at: '2026-03-02T22:40:00.000Z', registerWh: '17000' },
      ],
      states: [
        { at: '2026-03-02T21:40:00.000Z', charging: true },
        { at: '2026-03-02T22:50:00.000Z', charging: false },
      ],
      timeZone: 'Europe/Amsterdam',
      ...over,
    },
    tariffVid,
    cdr: {
      party: DEFAULT_PARTY,
      id: String(id),
      sessionId: id,
      startedAt: '2026-03-02T21:40:00.000Z',
      idTag: 'TAG-1',
      authMethod: 'AUTH_REQUEST',
      location: {
        id: 'L1',
        name: 'Depot',
        address: 'Kade 1',
        city: 'Utrecht',
        country: 'NLD',
        coordinates: { latitude: '0.000000', longitude: '0.000000' },
        evse_uid: 'C1-1',
        evse_id: 'C1-1',
        connector_id: '1',
        connector_standard: 'IEC_62196_T2',
        connector_format: 'SOCKET',
        connector_power_type: 'AC_3_PHASE',
        time_zone: 'Europe/Amsterdam',
      },
      lastUpdated: '2026-03-02T23:10:01.000Z',
    },
  };
}

const inputs: StopPricingInput[] = [
  stop(1, 1),
  stop(2, 2),
  stop(3, 2, { stoppedAt: '2026-03-02T21:30:00.000Z' }), // stop before start
  stop(4, null), // no tariff
  stop(5, 99), // a version the CSMS does not know: priced as no tariff
  stop(6, 1, { meterStopWh: 400, readings: [] }), // meter reset
];
const broken = stop(7, 1, { readings: [{ at: '2026-03-02T22:10:00.000Z', registerWh: 'not a number' }] });

let pricer: StopPricer | null = null;
afterEach(async () => {
  await pricer?.close();
  pricer = null;
});

describe('pricing stops on a thread of their own', () => {
  it('gives exactly what pricing inline gives: bill, cost lines, VAT summary and CDR text', async () => {
    const inline = inlinePricer((vid) => versions.get(vid) ?? null);
    const expected = await Promise.all(inputs.map((i) => inline.price(i)));
    // The cases differ: priced with a CDR, unpriced, a meter reset.
    expect(expected[0].cdr?.json).toContain('"total_cost"');
    expect(expected[1].cost?.linesJson).toContain('PARKING_TIME');
    expect(expected[3].cost).toBeNull();
    expect(expected[4].cost).toBeNull();
    expect(expected[5].flagsJson).toContain('meter-reset');
    pricer = new ThreadPricer((vid) => versions.get(vid) ?? null);
    expect(await Promise.all(inputs.map((i) => pricer!.price(i)))).toEqual(expected);
  });

  it('a stop the engine throws on is rejected with its message, and the thread goes on pricing', async () => {
    await expect(inlinePricer((vid) => versions.get(vid) ?? null).price(broken)).rejects.toThrow(/not a number/);
    pricer = new ThreadPricer((vid) => versions.get(vid) ?? null);
    await expect(pricer.price(broken)).rejects.toThrow(/pricing failed: .*not a number/);
    expect((await pricer.price(stop(1, 1))).cost).not.toBeNull();
  });

  it('sends each tariff version to the thread once', async () => {
    const asked: number[] = [];
    pricer = new ThreadPricer((vid) => {
      asked.push(vid);
      return versions.get(vid) ?? null;
    });
    for (const i of [stop(1, 1), stop(2, 2), stop(3, 1), stop(4, 2), stop(5, 1)]) await pricer.price(i);
    expect(asked).toEqual([1, 2]);
  });

  it('a thread that dies fails the stops it held; the next stop gets a new thread with the tariffs sent again', async () => {
    const asked: number[] = [];
    const p = new ThreadPricer((vid) => {
      asked.push(vid);
      return versions.get(vid) ?? null;
    });
    pricer = p;
    const first = await p.price(stop(1, 1));
    // Reach the running thread to end it as a crash would.
    const worker = (p as unknown as { worker: { terminate(): Promise<number> } }).worker;
    const ended = worker.terminate();
    const held = p.price(stop(2, 1));
    await ended;
    await expect(held).rejects.toThrow(/pricing thread exited/);
    expect(await p.price(stop(1, 1))).toEqual(first);
    expect(asked).toEqual([1, 1]);
  });

  it('refuses stops once closed', async () => {
    const p = new ThreadPricer((vid) => versions.get(vid) ?? null);
    await p.price(stop(1, 1));
    await p.close();
    await expect(p.price(stop(1, 1))).rejects.toThrow(/closed/);
  });
});
