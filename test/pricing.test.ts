// priceSession() and tariffValidAt(): rules of the pricing reference not covered by the worked
// vectors in quote.test.ts, and the shape of the cost lines.
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { ZoneClock } from '../backend/billing/local-time.js';
import type { ChargingPeriod, PriceComponent, PricingSession, Tariff, TariffRestrictions } from '../backend/billing/ocpi.js';
import { priceSession, tariffValidAt } from '../backend/billing/pricing.js';

const element = (components: PriceComponent[], restrictions?: TariffRestrictions) => ({ price_components: components, restrictions });
const tariffOf = (elements: Tariff['elements'], extra: Partial<Tariff> = {}): Tariff => ({ id: 't', currency: 'EUR', elements, ...extra });
const at = (hhmm: string, day = '2025-01-15') => `${day}T${hhmm}:00Z`; // Europe/London in January: local = UTC

function session(periods: ChargingPeriod[], end: string, zone = 'Europe/London'): PricingSession {
  return { start_date_time: periods[0].start_date_time, end_date_time: end, time_zone: zone, charging_periods: periods };
}
const charging = (start: string, kwh: number | string, extra: ChargingPeriod['dimensions'] = []): ChargingPeriod => ({
  start_date_time: start,
  dimensions: [{ type: 'ENERGY', volume: kwh }, ...extra],
});
const parking = (start: string): ChargingPeriod => ({
  start_date_time: start,
  dimensions: [
    { type: 'ENERGY', volume: 0 },
    { type: 'TIME', volume: 0 },
    { type: 'PARKING_TIME', volume: 1 },
  ],
});

describe('tariffValidAt', () => {
  const old: Tariff = tariffOf([], { id: 'old', last_updated: '2024-01-01T00:00:00Z', end_date_time: '2025-07-01T00:00:00Z' });
  const fresh: Tariff = tariffOf([], { id: 'new', last_updated: '2025-05-01T00:00:00Z', start_date_time: '2025-07-01T00:00:00Z' });
  const fixedTypo: Tariff = tariffOf([], { id: 'always', last_updated: '2025-08-01T00:00:00Z' });

  it('start inclusive, end exclusive', () => {
    expect(tariffValidAt([old, fresh], '2025-06-30T23:59:59Z')?.id).toBe('old');
    expect(tariffValidAt([old, fresh], '2025-07-01T00:00:00Z')?.id).toBe('new');
    expect(tariffValidAt([fresh], '2025-06-30T12:00:00Z')).toBeUndefined();
  });

  it('among several valid tariffs the latest start wins, then the latest last_updated', () => {
    expect(tariffValidAt([fresh, fixedTypo], '2025-09-01T00:00:00Z')?.id).toBe('new');
    expect(tariffValidAt([fixedTypo, old], '2025-01-01T00:00:00Z')?.id).toBe('always');
  });
});

describe('cost lines', () => {
  it('FLAT first with quantity "1", then one line per split period and dimension', () => {
    const tariff = tariffOf([
      element([
        { type: 'FLAT', price: 1, step_size: 0 },
        { type: 'TIME', price: 2, step_size: 1 },
      ]),
      element([{ type: 'ENERGY', price: 0.2, step_size: 1 }], { end_time: '17:00' }),
      element([{ type: 'ENERGY', price: 0.3, step_size: 1 }]),
    ]);
    const result = priceSession(tariff, session([charging(at('16:00'), 4)], at('18:00')));
    expect(result.lines.map((l) => [l.dimension, l.period_start, l.quantity, l.tariff_element])).toEqual([
      ['FLAT', at('16:00'), '1', 0],
      ['ENERGY', at('16:00'), '2', 1],
      ['TIME', at('16:00'), '1', 0],
      ['ENERGY', at('17:00'), '2', 2],
      ['TIME', at('17:00'), '1', 0],
    ]);
    expect(result.total_cost.excl_vat).toBe('6.00'); // 1 + 0.4 + 0.6 + 4
  });

  it('a boundary that changes no price of the period does not split its lines', () => {
    const tariff = tariffOf([
      element([{ type: 'PARKING_TIME', price: 9, step_size: 1 }], { start_time: '22:00', end_time: '06:00' }),
      element([{ type: 'ENERGY', price: 0.25, step_size: 1 }]),
    ]);
    const result = priceSession(tariff, session([charging(at('20:00'), 10)], at('23:00')));
    expect(result.lines.map((l) => [l.dimension, l.quantity])).toEqual([['ENERGY', '10']]);
  });

  it('free dimensions have no line but count in the session totals', () => {
    const tariff = tariffOf([element([{ type: 'ENERGY', price: 0.3, step_size: 1 }], { start_time: '08:00', end_time: '12:00' })]);
    const result = priceSession(tariff, session([charging(at('11:00'), 6)], at('14:00')));
    expect(result.lines.map((l) => l.quantity)).toEqual(['2']);
    expect(result.total_energy).toBe('6');
    expect(result.total_time).toBe('3');
  });
});

describe('step_size', () => {
  it('is applied once per session, not per period', () => {
    const tariff = tariffOf([element([{ type: 'ENERGY', price: 1, step_size: 500 }])]);
    const result = priceSession(tariff, session([charging(at('10:00'), 0.2), charging(at('11:00'), 0.2)], at('12:00')));
    expect(result.total_energy).toBe('0.5');
    expect(result.total_cost.excl_vat).toBe('0.50');
    expect(result.lines.map((l) => l.quantity)).toEqual(['0.2', '0.3']);
  });

  it('uses the step of the last component used, on the total', () => {
    const tariff = tariffOf([
      element([{ type: 'TIME', price: 6, step_size: 3600 }], { end_time: '12:00' }),
      element([{ type: 'TIME', price: 6, step_size: 60 }]),
    ]);
    // 11:00-12:10:30: 70.5 min, rounded by the later component's 1-minute step to 71 min.
    const result = priceSession(tariff, session([charging(at('11:00'), 0)], '2025-01-15T12:10:30Z'));
    expect(result.total_cost.excl_vat).toBe('7.10');
  });

  it('a whole metered quantity split at restriction boundaries stays whole (no extra step from interpolation residue)', () => {
    // 169614 Wh in one period split at 01:00 local (New York, the night clocks fall back): the two
    // interpolated pieces must sum back to 169614 Wh exactly, so step 1 adds nothing.
    const byWh = tariffOf([
      element([{ type: 'ENERGY', price: '2.92', step_size: 1 }]),
      element([{ type: 'PARKING_TIME', price: 0, step_size: 1 }], { end_time: '01:00' }),
    ]);
    const result = priceSession(byWh, session([charging('2026-11-01T04:31:55Z', '169.614')], '2026-11-01T05:51:44Z', 'America/New_York'));
    expect(result.total_energy).toBe('169.614');
    expect(result.lines.some((l) => l.step_extra !== undefined)).toBe(false);
    // 2700 Wh split at a 60 s duration threshold, step 300 Wh: 2700 is already a multiple.
    const by300 = tariffOf([
      element([{ type: 'ENERGY', price: '0.01', step_size: 300 }]),
      element([{ type: 'PARKING_TIME', price: 0, step_size: 1 }], { min_duration: 60 }),
    ]);
    expect(priceSession(by300, session([charging('2026-01-01T00:00:00Z', '2.7')], '2026-01-01T00:23:09Z')).total_energy).toBe('2.7');
  });

  it('step_size 0 bills whole step units, as step 1 does (115.2 Wh -> 116 Wh)', () => {
    const tariff = tariffOf([element([{ type: 'ENERGY', price: 1, step_size: 0 }])]);
    expect(priceSession(tariff, session([charging(at('10:00'), '0.1152')], at('11:00'))).total_energy).toBe('0.116');
  });

  it('parking after charging: charging time exact, only parking rounded', () => {
    const tariff = tariffOf([
      element([
        { type: 'TIME', price: 60, step_size: 3600 },
        { type: 'PARKING_TIME', price: 60, step_size: 600 },
      ]),
    ]);
    // 10 min charging (billed exactly: 10.00), 1 min parking (billed 10 min: 10.00).
    const result = priceSession(tariff, session([charging(at('10:00'), 1), parking(at('10:10'))], at('10:11')));
    expect([result.total_time_cost.excl_vat, result.total_parking_cost.excl_vat]).toEqual(['10.0000', '10.0000']);
    expect(result.total_parking_time).toBe('0.1666666667');
  });
});

describe('VAT, price limits and rounding', () => {
  it('absent vat means no VAT (incl = excl); vat 0 is reported as "0"', () => {
    const none = priceSession(tariffOf([element([{ type: 'ENERGY', price: 0.3, step_size: 1 }])]), session([charging(at('10:00'), 10)], at('11:00')));
    expect(none.total_cost).toEqual({ excl_vat: '3.00', incl_vat: '3.00' });
    expect(none.lines[0].vat).toBeNull();
    const zero = priceSession(tariffOf([element([{ type: 'ENERGY', price: 0.3, vat: 0, step_size: 1 }])]), session([charging(at('10:00'), 10)], at('11:00')));
    expect(zero.lines[0].vat).toBe('0');
  });

  it('VAT per component: each dimension at its own rate', () => {
    const tariff = tariffOf([
      element([
        { type: 'ENERGY', price: 1, vat: 10, step_size: 1 },
        { type: 'TIME', price: 1, vat: 25, step_size: 1 },
      ]),
    ]);
    expect(priceSession(tariff, session([charging(at('10:00'), 1)], at('11:00'))).total_cost).toEqual({ excl_vat: '2.00', incl_vat: '2.35' });
  });

  it('a price limit without incl_vat bounds the total incl. VAT by the same amount (each total on its own)', () => {
    const min = tariffOf([element([{ type: 'ENERGY', price: 0.25, vat: 10, step_size: 1 }])], { min_price: { excl_vat: 1 } });
    const raised = priceSession(min, session([charging(at('10:00'), 1)], at('11:00')));
    expect(raised.total_cost).toEqual({ excl_vat: '1.00', incl_vat: '1.00' });
    expect(raised.price_limit_applied).toEqual({ excl_vat: 'MIN_PRICE', incl_vat: 'MIN_PRICE' });
    // 3.80 excl / 4.18 incl: only the total incl. VAT is below 4.
    const onlyIncl = priceSession(
      tariffOf([element([{ type: 'ENERGY', price: 0.38, vat: 10, step_size: 1 }])], { min_price: { excl_vat: 4 } }),
      session([charging(at('10:00'), 10)], at('11:00')),
    );
    expect(onlyIncl.total_cost).toEqual({ excl_vat: '4.00', incl_vat: '4.18' });
    const max = tariffOf([element([{ type: 'ENERGY', price: 0.25, vat: 10, step_size: 1 }])], { max_price: { excl_vat: 10 } });
    expect(priceSession(max, session([charging(at('10:00'), 38)], at('11:00'))).total_cost).toEqual({ excl_vat: '9.50', incl_vat: '10.00' });
  });

  it('max_price bounds excl and incl each on its own', () => {
    const tariff = tariffOf([element([{ type: 'ENERGY', price: 0.25, vat: 10, step_size: 1 }])], { max_price: { excl_vat: 10, incl_vat: 10.5 } });
    const result = priceSession(tariff, session([charging(at('10:00'), 40)], at('11:00')));
    expect(result.total_cost).toEqual({ excl_vat: '10.00', incl_vat: '10.50' });
    expect(result.price_limit_applied).toEqual({ incl_vat: 'MAX_PRICE' });
  });

  it('rounds each session total once, half-up, to the currency minor unit', () => {
    const energy = (currency: string, price: number | string) =>
      priceSession(tariffOf([element([{ type: 'ENERGY', price, step_size: 1 }])], { currency }), session([charging(at('10:00'), '10.5')], at('11:00')))
        .total_cost.excl_vat;
    expect(energy('JPY', 35.5)).toBe('373'); // 372.75
    expect(energy('KWD', '0.0105')).toBe('0.110'); // 0.11025
    expect(energy('EUR', '0.001')).toBe('0.01'); // 0.0105
  });

  it('a half cent made of two split lines still rounds up (exact sums, no float)', () => {
    const tariff = tariffOf([
      element([{ type: 'TIME', price: 0.3, step_size: 1 }], { end_time: '12:00' }),
      element([{ type: 'TIME', price: 0.3, step_size: 1 }]),
    ]);
    // 11:59:30-12:00:30: two lines of 30 s at 0.30/h = 0.0025 each, 0.005 in total.
    const result = priceSession(tariff, session([charging('2025-01-15T11:59:30Z', 0)], '2025-01-15T12:00:30Z'));
    expect(result.lines).toHaveLength(2);
    expect(result.total_cost.excl_vat).toBe('0.01');
  });
});

describe('restriction details', () => {
  it('all restrictions of an element must hold (AND)', () => {
    const tariff = tariffOf([
      element([{ type: 'ENERGY', price: 0.1, step_size: 1 }], { start_time: '00:00', end_time: '06:00', day_of_week: ['SATURDAY', 'SUNDAY'] }),
      element([{ type: 'ENERGY', price: 0.5, step_size: 1 }]),
    ]);
    // 2025-01-15 is a Wednesday: night, but not weekend.
    expect(priceSession(tariff, session([charging(at('01:00'), 2)], at('02:00'))).total_cost.excl_vat).toBe('1.00');
    expect(priceSession(tariff, session([charging(at('01:00', '2025-01-18'), 2)], at('02:00', '2025-01-18'))).total_cost.excl_vat).toBe('0.20');
  });

  it('a power restriction never matches a period without power measurements', () => {
    const tariff = tariffOf([
      element([{ type: 'ENERGY', price: 0.1, step_size: 1 }], { max_power: 50 }),
      element([{ type: 'ENERGY', price: 0.5, step_size: 1 }]),
    ]);
    expect(priceSession(tariff, session([charging(at('10:00'), 2)], at('11:00'))).total_cost.excl_vat).toBe('1.00');
    const measured = charging(at('10:00'), 2, [{ type: 'POWER', volume: 2 }]);
    expect(priceSession(tariff, session([measured], at('11:00'))).total_cost.excl_vat).toBe('0.20');
  });

  it('min_power is inclusive, max_power exclusive', () => {
    const tariff = tariffOf([
      element([{ type: 'ENERGY', price: 0.1, step_size: 1 }], { min_power: 11, max_power: 22 }),
      element([{ type: 'ENERGY', price: 0.5, step_size: 1 }]),
    ]);
    const withPower = (kw: number) =>
      priceSession(
        tariff,
        session(
          [
            charging(at('10:00'), 1, [
              { type: 'MAX_POWER', volume: kw },
              { type: 'MIN_POWER', volume: kw },
            ]),
          ],
          at('11:00'),
        ),
      ).total_cost.excl_vat;
    expect([withPower(10.99), withPower(11), withPower(21.99), withPower(22)]).toEqual(['0.50', '0.10', '0.10', '0.50']);
  });

  it('a kWh threshold crossed at a non-terminating instant splits energy exactly', () => {
    const tariff = tariffOf([
      element(
        [
          { type: 'ENERGY', price: 1, step_size: 1 },
          { type: 'TIME', price: 7, step_size: 0 },
        ],
        { max_kwh: 1 },
      ),
      element([{ type: 'ENERGY', price: 0, step_size: 1 }]),
    ]);
    // 7 kWh in one hour: 1 kWh is reached after 1/7 h.
    const result = priceSession(tariff, session([charging(at('10:00'), 7)], at('11:00')));
    expect(result.lines.filter((l) => l.dimension === 'ENERGY').map((l) => l.quantity)).toEqual(['1', '6']);
    expect(result.total_cost.excl_vat).toBe('2.00'); // 1 kWh x 1 + 1/7 h x 7
  });

  it('a period with energy 0, TIME 0 and PARKING_TIME is parking; parking-only elements price it', () => {
    const tariff = tariffOf([
      element([
        { type: 'TIME', price: 1, step_size: 1 },
        { type: 'PARKING_TIME', price: 4, step_size: 1 },
      ]),
    ]);
    const result = priceSession(tariff, session([charging(at('10:00'), 1), parking(at('11:00'))], at('11:30')));
    expect([result.total_time, result.total_parking_time, result.total_cost.excl_vat]).toEqual(['1', '0.5', '3.00']);
  });

  it('accepts unsorted periods and a session without periods (one charging period)', () => {
    const tariff = tariffOf([
      element([
        { type: 'FLAT', price: 1, step_size: 0 },
        { type: 'TIME', price: 1, step_size: 1 },
        { type: 'ENERGY', price: 1, step_size: 1 },
      ]),
    ]);
    const unsorted = session([charging(at('11:00'), 2), charging(at('10:00'), 1)], at('12:00'));
    unsorted.start_date_time = at('10:00');
    expect(
      priceSession(tariff, unsorted)
        .lines.filter((l) => l.dimension === 'ENERGY')
        .map((l) => l.quantity),
    ).toEqual(['1', '2']);
    const empty: PricingSession = { start_date_time: at('10:00'), end_date_time: at('11:00'), time_zone: 'Europe/London', charging_periods: [] };
    expect(priceSession(tariff, empty).total_cost.excl_vat).toBe('2.00');
  });
});

describe('ZoneClock (local time from cached offset changes)', () => {
  const zones = ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Pacific/Chatham', 'Asia/Kolkata'];
  const from = Date.UTC(2024, 0, 1);
  const to = Date.UTC(2026, 11, 31);

  it('agrees with Luxon in the IANA zone at any instant, DST nights included', () => {
    fc.assert(
      fc.property(fc.constantFrom(...zones), fc.integer({ min: from, max: to }), (zone, ms) => {
        const local = DateTime.fromMillis(ms, { zone });
        const moment = new ZoneClock(zone, ms - 86_400_000, ms + 86_400_000).localMoment(ms);
        expect(moment).toEqual({ date: local.toISODate(), minuteOfDay: local.hour * 60 + local.minute, weekday: local.toFormat('cccc').toUpperCase() });
      }),
      { numRuns: 500 },
    );
  });

  it('finds every instant where the local clock passes a wall time or jumps', () => {
    fc.assert(
      fc.property(fc.constantFrom(...zones), fc.integer({ min: from, max: to }), fc.integer({ min: 0, max: 1439 }), (zone, start, wall) => {
        const end = start + 3 * 86_400_000;
        const boundaries = new ZoneClock(zone, start, end).wallClockBoundaries(start, end, [wall]);
        // Walk minute by minute: the clock reaching `wall` must coincide with a boundary.
        for (let ms = Math.ceil(start / 60_000) * 60_000 + 60_000; ms < end; ms += 60_000) {
          const local = DateTime.fromMillis(ms, { zone });
          const previous = DateTime.fromMillis(ms - 60_000, { zone });
          const passes = local.hour * 60 + local.minute === wall && previous.hour * 60 + previous.minute !== wall;
          if (passes) expect(boundaries).toContain(ms);
        }
      }),
      { numRuns: 30 },
    );
  });
});
