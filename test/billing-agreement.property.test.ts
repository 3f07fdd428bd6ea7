// The back end's tariff engine and the independent oracle must bill every session alike.
// Random OCPI tariffs meet random truth sessions; the oracle prices the truth directly, the
// back end prices what a charger would have reported about it (a register reading and the
// power at every interval boundary, a state change where charging turns into parking).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildChargingPeriods, type MeterReading, type StateChange } from '../backend/billing/periods.js';
import { priceSession } from '../backend/billing/pricing.js';
import type { DayOfWeek, Price, PriceComponent, Tariff, TariffDimensionType, TariffElement, TariffRestrictions } from '../backend/billing/ocpi.js';
import type { TruthInterval } from '../sim/types.js';
import { priceTruth, type PriceableTruth } from '../scenarios/oracle/index.js';

const ZONES = ['Europe/Berlin', 'America/New_York'] as const;

/** Instants near DST changes (both directions, both zones) and ordinary days, as epoch seconds. */
const ANCHORS = [
  '2026-03-28T23:00:00Z', // Berlin spring forward night (02:00 -> 03:00 local on 03-29)
  '2026-10-24T23:00:00Z', // Berlin fall back night (03:00 -> 02:00 local on 10-25)
  '2026-03-08T05:00:00Z', // New York spring forward (02:00 -> 03:00 local)
  '2026-11-01T04:00:00Z', // New York fall back (02:00 -> 01:00 local)
  '2026-03-06T15:00:00Z', // a Friday afternoon into the weekend
  '2026-06-30T20:00:00Z', // month end, summer time
  '2026-12-31T21:00:00Z', // year end
].map((iso) => Date.parse(iso) / 1000);

const iso = (epoch: number) => new Date(epoch * 1000).toISOString().replace('.000Z', 'Z');

// ---- tariffs ---------------------------------------------------------------------------------

const decimalText = (maxUnits: number) =>
  fc.tuple(fc.integer({ min: 0, max: maxUnits }), fc.constantFrom(2, 3, 4)).map(([n, places]) => (n / 10 ** places).toFixed(places));

const vat = fc.option(fc.constantFrom('0', '5.5', '7', '10', '19', '20', '21'), { nil: undefined });
const STEPS = [0, 1, 1, 60, 100, 300, 500, 900, 1000];

const component = (type: TariffDimensionType): fc.Arbitrary<PriceComponent> =>
  fc.record({ price: decimalText(type === 'ENERGY' ? 9_000 : 99_999), vat, step: fc.constantFrom(...STEPS) }).map(({ price, vat, step }) => {
    const c: PriceComponent = { type, price, step_size: type === 'FLAT' ? 1 : step };
    if (vat !== undefined) c.vat = vat;
    return c;
  });

const components = fc
  .subarray(['FLAT', 'ENERGY', 'TIME', 'PARKING_TIME'] as TariffDimensionType[], { minLength: 1 })
  .chain((types) => fc.tuple(...types.map(component)));

const hhmm = fc.oneof(
  fc.constantFrom('00:00', '01:00', '02:00', '02:30', '03:00', '07:00', '17:00', '22:00'),
  fc.tuple(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 15, 30, 45)).map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`),
);
const DAYS: DayOfWeek[] = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'];
const kwh = fc.constantFrom('0.5', '1', '2.25', '5', '10', '20', '33.333');
const kw = fc.constantFrom('3.7', '7', '11', '22', '50', '100', '150');
const seconds = fc.constantFrom(60, 600, 900, 1800, 3600, 5400, 7200);
const localDate = fc.constantFrom('2026-03-06', '2026-03-07', '2026-03-08', '2026-03-29', '2026-06-30', '2026-07-01', '2026-10-25', '2026-11-01', '2027-01-01');

const restrictions: fc.Arbitrary<TariffRestrictions> = fc.record(
  {
    start_time: hhmm,
    end_time: hhmm,
    start_date: localDate,
    end_date: localDate,
    min_kwh: kwh,
    max_kwh: kwh,
    min_power: kw,
    max_power: kw,
    min_duration: seconds,
    max_duration: seconds,
    day_of_week: fc.subarray(DAYS, { minLength: 1 }),
  },
  { requiredKeys: [] },
);

const element: fc.Arbitrary<TariffElement> = fc
  .tuple(components, fc.option(restrictions, { nil: undefined, freq: 2 }))
  .map(([price_components, r]) => (r === undefined || Object.keys(r).length === 0 ? { price_components } : { price_components, restrictions: r }));

const priceLimit: fc.Arbitrary<Price | undefined> = fc.option(
  fc
    .record({ excl_vat: decimalText(4_000), incl_vat: fc.option(decimalText(4_000), { nil: undefined }) })
    .map(({ excl_vat, incl_vat }) => (incl_vat === undefined ? { excl_vat } : { excl_vat, incl_vat })),
  { nil: undefined, freq: 3 },
);

const tariff: fc.Arbitrary<Tariff> = fc
  .record({ elements: fc.array(element, { minLength: 1, maxLength: 4 }), min: priceLimit, max: priceLimit })
  .map(({ elements, min, max }) => {
    const t: Tariff = { id: 'random', currency: 'EUR', elements };
    if (min) t.min_price = min;
    if (max) t.max_price = max;
    return t;
  });

// ---- truth sessions --------------------------------------------------------------------------

interface Stretch {
  seconds: number;
  powerW: number;
}

/** Power levels include the restriction thresholds exactly, to hit inclusive/exclusive edges. */
const powerW = fc.oneof(fc.constantFrom(3_700, 7_000, 11_000, 22_000, 50_000, 150_000), fc.integer({ min: 1, max: 160_000 }));
const chargingStretch: fc.Arbitrary<Stretch> = fc.record({ seconds: fc.integer({ min: 1, max: 5_400 }), powerW });
const parkingStretch: fc.Arbitrary<Stretch> = fc.record({ seconds: fc.integer({ min: 1, max: 5_400 }), powerW: fc.constant(0) });

interface Case {
  zone: (typeof ZONES)[number];
  startEpoch: number;
  charging: Stretch[];
  parking: Stretch[];
  /** Meter register at the session start (a lifetime register, Wh). */
  registerStartWh: number;
}

const truthCase: fc.Arbitrary<Case> = fc
  .record({
    zone: fc.constantFrom(...ZONES),
    startEpoch: fc.oneof(
      fc.tuple(fc.constantFrom(...ANCHORS), fc.integer({ min: 0, max: 6 * 3600 })).map(([a, s]) => a + s),
      fc.integer({ min: Date.parse('2026-01-01T00:00:00Z') / 1000, max: Date.parse('2027-01-01T00:00:00Z') / 1000 }),
    ),
    charging: fc.array(chargingStretch, { minLength: 0, maxLength: 5 }),
    parking: fc.array(parkingStretch, { minLength: 0, maxLength: 3 }),
    registerStartWh: fc.integer({ min: 0, max: 5_000_000 }),
  })
  .filter((c) => c.charging.length + c.parking.length > 0);

/** The truth record the simulator would emit: integer Wh per interval, constant power. */
function truthOf(c: Case): PriceableTruth {
  let t = c.startEpoch;
  const timeline: TruthInterval[] = [];
  for (const [state, stretches] of [
    ['charging', c.charging],
    ['parking', c.parking],
  ] as const) {
    for (const s of stretches) {
      timeline.push({ from: iso(t), state, energyWh: Math.floor((s.powerW * s.seconds) / 3600), avgPowerW: s.powerW });
      t += s.seconds;
    }
  }
  return { startAt: iso(c.startEpoch), stopAt: iso(t), timeline };
}

/** What the charger reports about that truth, priced by the back end's engine. */
function backendBill(tariff: Tariff, truth: PriceableTruth, c: Case) {
  const readings: MeterReading[] = [];
  const states: StateChange[] = [];
  let register = c.registerStartWh;
  truth.timeline.forEach((interval, i) => {
    readings.push({ at: interval.from, registerWh: String(register), powerW: String(interval.avgPowerW) });
    if (i === 0 || interval.state !== truth.timeline[i - 1].state) states.push({ at: interval.from, charging: interval.state === 'charging' });
    register += interval.energyWh;
  });
  readings.push({ at: truth.stopAt, registerWh: String(register), powerW: '0' });
  const periods = buildChargingPeriods({ startAt: truth.startAt, stopAt: truth.stopAt, readings, states });
  return priceSession(tariff, { start_date_time: truth.startAt, end_date_time: truth.stopAt, time_zone: c.zone, charging_periods: periods });
}

const cents = (amount: string) => {
  const [whole, fraction = ''] = amount.split('.');
  // Half-up at the third decimal, on the decimal text (no floats).
  const scaled = BigInt(whole.replace('-', '') + (fraction + '0000').slice(0, 4));
  const rounded = (scaled + 50n) / 100n;
  return `${amount.startsWith('-') ? '-' : ''}${rounded / 100n}.${String(rounded % 100n).padStart(2, '0')}`;
};

function compare(tariffUnderTest: Tariff, c: Case) {
  const truth = truthOf(c);
  const oracle = priceTruth(tariffUnderTest, truth, c.zone);
  const engine = backendBill(tariffUnderTest, truth, c);
  const dims = (o: { excl: string; incl: string }) => ({ excl: cents(o.excl), incl: cents(o.incl) });
  return {
    oracle: {
      total: [oracle.totalExclVat, oracle.totalInclVat],
      ENERGY: dims({ excl: oracle.dimensions.ENERGY.exclVat, incl: oracle.dimensions.ENERGY.inclVat }),
      TIME: dims({ excl: oracle.dimensions.TIME.exclVat, incl: oracle.dimensions.TIME.inclVat }),
      PARKING_TIME: dims({ excl: oracle.dimensions.PARKING_TIME.exclVat, incl: oracle.dimensions.PARKING_TIME.inclVat }),
      FLAT: dims({ excl: oracle.dimensions.FLAT.exclVat, incl: oracle.dimensions.FLAT.inclVat }),
    },
    engine: {
      total: [engine.total_cost.excl_vat, engine.total_cost.incl_vat],
      ENERGY: dims({ excl: engine.total_energy_cost.excl_vat, incl: engine.total_energy_cost.incl_vat }),
      TIME: dims({ excl: engine.total_time_cost.excl_vat, incl: engine.total_time_cost.incl_vat }),
      PARKING_TIME: dims({ excl: engine.total_parking_cost.excl_vat, incl: engine.total_parking_cost.incl_vat }),
      FLAT: dims({ excl: engine.total_fixed_cost.excl_vat, incl: engine.total_fixed_cost.incl_vat }),
    },
  };
}

describe('back-end engine and oracle agree (property)', () => {
  it('bills random tariffs x random sessions alike: totals excl/incl VAT and every dimension', () => {
    fc.assert(
      fc.property(tariff, truthCase, (t, c) => {
        const { oracle, engine } = compare(t, c);
        expect(engine).toEqual(oracle);
      }),
      {
        numRuns: Number(process.env.BILLING_PROPERTY_RUNS ?? 600),
        seed: process.env.BILLING_PROPERTY_SEED ? Number(process.env.BILLING_PROPERTY_SEED) : undefined,
      },
    );
  }, 60_000);
});
