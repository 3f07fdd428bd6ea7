// The billing oracle against the reference vectors (the OCPI 2.2.1 tariff module's worked examples) and the
// traps a second-by-second integration must get right: local time windows, DST, tiers, steps.
import { describe, expect, it } from 'vitest';
import type { PriceComponent, Tariff, TariffElement } from '../backend/billing/ocpi.js';
import type { TruthInterval } from '../sim/types.js';
import { diffBills, priceTruth, roundUpToStep, type PriceableTruth } from '../scenarios/oracle/index.js';
import { Rational } from '../scenarios/oracle/rational.js';

type Part = { s: number; state?: 'charging' | 'parking'; wh?: number; w?: number };

/** A truth session from consecutive parts of `s` seconds each, starting at `startAt` (any ISO offset). */
function truth(startAt: string, parts: Part[]): PriceableTruth {
  let t = Date.parse(startAt) / 1000;
  const iso = (epoch: number) => new Date(epoch * 1000).toISOString().replace('.000Z', 'Z');
  const timeline: TruthInterval[] = parts.map(({ s, state = 'charging', wh = 0, w }) => {
    const interval: TruthInterval = { from: iso(t), state, energyWh: wh, avgPowerW: w ?? Math.round((wh * 3600) / s) };
    t += s;
    return interval;
  });
  return { startAt: timeline[0]?.from ?? iso(t), stopAt: iso(t), timeline };
}

const c = (type: PriceComponent['type'], price: string, extra: Partial<PriceComponent> = {}): PriceComponent => ({ type, price, step_size: 1, ...extra });
const tariff = (elements: TariffElement[], extra: Partial<Tariff> = {}): Tariff => ({ id: 't', currency: 'EUR', elements, ...extra });
const only = (...price_components: PriceComponent[]): TariffElement => ({ price_components });
const HOUR = 3600;
const BERLIN = 'Europe/Berlin';
const NEW_YORK = 'America/New_York';
const totals = (t: Tariff, s: PriceableTruth, zone = BERLIN) => {
  const bill = priceTruth(t, s, zone);
  return [bill.totalExclVat, bill.totalInclVat];
};

describe('reference vectors (ocpi-tariffs.md, worked vectors)', () => {
  const energy25 = c('ENERGY', '0.25', { vat: '10' });
  const flat50 = c('FLAT', '0.50', { vat: '20' });

  it('ENERGY 0.25/kWh VAT 10 %, 20 kWh -> 5.00 / 5.50', () => {
    const bill = priceTruth(tariff([only(energy25)]), truth('2025-06-03T10:00:00Z', [{ s: HOUR, wh: 20_000 }]), BERLIN);
    expect([bill.totalExclVat, bill.totalInclVat]).toEqual(['5.00', '5.50']);
    expect(bill.dimensions.ENERGY).toEqual({ quantity: '20', exclVat: '5.0000', inclVat: '5.5000' });
    expect(bill.energyWh).toBe(20_000);
  });

  it('FLAT 0.50 (VAT 20 %) + ENERGY 0.25 (VAT 10 %), 20 kWh -> 5.50 / 6.10', () => {
    const bill = priceTruth(tariff([only(flat50, energy25)]), truth('2025-06-03T10:00:00Z', [{ s: HOUR, wh: 20_000 }]), BERLIN);
    expect([bill.totalExclVat, bill.totalInclVat]).toEqual(['5.50', '6.10']);
    expect(bill.dimensions.FLAT).toEqual({ quantity: '1', exclVat: '0.5000', inclVat: '0.6000' });
  });

  it('min_price 0.50 / 0.55: 20 kWh -> 5.00 / 5.50; 1.5 kWh -> 0.50 / 0.55', () => {
    const t = tariff([only(energy25)], { min_price: { excl_vat: '0.50', incl_vat: '0.55' } });
    expect(totals(t, truth('2025-06-03T10:00:00Z', [{ s: HOUR, wh: 20_000 }]))).toEqual(['5.00', '5.50']);
    expect(totals(t, truth('2025-06-03T10:00:00Z', [{ s: HOUR, wh: 1_500 }]))).toEqual(['0.50', '0.55']);
  });

  it('max_price 10.00 / 11.00 with FLAT + ENERGY: 50 kWh -> 10.00 / 11.00; 30 kWh -> 8.00 / 8.85', () => {
    const t = tariff([only(flat50, energy25)], { max_price: { excl_vat: '10.00', incl_vat: '11.00' } });
    expect(totals(t, truth('2025-06-03T10:00:00Z', [{ s: 2 * HOUR, wh: 50_000 }]))).toEqual(['10.00', '11.00']);
    expect(totals(t, truth('2025-06-03T10:00:00Z', [{ s: 2 * HOUR, wh: 30_000 }]))).toEqual(['8.00', '8.85']);
  });

  it('a price limit without incl_vat bounds the total incl. VAT by the same amount', () => {
    // TIME 0.02/h VAT 10 %, 2.5 h: 0.05 / 0.055 before the limit; max_price 0.05 caps both totals.
    const capped = tariff([only(c('TIME', '0.02', { vat: '10' }))], { max_price: { excl_vat: '0.05' } });
    expect(totals(capped, truth('2026-01-01T00:00:00Z', [{ s: 2.5 * HOUR, wh: 1, w: 1 }]))).toEqual(['0.05', '0.05']);
    // 1.5 kWh at 0.25 + 10 %: 0.375 / 0.4125, both raised to 0.50.
    const raised = tariff([only(energy25)], { min_price: { excl_vat: '0.50' } });
    expect(totals(raised, truth('2025-06-03T10:00:00Z', [{ s: HOUR, wh: 1_500 }]))).toEqual(['0.50', '0.50']);
  });

  it('min/max price bound excl and incl each on their own', () => {
    // excl 0.375 is raised to 0.50; incl 0.4125 is raised to 0.45 (its own bound), not to 0.55.
    const t = tariff([only(energy25)], { min_price: { excl_vat: '0.50', incl_vat: '0.45' } });
    expect(totals(t, truth('2025-06-03T10:00:00Z', [{ s: HOUR, wh: 1_500 }]))).toEqual(['0.50', '0.45']);
  });

  it('TIME 2.00/h VAT 10 % step 60, 2.5 h charging -> 5.00 / 5.50 (and 10 s short still bills 2.5 h)', () => {
    const t = tariff([only(c('TIME', '2.00', { vat: '10', step_size: 60 }))]);
    expect(totals(t, truth('2025-06-03T10:00:00Z', [{ s: 2.5 * HOUR, wh: 10_000 }]))).toEqual(['5.00', '5.50']);
    const short = priceTruth(t, truth('2025-06-03T10:00:00Z', [{ s: 2.5 * HOUR - 10, wh: 10_000 }]), BERLIN);
    expect(short.dimensions.TIME.quantity).toBe('2.5');
    expect(short.chargingSeconds).toBe(2.5 * HOUR - 10);
  });

  it('TIME 3.00 step 60 + PARKING_TIME 5.00 step 300: 150 min + 42 min -> 11.25 / 12.75 (parking billed 45 min)', () => {
    const t = tariff([only(c('TIME', '3.00', { vat: '10', step_size: 60 }), c('PARKING_TIME', '5.00', { vat: '20', step_size: 300 }))]);
    const bill = priceTruth(
      t,
      truth('2025-06-03T10:00:00Z', [
        { s: 150 * 60, wh: 30_000 },
        { s: 42 * 60, state: 'parking' },
      ]),
      BERLIN,
    );
    expect([bill.totalExclVat, bill.totalInclVat]).toEqual(['11.25', '12.75']);
    expect(bill.dimensions.PARKING_TIME.quantity).toBe('0.75');
    expect(bill.dimensions.TIME.quantity).toBe('2.5');
    expect([bill.chargingSeconds, bill.parkingSeconds]).toEqual([9000, 2520]);
  });

  it('TIME followed by parking: charging time is billed exactly, only parking is rounded', () => {
    const t = tariff([only(c('TIME', '3.00', { vat: '10', step_size: 60 }), c('PARKING_TIME', '5.00', { vat: '20', step_size: 300 }))]);
    // 149.5 min charging = 7.475 excl (not rounded to 150 min), + 45 min parking 3.75.
    const bill = priceTruth(
      t,
      truth('2025-06-03T10:00:00Z', [
        { s: 149 * 60 + 30, wh: 30_000 },
        { s: 42 * 60, state: 'parking' },
      ]),
      BERLIN,
    );
    expect(bill.dimensions.TIME.exclVat).toBe('7.4750');
    expect([bill.totalExclVat, bill.totalInclVat]).toEqual(['11.23', '12.72']); // 11.225 and 12.7225, half-up
    // Without parking after it, the same charging time is rounded up to the minute.
    const alone = priceTruth(t, truth('2025-06-03T10:00:00Z', [{ s: 149 * 60 + 30, wh: 30_000 }]), BERLIN);
    expect(alone.dimensions.TIME.exclVat).toBe('7.5000');
  });

  it('TIME followed by free parking: TIME is still rounded (the rule needs billed parking)', () => {
    const t = tariff([only(c('TIME', '3.00', { vat: '10', step_size: 60 }))]);
    const bill = priceTruth(
      t,
      truth('2025-06-03T10:00:00Z', [
        { s: 149 * 60 + 30, wh: 30_000 },
        { s: 42 * 60, state: 'parking' },
      ]),
      BERLIN,
    );
    expect(bill.dimensions.TIME.exclVat).toBe('7.5000');
    expect(bill.dimensions.PARKING_TIME.exclVat).toBe('0.0000');
  });

  it('FLAT + ENERGY step 100 Wh: 20.45 kWh billed 20.5 kWh -> 5.63 / 6.24', () => {
    const t = tariff([only(flat50, c('ENERGY', '0.25', { vat: '10', step_size: 100 }))]);
    const bill = priceTruth(t, truth('2025-06-03T10:00:00Z', [{ s: HOUR, wh: 20_450 }]), BERLIN);
    expect(bill.dimensions.ENERGY).toEqual({ quantity: '20.5', exclVat: '5.1250', inclVat: '5.6375' });
    expect([bill.totalExclVat, bill.totalInclVat]).toEqual(['5.63', '6.24']);
  });

  it('115.2 Wh at step 1 ; 25 ; 500 -> 116 ; 125 ; 500 Wh (the step rule; truth itself is whole Wh)', () => {
    const wh = Rational.fromDecimal('115.2');
    expect([1, 25, 500].map((step) => roundUpToStep(wh, step).toTrimmed(3))).toEqual(['116', '125', '500']);
    // The same steps applied to a whole-Wh truth of 115 Wh.
    const billed = (step: number) =>
      priceTruth(tariff([only(c('ENERGY', '0.25', { step_size: step }))]), truth('2025-06-03T10:00:00Z', [{ s: 600, wh: 115 }]), BERLIN).dimensions.ENERGY
        .quantity;
    expect([billed(1), billed(25), billed(500)]).toEqual(['0.115', '0.125', '0.5']);
  });

  it('ENERGY 0.20 before 17:00, 0.27 after, step 500 Wh: 4.3 + 1.1 kWh -> 5.5 kWh, extra 0.1 kWh at 0.27', () => {
    const t = tariff([
      { price_components: [c('ENERGY', '0.20', { step_size: 500 })], restrictions: { end_time: '17:00' } },
      only(c('ENERGY', '0.27', { step_size: 500 })),
    ]);
    const bill = priceTruth(
      t,
      truth('2025-06-03T16:00:00+02:00', [
        { s: HOUR, wh: 4_300 },
        { s: 1_800, wh: 1_100 },
      ]),
      BERLIN,
    );
    expect(bill.dimensions.ENERGY.quantity).toBe('5.5');
    expect(bill.dimensions.ENERGY.exclVat).toBe('1.1840'); // 4.3 x 0.20 + (1.1 + 0.1) x 0.27
    expect(bill.totalExclVat).toBe('1.18');
  });
});

describe('the 17:00 boundary, second by second', () => {
  const t = tariff([
    { price_components: [c('ENERGY', '0.20', { step_size: 500 })], restrictions: { end_time: '17:00' } },
    only(c('ENERGY', '0.27', { step_size: 500 })),
  ]);

  it('splits one interval spanning 17:00 by the seconds on each side', () => {
    // 1 Wh/s from 16:00 to 17:30: 3600 Wh at 0.20, 1800 Wh + 100 Wh step extra at 0.27.
    const bill = priceTruth(t, truth('2025-06-03T16:00:00+02:00', [{ s: 5_400, wh: 5_400 }]), BERLIN);
    expect(bill.dimensions.ENERGY.exclVat).toBe('1.2330');
  });

  it('bills the step extra at the last component that actually delivered energy', () => {
    // After 17:00 the EV is suspended (0 Wh): the extra belongs to the 0.20 component.
    const bill = priceTruth(
      t,
      truth('2025-06-03T16:00:00+02:00', [
        { s: HOUR, wh: 4_300 },
        { s: 1_800, wh: 0 },
      ]),
      BERLIN,
    );
    expect(bill.dimensions.ENERGY.exclVat).toBe('0.9000'); // 4.5 kWh x 0.20
  });

  it('applies step_size once per session, not per period', () => {
    const coarse = tariff([
      { price_components: [c('ENERGY', '0.20', { step_size: 1000 })], restrictions: { end_time: '17:00' } },
      only(c('ENERGY', '0.30', { step_size: 1000 })),
    ]);
    const bill = priceTruth(
      coarse,
      truth('2025-06-03T16:00:00+02:00', [
        { s: HOUR, wh: 1_200 },
        { s: HOUR, wh: 1_200 },
      ]),
      BERLIN,
    );
    expect(bill.dimensions.ENERGY.quantity).toBe('3'); // 2.4 -> 3, not 2 + 2
    expect(bill.dimensions.ENERGY.exclVat).toBe('0.7800'); // 1.2 x 0.20 + 1.8 x 0.30
  });

  it('keeps fractions exact: thirds of an interval recombine to a half cent that rounds up', () => {
    const same = tariff([{ price_components: [c('ENERGY', '0.15')], restrictions: { end_time: '17:00' } }, only(c('ENERGY', '0.15'))]);
    // 100 Wh over 3 s: 100/3 Wh before 17:00, 200/3 Wh after; 0.1 kWh x 0.15 = 0.015 -> 0.02.
    const bill = priceTruth(same, truth('2025-06-03T16:59:59+02:00', [{ s: 3, wh: 100 }]), BERLIN);
    expect(bill.dimensions.ENERGY.exclVat).toBe('0.0150');
    expect(bill.totalExclVat).toBe('0.02');
  });
});

describe('time-of-day windows, weekdays and dates (local time)', () => {
  it('a 22:00-06:00 window wraps past midnight', () => {
    const t = tariff([{ price_components: [c('TIME', '1.00')], restrictions: { start_time: '22:00', end_time: '06:00' } }, only(c('TIME', '4.00'))]);
    expect(totals(t, truth('2025-06-03T21:00:00+02:00', [{ s: 2 * HOUR, wh: 1 }]))[0]).toBe('5.00'); // 1 h day + 1 h night
    expect(totals(t, truth('2025-06-04T05:30:00+02:00', [{ s: 1.5 * HOUR, wh: 1 }]))[0]).toBe('4.50'); // 0.5 h night + 1 h day
    expect(totals(t, truth('2025-06-03T23:00:00+02:00', [{ s: 2 * HOUR, wh: 1 }]))[0]).toBe('2.00'); // all night
  });

  it('"00:00" as end_time means end of day', () => {
    const t = tariff([{ price_components: [c('TIME', '1.00')], restrictions: { start_time: '22:00', end_time: '00:00' } }, only(c('TIME', '4.00'))]);
    expect(totals(t, truth('2025-06-03T23:00:00+02:00', [{ s: 2 * HOUR, wh: 1 }]))[0]).toBe('5.00'); // 23-24 at 1, 00-01 at 4
  });

  it('weekday vs weekend by the LOCAL weekday (Friday 23:00 in New York is Saturday in UTC)', () => {
    const t = tariff([{ price_components: [c('TIME', '2.00')], restrictions: { day_of_week: ['SATURDAY', 'SUNDAY'] } }, only(c('TIME', '1.00'))]);
    const s = truth('2025-06-06T23:00:00-04:00', [{ s: 2 * HOUR, wh: 1 }]);
    expect(totals(t, s, NEW_YORK)[0]).toBe('3.00'); // Fri 23-24 at 1, Sat 00-01 at 2
    expect(totals(t, s, 'UTC')[0]).toBe('4.00');
  });

  it('start_date inclusive, end_date exclusive, local dates', () => {
    const t = tariff([{ price_components: [c('TIME', '2.00')], restrictions: { start_date: '2025-06-07', end_date: '2025-06-08' } }, only(c('TIME', '1.00'))]);
    // Berlin: Jun 6 23:00 -> Jun 8 01:00 = 1 h at 1, 24 h at 2, 1 h at 1.
    expect(totals(t, truth('2025-06-06T23:00:00+02:00', [{ s: 26 * HOUR, wh: 1 }]))[0]).toBe('50.00');
  });

  it('FLAT is charged once, from the first moment some FLAT component matches (first element in list order then)', () => {
    const t = tariff([{ price_components: [c('FLAT', '1.00')], restrictions: { start_time: '18:00' } }, only(c('FLAT', '2.00'))]);
    const bill = priceTruth(t, truth('2025-06-03T17:30:00+02:00', [{ s: HOUR, wh: 1 }]), BERLIN);
    expect(bill.dimensions.FLAT).toEqual({ quantity: '1', exclVat: '2.0000', inclVat: '2.0000' });
    // No FLAT matches at 17:30; the 18:00-19:00 one becomes active at 18:00 and is charged then.
    const later = priceTruth(
      tariff([{ price_components: [c('FLAT', '1.00')], restrictions: { start_time: '18:00', end_time: '19:00' } }]),
      truth('2025-06-03T17:30:00+02:00', [{ s: HOUR, wh: 1 }]),
      BERLIN,
    );
    expect(later.dimensions.FLAT).toEqual({ quantity: '1', exclVat: '1.0000', inclVat: '1.0000' });
    // A fee that becomes active after a minute of plugged-in time (min_duration), and one after 0.5 kWh.
    const afterMinute = tariff([{ price_components: [c('FLAT', '0.01')], restrictions: { min_duration: 60 } }]);
    expect(totals(afterMinute, truth('2026-01-01T00:00:00Z', [{ s: 61, wh: 0, w: 1 }]))).toEqual(['0.01', '0.01']);
    expect(totals(afterMinute, truth('2026-01-01T00:00:00Z', [{ s: 60, wh: 0, w: 1 }]))).toEqual(['0.00', '0.00']);
    const afterHalfKwh = tariff([{ price_components: [c('FLAT', '0.01')], restrictions: { min_kwh: '0.5' } }, only(c('ENERGY', '0.00'))]);
    expect(totals(afterHalfKwh, truth('2026-01-01T00:00:00Z', [{ s: 82, wh: 501, w: 22_000 }]))).toEqual(['0.01', '0.01']);
  });
});

describe('energy, power, duration tiers', () => {
  it('kWh tier: max_kwh exclusive, crossing priced at the exact instant inside a second', () => {
    const t = tariff([{ price_components: [c('ENERGY', '0.30')], restrictions: { max_kwh: 10 } }, only(c('ENERGY', '0.20'))]);
    // 22 kWh in an hour crosses 10 kWh at 1636.36 s: 10 x 0.30 + 12 x 0.20 = 5.4 exactly.
    expect(priceTruth(t, truth('2025-06-03T10:00:00Z', [{ s: HOUR, wh: 22_000 }]), BERLIN).dimensions.ENERGY.exclVat).toBe('5.4000');
    const fromTen = tariff([{ price_components: [c('ENERGY', '0.20')], restrictions: { min_kwh: 10 } }, only(c('ENERGY', '0.30'))]);
    expect(priceTruth(fromTen, truth('2025-06-03T10:00:00Z', [{ s: HOUR, wh: 22_000 }]), BERLIN).dimensions.ENERGY.exclVat).toBe('5.4000');
  });

  it('kWh tier: min_kwh inclusive on energy so far, also for TIME', () => {
    const t = tariff([
      { price_components: [c('ENERGY', '0.20'), c('TIME', '6.00')], restrictions: { min_kwh: '10' } },
      only(c('ENERGY', '0.30'), c('TIME', '1.00')),
    ]);
    // 10 kWh in the first 30 min exactly, 5 kWh in the next 30 min.
    const bill = priceTruth(
      t,
      truth('2025-06-03T10:00:00Z', [
        { s: 1_800, wh: 10_000 },
        { s: 1_800, wh: 5_000 },
      ]),
      BERLIN,
    );
    expect(bill.dimensions.ENERGY.exclVat).toBe('4.0000'); // 10 x 0.30 + 5 x 0.20
    expect(bill.dimensions.TIME.exclVat).toBe('3.5000'); // 0.5 h x 1 + 0.5 h x 6
  });

  it('power tier: min_power inclusive, max_power exclusive, instantaneous', () => {
    const t = tariff([{ price_components: [c('ENERGY', '0.50')], restrictions: { min_power: 50 } }, only(c('ENERGY', '0.30'))]);
    const s = truth('2025-06-03T10:00:00Z', [
      { s: 1_800, wh: 25_000, w: 50_000 },
      { s: 1_800, wh: 5_500, w: 11_000 },
    ]);
    expect(priceTruth(t, s, BERLIN).dimensions.ENERGY.exclVat).toBe('14.1500'); // 25 x 0.50 + 5.5 x 0.30
    const below = tariff([{ price_components: [c('ENERGY', '0.10')], restrictions: { max_power: '50' } }, only(c('ENERGY', '0.90'))]);
    expect(priceTruth(below, s, BERLIN).dimensions.ENERGY.exclVat).toBe('23.0500'); // 25 x 0.90 + 5.5 x 0.10
  });

  it('duration: max_duration exclusive, min_duration inclusive, seconds since start', () => {
    const t = tariff([
      { price_components: [c('TIME', '0.00')], restrictions: { max_duration: 1_800 } },
      { price_components: [c('TIME', '3.00')], restrictions: { min_duration: 3_600 } },
      only(c('TIME', '2.00')),
    ]);
    // 0-30 min free, 30-60 min at 2, 60-90 min at 3: exact to the second at both edges.
    const bill = priceTruth(t, truth('2025-06-03T10:00:00Z', [{ s: 1.5 * HOUR, wh: 1 }]), BERLIN);
    expect([bill.dimensions.TIME.exclVat, bill.totalExclVat]).toEqual(['2.5000', '2.50']);
  });

  it('current restrictions never hold (the truth has no current); reservation elements need a reservation', () => {
    const t = tariff([
      { price_components: [c('ENERGY', '1.00')], restrictions: { max_current: 32 } },
      { price_components: [c('FLAT', '5.00')], restrictions: { reservation: 'RESERVATION' } },
      only(c('ENERGY', '0.30')),
    ]);
    const s = truth('2025-06-03T10:00:00Z', [{ s: HOUR, wh: 10_000 }]);
    expect(totals(t, s)[0]).toBe('3.00');
    expect(totals(t, { ...s, reservation: 'RESERVATION' })[0]).toBe('8.00');
    expect(totals(t, { ...s, reservation: 'RESERVATION_EXPIRES' })[0]).toBe('3.00');
  });

  it('each dimension takes the first element having its component type', () => {
    const t = tariff([
      { price_components: [c('TIME', '9.00')], restrictions: { start_time: '20:00' } },
      only(c('ENERGY', '0.30')),
      only(c('ENERGY', '0.10'), c('TIME', '1.00'), c('PARKING_TIME', '2.00')),
    ]);
    const bill = priceTruth(
      t,
      truth('2025-06-03T10:00:00Z', [
        { s: HOUR, wh: 10_000 },
        { s: HOUR, state: 'parking' },
      ]),
      BERLIN,
    );
    expect([bill.dimensions.ENERGY.exclVat, bill.dimensions.TIME.exclVat, bill.dimensions.PARKING_TIME.exclVat]).toEqual(['3.0000', '1.0000', '2.0000']);
  });
});

describe('VAT and currencies', () => {
  it('absent VAT means incl = excl; 0 % gives the same amount', () => {
    const none = priceTruth(tariff([only(c('ENERGY', '0.25'))]), truth('2025-06-03T10:00:00Z', [{ s: HOUR, wh: 10_000 }]), BERLIN);
    expect([none.totalExclVat, none.totalInclVat]).toEqual(['2.50', '2.50']);
  });

  it('rounds JPY to whole yen, half-up', () => {
    const bill = priceTruth(tariff([only(c('ENERGY', '35.5'))], { currency: 'JPY' }), truth('2025-06-03T10:00:00Z', [{ s: HOUR, wh: 10_500 }]), 'Asia/Tokyo');
    expect(bill.totalExclVat).toBe('373'); // 372.75
  });
});

describe('DST nights', () => {
  const flatRate = tariff([only(c('TIME', '2.00'))]);
  const window = (start: string, end: string) =>
    tariff([{ price_components: [c('TIME', '10.00')], restrictions: { start_time: start, end_time: end } }, only(c('TIME', '1.00'))]);

  it('Europe/Berlin spring forward: 01:00-04:00 local is 2 real hours; 02:00-03:00 never happens', () => {
    const s = truth('2025-03-30T01:00:00+01:00', [{ s: 2 * HOUR, wh: 1 }]); // ends 04:00 CEST
    expect(s.stopAt).toBe('2025-03-30T02:00:00Z');
    const bill = priceTruth(flatRate, s, BERLIN);
    expect([bill.chargingSeconds, bill.totalExclVat]).toEqual([7_200, '4.00']);
    expect(totals(window('01:00', '03:00'), s)[0]).toBe('11.00'); // 01-02 at 10, 03-04 at 1
  });

  it('Europe/Berlin fall back: 01:00-04:00 local is 4 real hours; 02:00-03:00 happens twice', () => {
    const s = truth('2025-10-26T01:00:00+02:00', [{ s: 4 * HOUR, wh: 1 }]); // ends 04:00 CET
    expect(s.stopAt).toBe('2025-10-26T03:00:00Z');
    expect(totals(flatRate, s)[0]).toBe('8.00');
    expect(totals(window('02:00', '03:00'), s)[0]).toBe('22.00'); // 2 h at 10, 2 h at 1
  });

  it('America/New_York spring forward: 00:00-04:00 local is 3 real hours; a 02:00-03:00 window is empty', () => {
    const s = truth('2025-03-09T00:00:00-05:00', [{ s: 3 * HOUR, wh: 1 }]);
    expect(totals(window('02:00', '03:00'), s, NEW_YORK)[0]).toBe('3.00');
  });

  it('America/New_York fall back: 00:00-04:00 local is 5 real hours; 01:00-02:00 happens twice', () => {
    const s = truth('2025-11-02T00:00:00-04:00', [{ s: 5 * HOUR, wh: 1 }]);
    expect(totals(window('01:00', '02:00'), s, NEW_YORK)[0]).toBe('23.00'); // 2 h at 10, 3 h at 1
  });
});

describe('input checks', () => {
  it('refuses unknown time zones, gaps and energy in zero seconds', () => {
    const t = tariff([only(c('ENERGY', '0.25'))]);
    const s = truth('2025-06-03T10:00:00Z', [{ s: HOUR, wh: 1 }]);
    expect(() => priceTruth(t, s, 'Mars/Olympus')).toThrow(/time zone/);
    expect(() => priceTruth(t, { ...s, startAt: '2025-06-03T09:00:00Z' }, BERLIN)).toThrow(/timeline\[0\]/);
    expect(() => priceTruth(t, { ...s, startAt: '2025-06-03T10:00:00.500Z' }, BERLIN)).toThrow(/whole seconds/);
    expect(() => priceTruth(t, { ...s, timeline: [...s.timeline, { ...s.timeline[0], from: s.stopAt }] }, BERLIN)).toThrow(/zero seconds/);
  });
});

describe('diffBills', () => {
  const t = tariff([only(c('FLAT', '0.50', { vat: '20' }), c('ENERGY', '0.25', { vat: '10', step_size: 100 }))]);
  const expected = priceTruth(t, truth('2025-06-03T10:00:00Z', [{ s: HOUR, wh: 20_450 }]), BERLIN);
  const good = { totalExclVat: '5.63', totalInclVat: '6.24', energyWh: 20_450, dimensions: { ENERGY: { exclVat: '5.125' }, FLAT: { exclVat: '0.50' } } };

  it('finds nothing when the back end agrees (subtotals compared at the minor unit)', () => {
    expect(diffBills(expected, good)).toEqual([]);
    expect(diffBills(expected, { ...good, dimensions: { ENERGY: { exclVat: '5.13' } } })).toEqual([]);
  });

  it('names the dimension that differs', () => {
    expect(diffBills(expected, { ...good, totalExclVat: '5.62', dimensions: { ENERGY: { exclVat: '5.1125' } } })).toEqual([
      { dimension: 'ENERGY', expected: '5.13', billed: '5.11' },
      { dimension: 'TOTAL_EXCL_VAT', expected: '5.63', billed: '5.62' },
    ]);
    expect(diffBills(expected, { ...good, dimensions: { TIME: { exclVat: '0.01' } } })).toEqual([{ dimension: 'TIME', expected: '0.00', billed: '0.01' }]);
    expect(diffBills(expected, { ...good, totalInclVat: '6.2375' })).toEqual([{ dimension: 'TOTAL_INCL_VAT', expected: '6.24', billed: '6.2375' }]);
    expect(diffBills(expected, { ...good, energyWh: 20_449 })).toEqual([{ dimension: 'ENERGY_WH', expected: '20450', billed: '20449' }]);
    expect(diffBills(expected, { ...good, totalExclVat: 'n/a', dimensions: { FLAT: { exclVat: '' } } })).toEqual([
      { dimension: 'FLAT', expected: '0.50', billed: '' },
      { dimension: 'TOTAL_EXCL_VAT', expected: '5.63', billed: 'n/a' },
    ]);
  });
});
