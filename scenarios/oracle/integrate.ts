// Second-by-second integration of the truth against the tariff elements. For every second
// (and, where a kWh threshold is crossed inside a second, for each exact piece of it) each
// dimension takes the first element, in list order, that has a component of its type and
// whose restrictions all hold at the start of that piece. Quantities are summed per element.
import {
  type CompiledElement,
  type EnergyRange,
  type PricedDimension,
  dayHolds,
  durationHolds,
  energyRange,
  powerHolds,
  timeOfDayHolds,
} from './restrictions.js';
import { type LocalStretch, localStretches } from './local-clock.js';
import { Rational } from './rational.js';
import type { ParsedTruth, TruthSpan } from './timeline.js';

export type MeteredDimension = 'ENERGY' | 'TIME' | 'PARKING_TIME';

export interface DimensionUsage {
  /** Per element index: Wh (ENERGY) or seconds (TIME, PARKING_TIME); exact. */
  byElement: Rational[];
  /** Element whose component was used last in time in this dimension, or -1 if never. */
  lastElement: number;
}

export interface Usage {
  ENERGY: DimensionUsage;
  TIME: DimensionUsage;
  PARKING_TIME: DimensionUsage;
  energyWh: number;
  chargingSeconds: number;
  parkingSeconds: number;
  /** Some parking second comes after some charging second (TIME then only billed exactly). */
  parkingAfterCharging: boolean;
  /** Element whose FLAT component is charged, or -1: see flatElementOf. */
  flatElement: number;
}

/** Per element, what holds for a whole interval and for the energy ranges inside it. */
interface IntervalView {
  holdsAllInterval: boolean[]; // never/power: constant within an interval
  loCeil: number[]; // integer offsets k with loCeil <= k < hiCeil satisfy the kWh restriction
  hiCeil: number[];
  ranges: (EnergyRange | null)[];
  /** kWh thresholds crossed strictly inside a second: second offset -> sorted cut offsets. */
  cutsBySecond: Map<number, Rational[]> | null;
}

function viewInterval(elements: CompiledElement[], span: TruthSpan, priorWh: number): IntervalView {
  const seconds = span.toEpoch - span.fromEpoch;
  const view: IntervalView = { holdsAllInterval: [], loCeil: [], hiCeil: [], ranges: [], cutsBySecond: null };
  const cuts: Rational[] = [];
  for (const e of elements) {
    const range = e.minWh === null && e.maxWh === null ? null : energyRange(e, priorWh, span.energyWh, seconds);
    view.holdsAllInterval.push(!e.never && !range?.never && powerHolds(e, span.powerW));
    view.loCeil.push(range?.lo ? Number(range.lo.ceil()) : -Infinity);
    view.hiCeil.push(range?.hi ? Number(range.hi.ceil()) : Infinity);
    view.ranges.push(range);
    for (const bound of [range?.lo, range?.hi]) {
      if (bound && bound.den !== 1n && Rational.ZERO.lt(bound) && bound.lt(Rational.of(seconds))) cuts.push(bound);
    }
  }
  if (cuts.length === 0) return view;
  cuts.sort((a, b) => a.cmp(b));
  view.cutsBySecond = new Map();
  for (const cut of cuts) {
    const second = Number(cut.ceil()) - 1;
    const list = view.cutsBySecond.get(second) ?? [];
    if (!list.length || list[list.length - 1].cmp(cut) !== 0) list.push(cut);
    view.cutsBySecond.set(second, list);
  }
  return view;
}

/** What is known about one second (or piece of a second) when choosing elements. */
interface Moment {
  view: IntervalView;
  dayOk: boolean[];
  secondOfDay: number;
  sinceStart: number;
  /** Offset in the interval: whole second k, or the exact start of a piece of a split second. */
  k: number;
  pieceStart: Rational | null;
}

/** First element of `list` (in tariff order) whose restrictions all hold at the moment, or -1. */
function firstHolding(list: CompiledElement[], m: Moment): number {
  for (const e of list) {
    const i = e.index;
    if (!m.view.holdsAllInterval[i] || !m.dayOk[i] || !timeOfDayHolds(e, m.secondOfDay) || !durationHolds(e, m.sinceStart)) continue;
    if (m.pieceStart === null) {
      if (m.k >= m.view.loCeil[i] && m.k < m.view.hiCeil[i]) return i;
      continue;
    }
    const range = m.view.ranges[i];
    if (range === null || ((range.lo === null || range.lo.cmp(m.pieceStart) <= 0) && (range.hi === null || m.pieceStart.lt(range.hi)))) return i;
  }
  return -1;
}

/** Exact per-element totals: whole units kept as plain integers, fractions only where needed. */
class Tally {
  private readonly whole: number[];
  private readonly fraction: Rational[];
  constructor(n: number) {
    this.whole = new Array(n).fill(0);
    this.fraction = new Array(n).fill(Rational.ZERO);
  }
  add(element: number, numerator: number, denominator: number): void {
    if (numerator % denominator === 0) this.whole[element] += numerator / denominator;
    else this.fraction[element] = this.fraction[element].add(Rational.of(numerator, denominator));
  }
  addExact(element: number, value: Rational): void {
    this.fraction[element] = this.fraction[element].add(value);
  }
  totals(): Rational[] {
    return this.whole.map((w, i) => this.fraction[i].add(Rational.of(w)));
  }
}

export function integrate(elements: CompiledElement[], truth: ParsedTruth, timeZone: string): Usage {
  const n = elements.length;
  const energy = new Tally(n); // Wh
  const time = { TIME: new Tally(n), PARKING_TIME: new Tally(n) }; // seconds
  const last: Record<MeteredDimension, number> = { ENERGY: -1, TIME: -1, PARKING_TIME: -1 };
  const candidates = (d: PricedDimension) => elements.filter((e) => e.components[d] !== undefined);
  const energyCandidates = candidates('ENERGY');
  const timeCandidates = { TIME: candidates('TIME'), PARKING_TIME: candidates('PARKING_TIME') };
  // FLAT is charged once per session, at the first moment some element's FLAT component
  // matches (the first such element in list order): an element with FLAT that only "becomes
  // active" later (min_duration, min_kwh, a time window) still charges its fee then.
  const flatCandidates = candidates('FLAT');
  let flatElement = -1;

  const stretches = localStretches(truth.startEpoch, truth.stopEpoch, timeZone);
  let stretchIndex = -1;
  let stretch: LocalStretch | undefined;
  const dayOk: boolean[] = new Array(n).fill(false);
  const energySeconds = new Float64Array(n);
  const timeSeconds = new Float64Array(n);

  let priorWh = 0;
  let chargingSeconds = 0;
  let parkingSeconds = 0;
  let parkingAfterCharging = false;
  for (const span of truth.spans) {
    const seconds = span.toEpoch - span.fromEpoch;
    const timeDimension: MeteredDimension = span.charging ? 'TIME' : 'PARKING_TIME';
    const timeList = timeCandidates[timeDimension];
    const deliversEnergy = span.energyWh > 0;
    const moment: Moment = { view: viewInterval(elements, span, priorWh), dayOk, secondOfDay: 0, sinceStart: 0, k: 0, pieceStart: null };
    energySeconds.fill(0);
    timeSeconds.fill(0);
    let billedTime = false;

    for (let t = span.fromEpoch; t < span.toEpoch; t++) {
      while (stretch === undefined || t >= stretch.toEpoch) {
        stretch = stretches[++stretchIndex];
        for (const e of elements) dayOk[e.index] = dayHolds(e, stretch.date, stretch.weekday);
      }
      moment.secondOfDay = stretch.startSecondOfDay + (t - stretch.fromEpoch);
      moment.sinceStart = t - truth.startEpoch;
      moment.k = t - span.fromEpoch;
      const cuts = moment.view.cutsBySecond?.get(moment.k);
      if (cuts === undefined) {
        if (flatElement < 0) flatElement = firstHolding(flatCandidates, moment);
        if (deliversEnergy) {
          const e = firstHolding(energyCandidates, moment);
          if (e >= 0) {
            energySeconds[e]++;
            last.ENERGY = e;
          }
        }
        const e = firstHolding(timeList, moment);
        if (e >= 0) {
          timeSeconds[e]++;
          last[timeDimension] = e;
          billedTime = true;
        }
        continue;
      }
      // A kWh threshold is crossed inside this second: price each piece on its own.
      const edges = [Rational.of(moment.k), ...cuts, Rational.of(moment.k + 1)];
      for (let p = 0; p + 1 < edges.length; p++) {
        moment.pieceStart = edges[p];
        const length = edges[p + 1].sub(edges[p]);
        if (flatElement < 0) flatElement = firstHolding(flatCandidates, moment);
        if (deliversEnergy) {
          const e = firstHolding(energyCandidates, moment);
          if (e >= 0) {
            energy.addExact(e, length.mul(Rational.of(span.energyWh, seconds)));
            last.ENERGY = e;
          }
        }
        const e = firstHolding(timeList, moment);
        if (e >= 0) {
          time[timeDimension].addExact(e, length);
          last[timeDimension] = e;
          billedTime = true;
        }
      }
      moment.pieceStart = null;
    }

    // Energy is uniform in time within an interval: an element's share is its seconds / all seconds.
    for (let i = 0; i < n; i++) {
      if (energySeconds[i] > 0) energy.add(i, span.energyWh * energySeconds[i], seconds);
      if (timeSeconds[i] > 0) time[timeDimension].add(i, timeSeconds[i], 1);
    }
    priorWh += span.energyWh;
    // The TIME-then-parking step rule applies only when the session ends in *billed* parking
    // after charging; free parking leaves TIME rounded as usual (as the OCPI free-parking example).
    if (span.charging) {
      chargingSeconds += seconds;
      parkingAfterCharging = false;
    } else {
      parkingSeconds += seconds;
      if (chargingSeconds > 0 && billedTime) parkingAfterCharging = true;
    }
  }
  return {
    ENERGY: { byElement: energy.totals(), lastElement: last.ENERGY },
    TIME: { byElement: time.TIME.totals(), lastElement: last.TIME },
    PARKING_TIME: { byElement: time.PARKING_TIME.totals(), lastElement: last.PARKING_TIME },
    energyWh: priorWh,
    chargingSeconds,
    parkingSeconds,
    parkingAfterCharging,
    flatElement,
  };
}

/** For a session without a single second: the first element with a FLAT component that holds at its start. */
export function flatElementAtStart(elements: CompiledElement[], truth: ParsedTruth, timeZone: string): CompiledElement | undefined {
  const [local] = localStretches(truth.startEpoch, truth.startEpoch + 1, timeZone);
  const first = truth.spans[0];
  const powerW = first !== undefined && first.fromEpoch === truth.startEpoch ? first.powerW : 0;
  return elements.find(
    (e) =>
      e.components.FLAT !== undefined &&
      !e.never &&
      !energyRange(e, 0, 0, 1).never && // nothing charged yet
      powerHolds(e, powerW) &&
      dayHolds(e, local.date, local.weekday) &&
      timeOfDayHolds(e, local.startSecondOfDay) &&
      durationHolds(e, 0),
  );
}
