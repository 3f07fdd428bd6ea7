// buildChargingPeriods(): OCPI charging periods from meter readings and state changes.
import { Decimal } from 'decimal.js';
import { describe, expect, it } from 'vitest';
import type { ChargingPeriod } from '../backend/billing/ocpi.js';
import { buildChargingPeriods, buildChargingPeriodsWithReport, type MeterReading } from '../backend/billing/periods.js';
import { priceSession } from '../backend/billing/pricing.js';

const at = (hhmm: string) => `2025-06-02T${hhmm}:00Z`;
const reading = (hhmm: string, registerWh: number | string, extra: Partial<MeterReading> = {}): MeterReading => ({ at: at(hhmm), registerWh, ...extra });
const volumes = (periods: ChargingPeriod[]) => periods.map((p) => [p.start_date_time, Object.fromEntries(p.dimensions.map((d) => [d.type, d.volume]))]);

describe('buildChargingPeriods', () => {
  it('one charging period from the start and stop registers', () => {
    const periods = buildChargingPeriods({
      startAt: at('10:00'),
      stopAt: at('11:30'),
      readings: [reading('10:00', 1000), reading('11:30', 12_250)],
      states: [],
    });
    expect(volumes(periods)).toEqual([[at('10:00'), { ENERGY: '11.25', TIME: '1.5' }]]);
  });

  it('a new period at every charging/parking change; energy spread over charging time only', () => {
    const periods = buildChargingPeriods({
      startAt: at('10:00'),
      stopAt: at('12:00'),
      readings: [reading('10:00', 0), reading('12:00', 12_000)],
      states: [
        { at: at('10:00'), charging: true },
        { at: at('10:30'), charging: false },
        { at: at('11:00'), charging: true },
      ],
    });
    // 1.5 h of charging between the two readings: 8 kWh/h.
    expect(volumes(periods)).toEqual([
      [at('10:00'), { ENERGY: '4', TIME: '0.5' }],
      [at('10:30'), { ENERGY: '0', PARKING_TIME: '0.5' }],
      [at('11:00'), { ENERGY: '8', TIME: '1' }],
    ]);
  });

  it('interpolates linearly between readings and keeps exact hours to 10 decimals', () => {
    const periods = buildChargingPeriods({
      startAt: at('10:00'),
      stopAt: at('11:00'),
      readings: [reading('10:00', 0), reading('11:00', 1000)],
      states: [
        { at: at('10:00'), charging: true },
        { at: at('10:20'), charging: false },
        { at: at('10:40'), charging: true },
      ],
    });
    expect(periods.map((p) => p.dimensions.map((d) => d.volume))).toEqual([
      ['0.5', '0.3333333333'],
      ['0', '0.3333333333'],
      ['0.5', '0.3333333333'],
    ]);
  });

  it('splits where sampled power or current changes and reports MIN/MAX_POWER and MIN/MAX_CURRENT', () => {
    const periods = buildChargingPeriods({
      startAt: at('10:00'),
      stopAt: at('11:00'),
      readings: [
        reading('10:00', 0, { powerW: 11_000, currentA: 48 }),
        reading('10:20', 3667, { powerW: 11_000, currentA: 48 }), // unchanged: no new period
        reading('10:30', 5500, { powerW: 22_000 }),
        reading('11:00', 16_500),
      ],
      states: [],
    });
    expect(volumes(periods)).toEqual([
      [at('10:00'), { ENERGY: '5.5', TIME: '0.5', MIN_POWER: '11', MAX_POWER: '11', MIN_CURRENT: '48', MAX_CURRENT: '48' }],
      [at('10:30'), { ENERGY: '11', TIME: '0.5', MIN_POWER: '22', MAX_POWER: '22', MIN_CURRENT: '48', MAX_CURRENT: '48' }],
    ]);
  });

  it('treats a falling register as a meter reset and never yields negative energy', () => {
    const report = buildChargingPeriodsWithReport({
      startAt: at('10:00'),
      stopAt: at('11:00'),
      readings: [
        reading('10:00', 5000),
        reading('10:30', 9000, { powerW: 8000 }),
        reading('10:45', 200, { powerW: 4000 }),
        reading('11:00', 1200, { powerW: 4000 }),
      ],
      states: [],
    });
    // 4000 Wh before the reset, 200 Wh from the new register up to 10:45, then 1000 Wh.
    expect(report.energyWh).toBe('5200');
    expect(report.meterResets).toEqual([at('10:45')]);
    expect(volumes(report.periods).map(([, v]) => (v as Record<string, string>).ENERGY)).toEqual(['4', '0.2', '1']);
  });

  it('ignores readings outside the session, duplicates and input order', () => {
    const periods = buildChargingPeriods({
      startAt: at('10:00'),
      stopAt: at('11:00'),
      readings: [reading('11:00', 3000), reading('09:00', 0), reading('10:30', 2000), reading('10:00', 1000), reading('10:30', 2000), reading('12:00', 99_000)],
      states: [],
    });
    expect(volumes(periods)).toEqual([[at('10:00'), { ENERGY: '2', TIME: '1' }]]);
  });

  it('never invents energy after the last reading and flags a missing stop reading', () => {
    const report = buildChargingPeriodsWithReport({
      startAt: at('10:00'),
      stopAt: at('11:00'),
      readings: [reading('10:00', 0), reading('10:30', 3000)],
      states: [
        { at: at('10:00'), charging: true },
        { at: at('10:45'), charging: false },
      ],
    });
    expect(report.missingStopReading).toBe(true);
    expect(report.missingStartReading).toBe(false);
    expect(volumes(report.periods)).toEqual([
      [at('10:00'), { ENERGY: '3', TIME: '0.75' }],
      [at('10:45'), { ENERGY: '0', PARKING_TIME: '0.25' }],
    ]);
  });

  it('period energies sum exactly to the metered energy when interpolation does not terminate', () => {
    const toggles = ['10:00', '10:01', '10:02', '10:03', '10:04'].map((hhmm, i) => ({ at: at(hhmm), charging: i % 2 === 0 }));
    const periods = buildChargingPeriods({
      startAt: at('10:00'),
      stopAt: at('10:05'),
      readings: [reading('10:00', 0), reading('10:05', 1000)],
      states: toggles,
    });
    const energies = periods.map((p) => p.dimensions.find((d) => d.type === 'ENERGY')!.volume as string);
    expect(energies[0]).toBe('0.333333333'); // a third of 1 kWh, to 9 decimals
    expect(energies.reduce((sum, kwh) => sum.plus(kwh), new Decimal(0)).toFixed()).toBe('1');
  });

  it('feeds the pricing engine: power tiers priced from sampled power', () => {
    const periods = buildChargingPeriods({
      startAt: at('10:00'),
      stopAt: at('11:00'),
      readings: [reading('10:00', 0, { powerW: 50_000 }), reading('10:30', 25_000, { powerW: 10_000 }), reading('11:00', 30_000)],
      states: [],
    });
    const tariff = {
      id: 'hpc',
      currency: 'EUR',
      elements: [
        { price_components: [{ type: 'ENERGY' as const, price: 0.59, step_size: 1 }], restrictions: { min_power: 22 } },
        { price_components: [{ type: 'ENERGY' as const, price: 0.39, step_size: 1 }] },
      ],
    };
    const result = priceSession(tariff, { start_date_time: at('10:00'), end_date_time: at('11:00'), time_zone: 'Europe/Berlin', charging_periods: periods });
    expect(result.total_cost.excl_vat).toBe('16.70'); // 25 kWh x 0.59 + 5 kWh x 0.39
  });
});
