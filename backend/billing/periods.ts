// OCPI charging periods from what a charger reported: meter register readings and
// charging/parking state changes.
//
// - A period starts at the session start, at every change between charging and parking, and at
//   every reading instant where the sampled power or current changes (a sample holds until the
//   next sample of the same quantity). Periods with power/current samples carry MIN_/MAX_POWER
//   (kW) and MIN_/MAX_CURRENT (A), equal because the value is constant within the period.
// - Energy between two readings is spread linearly over the *charging* time between them (over
//   wall time if there was none), so a parking stretch between two readings gets no energy.
//   Before the first and after the last reading no energy is invented.
// - Registers are compared at their resolution (registers.ts): a fall that rounding explains is
//   no change; any other fall is a meter reset, after which the register value is the energy
//   since the reset (what was charged between the last reading before it and the reset is unknown
//   and not billed).
// - Volumes: ENERGY in kWh with up to 9 decimals, cut from a running total so the periods sum
//   exactly to the metered energy; TIME / PARKING_TIME in hours with up to 10 decimals. Pricing
//   bills time from the period start instants (exact milliseconds), never from these hours.
import { Dec, plainDecimal, plainHours, toDec } from './money.js';
import { isoInstant, parseInstantMs } from './local-time.js';
import { registerValue, settleRegisters, type RegisterValue } from './registers.js';
import type { CdrDimension, ChargingPeriod, Decimalish } from './ocpi.js';

export interface MeterReading {
  at: string; // ISO instant (sim time, from the message)
  registerWh: Decimalish; // Energy.Active.Import.Register normalised to Wh
  /** The register's resolution in Wh when the text of registerWh does not show it (a kWh value); see registers.ts. */
  resolutionWh?: Decimalish;
  powerW?: Decimalish; // Power.Active.Import at that instant, if sampled
  currentA?: Decimalish; // Current.Import summed over phases, if sampled
}

export interface StateChange {
  at: string;
  /** true while energy flows or is requested (TIME); false while plugged in without charging (PARKING_TIME). */
  charging: boolean;
}

export interface PeriodInput {
  startAt: string;
  stopAt: string;
  readings: MeterReading[]; // including the start and stop registers
  states: StateChange[]; // the first applies from startAt
}

export interface ChargingPeriodsReport {
  periods: ChargingPeriod[];
  /** Metered energy of the session in Wh (resets accounted for). */
  energyWh: string;
  /** Instants of readings whose register was lower than the one before. */
  meterResets: string[];
  /** No reading at startAt / stopAt: energy before the first / after the last reading is not billed. */
  missingStartReading: boolean;
  missingStopReading: boolean;
}

interface Reading {
  ms: number;
  register: RegisterValue;
  powerW?: Dec;
  currentA?: Dec;
}

interface StateSpan {
  fromMs: number;
  toMs: number;
  charging: boolean;
}

/** Readings inside [start, stop], in time order, one per instant (the highest register wins). */
function cleanReadings(readings: MeterReading[], startMs: number, stopMs: number): Reading[] {
  const byInstant = new Map<number, Reading>();
  for (const reading of readings) {
    const ms = parseInstantMs(reading.at);
    if (!(ms >= startMs && ms <= stopMs)) continue;
    const next: Reading = {
      ms,
      register: registerValue(reading.registerWh, reading.resolutionWh),
      powerW: reading.powerW === undefined ? undefined : toDec(reading.powerW),
      currentA: reading.currentA === undefined ? undefined : toDec(reading.currentA),
    };
    const known = byInstant.get(ms);
    byInstant.set(
      ms,
      known === undefined
        ? next
        : {
            ms,
            register: known.register.wh.gte(next.register.wh) ? known.register : next.register,
            powerW: next.powerW ?? known.powerW,
            currentA: next.currentA ?? known.currentA,
          },
    );
  }
  return [...byInstant.values()].sort((a, b) => a.ms - b.ms);
}

/** Charging/parking as spans covering [start, stop]; no state reported means charging throughout. */
function stateSpans(states: StateChange[], startMs: number, stopMs: number): StateSpan[] {
  const sorted = states
    .map((s) => ({ ms: parseInstantMs(s.at), charging: s.charging }))
    .filter((s) => !Number.isNaN(s.ms))
    .sort((a, b) => a.ms - b.ms);
  let charging = sorted[0]?.charging ?? true;
  for (const state of sorted) if (state.ms <= startMs) charging = state.charging;
  const spans: StateSpan[] = [{ fromMs: startMs, toMs: stopMs, charging }];
  for (const state of sorted) {
    if (state.ms <= startMs || state.ms >= stopMs) continue;
    const last = spans[spans.length - 1];
    if (state.charging === last.charging) continue;
    last.toMs = state.ms;
    spans.push({ fromMs: state.ms, toMs: stopMs, charging: state.charging });
  }
  return spans;
}

function chargingMsBetween(spans: StateSpan[], fromMs: number, toMs: number): number {
  return spans.filter((span) => span.charging).reduce((total, span) => total + Math.max(0, Math.min(span.toMs, toMs) - Math.max(span.fromMs, fromMs)), 0);
}

/** Session energy (Wh) metered up to each reading, by the register rules of registers.ts. */
function cumulativeEnergy(readings: Reading[]): { energyWh: Dec[]; resets: number[] } {
  const { energyWh, resets } = settleRegisters(readings.map((r) => r.register));
  return { energyWh, resets: resets.map((i) => readings[i].ms) };
}

/** Builds the periods plus what the CDR should flag (resets, missing start/stop readings). */
export function buildChargingPeriodsWithReport(input: PeriodInput): ChargingPeriodsReport {
  const startMs = parseInstantMs(input.startAt);
  const stopMs = Math.max(startMs, parseInstantMs(input.stopAt));
  const readings = cleanReadings(input.readings, startMs, stopMs);
  const spans = stateSpans(input.states, startMs, stopMs);
  const { energyWh, resets } = cumulativeEnergy(readings);

  /** Index of the last reading at or before `ms` (-1 if none): readings are sorted. */
  const lastReadingAtOrBefore = (ms: number): number => {
    let low = -1;
    let high = readings.length - 1;
    while (low < high) {
      const middle = Math.ceil((low + high) / 2);
      if (readings[middle].ms <= ms) low = middle;
      else high = middle - 1;
    }
    return low;
  };

  const energyAt = (ms: number): Dec => {
    const before = lastReadingAtOrBefore(ms);
    if (before === -1) return new Dec(0);
    if (readings[before].ms === ms || before === readings.length - 1) return energyWh[before];
    const after = before + 1;
    const from = readings[before];
    const to = readings[after];
    const delta = energyWh[after].minus(energyWh[after - 1]);
    const chargingTotal = chargingMsBetween(spans, from.ms, to.ms);
    const share = chargingTotal > 0 ? new Dec(chargingMsBetween(spans, from.ms, ms)).div(chargingTotal) : new Dec(ms - from.ms).div(to.ms - from.ms);
    return energyWh[after - 1].plus(delta.mul(share));
  };

  // Where power/current (step functions of the samples) change value.
  const cuts = new Set<number>(spans.slice(1).map((span) => span.fromMs));
  const levelAt = new Map<number, { powerW?: Dec; currentA?: Dec }>();
  let power: Dec | undefined;
  let current: Dec | undefined;
  for (const reading of readings) {
    const changed =
      (reading.powerW !== undefined && !(power?.eq(reading.powerW) ?? false)) || (reading.currentA !== undefined && !(current?.eq(reading.currentA) ?? false));
    power = reading.powerW ?? power;
    current = reading.currentA ?? current;
    levelAt.set(reading.ms, { powerW: power, currentA: current });
    if (changed && reading.ms > startMs && reading.ms < stopMs) cuts.add(reading.ms);
  }
  const levelFrom = (ms: number) => {
    const before = lastReadingAtOrBefore(ms);
    return before === -1 ? {} : (levelAt.get(readings[before].ms) ?? {});
  };

  const boundaries = cuts.size === 0 ? [startMs, stopMs] : [startMs, ...[...cuts].sort((a, b) => a - b), stopMs];
  // Running total rounded to 1/1000 mWh so that period energies sum exactly to the metered total.
  // Each boundary ends one period and starts the next: the last one worked out is kept.
  let known: { ms: number; wh: Dec } | undefined;
  const runningWh = (ms: number) => {
    if (known?.ms === ms) return known.wh;
    const exact = energyAt(ms);
    const wh = exact.decimalPlaces() <= 6 ? exact : exact.toDecimalPlaces(6, Dec.ROUND_HALF_UP);
    known = { ms, wh };
    return wh;
  };
  const periods: ChargingPeriod[] = [];
  for (let i = 0; i + 1 < boundaries.length; i++) {
    const [from, to] = [boundaries[i], boundaries[i + 1]];
    if (to <= from && boundaries.length > 2) continue;
    const charging = spans.find((span) => span.fromMs <= from && from < span.toMs)?.charging ?? spans[spans.length - 1].charging;
    const level = levelFrom(from);
    const dimensions: CdrDimension[] = [
      { type: 'ENERGY', volume: plainDecimal(runningWh(to).minus(runningWh(from)).div(1000), 9) },
      { type: charging ? 'TIME' : 'PARKING_TIME', volume: plainHours(to - from) },
    ];
    if (level.powerW !== undefined) {
      const kw = plainDecimal(level.powerW.div(1000), 6);
      dimensions.push({ type: 'MIN_POWER', volume: kw }, { type: 'MAX_POWER', volume: kw });
    }
    if (level.currentA !== undefined) {
      const amps = plainDecimal(level.currentA, 6);
      dimensions.push({ type: 'MIN_CURRENT', volume: amps }, { type: 'MAX_CURRENT', volume: amps });
    }
    periods.push({ start_date_time: isoInstant(from), dimensions });
  }

  const total = energyWh.length > 0 ? energyWh[energyWh.length - 1] : new Dec(0);
  return {
    periods,
    energyWh: total.toFixed(),
    meterResets: resets.map(isoInstant),
    missingStartReading: readings.length === 0 || readings[0].ms !== startMs,
    missingStopReading: readings.length === 0 || readings[readings.length - 1].ms !== stopMs,
  };
}

/** Build OCPI charging periods from what the charger reported. */
export function buildChargingPeriods(input: PeriodInput): ChargingPeriod[] {
  return buildChargingPeriodsWithReport(input).periods;
}
