// Meter values with very small numbers or in exponent form: readings stay plain decimal texts,
// which the pricing engine accepts, so such a session is billed instead of refused.
import { describe, expect, it } from 'vitest';
import type { Tariff } from '../backend/billing/ocpi.js';
import { readingOf } from '../backend/metering/sampled-values.js';
import { billSession } from '../backend/core/session-billing.js';

const tariff = {
  id: 'T',
  currency: 'EUR',
  elements: [{ price_components: [{ type: 'ENERGY', price: '0.30', vat: 19, step_size: 1 }] }],
} as unknown as Tariff;

const session = (readings: Array<{ at: string; registerWh: string; powerW?: string }>) =>
  billSession({
    startedAt: '2026-03-02T10:00:00.000Z',
    stoppedAt: '2026-03-02T11:00:00.000Z',
    meterStartWh: 0,
    meterStopWh: 1000,
    readings,
    states: [],
    timeZone: 'UTC',
    tariff,
  });

describe('meter numbers', () => {
  it('reads tiny and exponent-form values as plain decimal texts', () => {
    const r = readingOf(
      {
        timestamp: '2026-03-02T10:00:30.000Z',
        sampledValue: [
          { value: '0.0000000001', measurand: 'Energy.Active.Import.Register', unit: 'kWh' },
          { value: '1E-9', measurand: 'Power.Active.Import', unit: 'kW' },
        ],
      },
      '2026-03-02T10:00:30.000Z',
    );
    // A kWh value is known to its last digit in kWh: 1e-10 kWh = 1e-7 Wh.
    expect(r).toEqual({ at: '2026-03-02T10:00:30.000Z', registerWh: '0.0000001', resolutionWh: '0.0000001', powerW: '0.000001' });
  });

  it('bills a session with a register of 0.0000001 Wh like one without that reading', () => {
    const plain = session([{ at: '2026-03-02T10:30:00.000Z', registerWh: '500' }]);
    const tiny = session([
      { at: '2026-03-02T10:00:30.000Z', registerWh: '1e-7' },
      { at: '2026-03-02T10:30:00.000Z', registerWh: '500' },
    ]);
    expect(tiny.pricingError).toBeNull();
    expect(tiny.cost?.total_cost).toEqual(plain.cost?.total_cost);
    expect(tiny.cost?.total_cost.excl_vat).toBe('0.30');
  });
});
