// Turns a session's charging periods into "pieces": the periods cut further at every instant where
// a restriction of the tariff can change truth, so that evaluating restrictions at a piece's start
// is valid for the whole piece. Energy inside a period is spread linearly in time (docs/billing-rules.md);
// power and current are constant within a period.
import { Dec, isDecimalish, toDec } from './money.js';
import { parseInstantMs, type ZoneClock } from './local-time.js';
import type { CdrDimension, CdrDimensionType, ChargingPeriod, PricingSession } from './ocpi.js';
import type { MeasuredRange, SplitPoints } from './restrictions.js';

/** CHARGING is billed as TIME, PARKING as PARKING_TIME, RESERVATION as reservation TIME. */
export type PieceKind = 'CHARGING' | 'PARKING' | 'RESERVATION';

/**
 * Epoch milliseconds: a plain number while it is a whole number of milliseconds (exact up to
 * 2^53, so sums and differences of instants are exact too), a decimal where a kWh threshold is
 * crossed mid-period (or the instant is not a whole number at all). Arithmetic on a mix
 * converts the numbers to decimals and does exactly what decimals alone would have done.
 */
export type Ms = number | Dec;

/** The instant as a decimal (what every instant was before numbers were allowed). */
export function msDec(ms: Ms): Dec {
  return typeof ms === 'number' ? new Dec(ms) : ms;
}

/** A number only when it is a whole, exactly representable number of milliseconds. */
export function msOf(value: number): Ms {
  return Number.isSafeInteger(value) ? value : new Dec(value);
}

/** `end - start`: a number when both are numbers (whole milliseconds: exact), else a decimal. */
export function msMinus(end: Ms, start: Ms): Ms {
  return typeof end === 'number' && typeof start === 'number' ? end - start : msDec(end).minus(msDec(start));
}

/** Sign of `a - b` like Decimal#cmp (NaN when either is NaN). */
export function msCmp(a: Ms, b: Ms): number {
  return typeof a === 'number' && typeof b === 'number' ? (a < b ? -1 : a > b ? 1 : 0) : msDec(a).cmp(msDec(b));
}

export function msIsZero(ms: Ms): boolean {
  return typeof ms === 'number' ? ms === 0 : ms.isZero();
}

/** Whole milliseconds at or before the instant, as a number (for formatting and calendars). */
export function msFloor(ms: Ms): number {
  return typeof ms === 'number' ? ms : ms.floor().toNumber();
}

export function msToNumber(ms: Ms): number {
  return typeof ms === 'number' ? ms : ms.toNumber();
}

export interface Piece {
  /** Epoch milliseconds; a fraction only where a kWh threshold is crossed mid-period. */
  startMs: Ms;
  endMs: Ms;
  kind: PieceKind;
  energyKwh: Dec;
  energyBeforeKwh: Dec;
  power: MeasuredRange;
  current: MeasuredRange;
  /** Index of the charging period (after sorting by start) this piece was cut from. */
  periodIndex: number;
}

interface NormalisedPeriod {
  startMs: number;
  endMs: number;
  kind: PieceKind;
  energyKwh: Dec;
  power: MeasuredRange;
  current: MeasuredRange;
}

const ZERO = new Dec(0);

/**
 * The volumes of one period's dimensions: the first dimension of each type, its volume parsed at
 * most once and on first use (so a malformed volume fails exactly where and when looking it up
 * always did).
 */
class Volumes {
  private parsed: Map<CdrDimension, Dec> | undefined;

  constructor(private readonly dimensions: CdrDimension[]) {}

  of(type: CdrDimensionType): Dec | undefined {
    const found = this.dimensions.find((d) => d.type === type);
    if (found === undefined) return undefined;
    let volume = this.parsed?.get(found);
    if (volume === undefined) {
      volume = toDec(found.volume);
      (this.parsed ??= new Map()).set(found, volume);
    }
    return volume;
  }

  /** Whether the volume is above 0; a plain decimal text tells by its digits, without being parsed. */
  positive(type: CdrDimensionType): boolean {
    const found = this.dimensions.find((d) => d.type === type);
    if (found === undefined) return false;
    const volume = found.volume;
    if (typeof volume === 'string' && isDecimalish(volume)) return volume.charCodeAt(0) !== 45 /* - */ && NONZERO_DIGIT.test(volume);
    return this.of(type)!.gt(0);
  }
}

const NONZERO_DIGIT = /[1-9]/;

/**
 * TIME means charging and PARKING_TIME parking (energy metered in a parking period is still billed
 * as ENERGY); without either, energy means charging and RESERVATION_TIME a reservation. A period
 * with none of them is charging time: an EVSE that is not delivering is not parking.
 */
function kindOf(volumes: Volumes): PieceKind {
  const positive = (type: CdrDimensionType) => volumes.positive(type);
  if (positive('TIME')) return 'CHARGING';
  if (positive('PARKING_TIME')) return 'PARKING';
  if (positive('ENERGY')) return 'CHARGING';
  if (positive('RESERVATION_TIME')) return 'RESERVATION';
  return 'CHARGING';
}

function measuredRange(volumes: Volumes, point: CdrDimensionType, min: CdrDimensionType, max: CdrDimensionType): MeasuredRange {
  const exact = volumes.of(point);
  const lowest = volumes.of(min) ?? exact ?? volumes.of(max);
  const highest = volumes.of(max) ?? exact ?? volumes.of(min);
  return { min: lowest, max: highest };
}

/** Periods sorted by start, each ending where the next starts (the last at the session end). */
export function normalisePeriods(session: PricingSession): NormalisedPeriod[] {
  const sessionStart = parseInstantMs(session.start_date_time);
  const sessionEnd = Math.max(sessionStart, parseInstantMs(session.end_date_time));
  const source: ChargingPeriod[] =
    session.charging_periods.length > 0 ? session.charging_periods : [{ start_date_time: session.start_date_time, dimensions: [] }]; // no detail: one charging period
  const sorted = source.map((period) => ({ period, startMs: Math.min(Math.max(parseInstantMs(period.start_date_time), sessionStart), sessionEnd) }));
  if (sorted.length > 1) sorted.sort((a, b) => a.startMs - b.startMs);
  return sorted.map(({ period, startMs }, index) => {
    const volumes = new Volumes(period.dimensions);
    return {
      startMs,
      endMs: index + 1 < sorted.length ? sorted[index + 1].startMs : sessionEnd,
      kind: kindOf(volumes),
      energyKwh: volumes.of('ENERGY') ?? ZERO,
      power: measuredRange(volumes, 'POWER', 'MIN_POWER', 'MAX_POWER'),
      current: measuredRange(volumes, 'CURRENT', 'MIN_CURRENT', 'MAX_CURRENT'),
    };
  });
}

interface Cut {
  ms: Ms;
  /** Exact session energy at this instant when the cut is a kWh threshold. */
  energyAt?: Dec;
}

const msKey = (ms: Ms): string => (typeof ms === 'number' ? String(ms) : ms.toString());

export function splitSession(session: PricingSession, splitPoints: SplitPoints, clock: ZoneClock): Piece[] {
  const sessionStart = parseInstantMs(session.start_date_time);
  const periods = normalisePeriods(session);
  const sessionEnd = periods.length > 0 ? periods[periods.length - 1].endMs : sessionStart;
  const calendarCuts = splitPoints.wallMinutes.length > 0 ? clock.wallClockBoundaries(sessionStart, sessionEnd, splitPoints.wallMinutes) : [];
  const durationCuts = splitPoints.durationThresholdsSeconds.map((seconds) => sessionStart + seconds * 1000);
  const anyCuts = calendarCuts.length > 0 || durationCuts.length > 0 || splitPoints.kwhThresholds.length > 0;

  const pieces: Piece[] = [];
  let energyBefore = ZERO;
  periods.forEach((period, periodIndex) => {
    const start = msOf(period.startMs);
    const end = msOf(period.endMs);
    const length = msMinus(end, start);
    const energyAtStart = energyBefore;
    const energyAtEnd = energyAtStart.plus(period.energyKwh);
    if (!anyCuts) {
      // Nothing can cut the period: one piece from start to end.
      pieces.push({
        startMs: start,
        endMs: end,
        kind: period.kind,
        energyKwh: energyAtEnd.minus(energyAtStart),
        energyBeforeKwh: energyAtStart,
        power: period.power,
        current: period.current,
        periodIndex,
      });
      energyBefore = energyAtEnd;
      return;
    }
    // Energy charged in the session up to `ms`, spreading this period's energy linearly in time.
    const energyAt = (ms: Ms) => (msIsZero(length) ? energyAtStart : energyAtStart.plus(period.energyKwh.mul(msMinus(ms, start)).div(length)));

    const cuts = new Map<string, Cut>();
    const addCut = (cut: Cut) => {
      if (msCmp(cut.ms, start) <= 0 || msCmp(cut.ms, end) >= 0) return;
      const key = msKey(cut.ms);
      if (!cuts.get(key)?.energyAt) cuts.set(key, cut);
    };
    for (const ms of [...calendarCuts, ...durationCuts]) if (ms > period.startMs && ms < period.endMs) addCut({ ms: msOf(ms) });
    if (period.energyKwh.gt(0) && !msIsZero(length)) {
      for (const threshold of splitPoints.kwhThresholds) {
        if (threshold.gt(energyAtStart) && threshold.lt(energyAtEnd)) {
          const ms = msDec(start).plus(threshold.minus(energyAtStart).mul(length).div(period.energyKwh));
          addCut({ ms, energyAt: threshold });
        }
      }
    }

    const boundaries: Cut[] = [
      { ms: start, energyAt: energyAtStart },
      ...[...cuts.values()].sort((a, b) => msCmp(a.ms, b.ms)),
      { ms: end, energyAt: energyAtEnd },
    ];
    for (let i = 0; i + 1 < boundaries.length; i++) {
      const from = boundaries[i];
      const to = boundaries[i + 1];
      const energyFrom = from.energyAt ?? energyAt(from.ms);
      const energyTo = to.energyAt ?? energyAt(to.ms);
      pieces.push({
        startMs: from.ms,
        endMs: to.ms,
        kind: period.kind,
        energyKwh: energyTo.minus(energyFrom),
        energyBeforeKwh: energyFrom,
        power: period.power,
        current: period.current,
        periodIndex,
      });
    }
    energyBefore = energyAtEnd;
  });
  return pieces;
}
