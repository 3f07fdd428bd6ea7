// Turns a session's charging periods into "pieces": the periods cut further at every instant where
// a restriction of the tariff can change truth, so that evaluating restrictions at a piece's start
// is valid for the whole piece. Energy inside a period is spread linearly in time (reference,
// decision 10); power and current are constant within a period.
import { Dec, toDec } from './money.js';
import { parseInstantMs, type ZoneClock } from './local-time.js';
import type { CdrDimension, CdrDimensionType, ChargingPeriod, PricingSession } from './ocpi.js';
import type { MeasuredRange, SplitPoints } from './restrictions.js';

/** CHARGING is billed as TIME, PARKING as PARKING_TIME, RESERVATION as reservation TIME. */
export type PieceKind = 'CHARGING' | 'PARKING' | 'RESERVATION';

export interface Piece {
  /** Epoch milliseconds; a fraction only where a kWh threshold is crossed mid-period. */
  startMs: Dec;
  endMs: Dec;
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

function volumeOf(dimensions: CdrDimension[], type: CdrDimensionType): Dec | undefined {
  const found = dimensions.find((d) => d.type === type);
  return found === undefined ? undefined : toDec(found.volume);
}

/**
 * TIME means charging and PARKING_TIME parking (energy metered in a parking period is still billed
 * as ENERGY); without either, energy means charging and RESERVATION_TIME a reservation. A period
 * with none of them is charging time: an EVSE that is not delivering is not parking.
 */
export function periodKind(dimensions: CdrDimension[]): PieceKind {
  const positive = (type: CdrDimensionType) => volumeOf(dimensions, type)?.gt(0) ?? false;
  if (positive('TIME')) return 'CHARGING';
  if (positive('PARKING_TIME')) return 'PARKING';
  if (positive('ENERGY')) return 'CHARGING';
  if (positive('RESERVATION_TIME')) return 'RESERVATION';
  return 'CHARGING';
}

function measuredRange(dimensions: CdrDimension[], point: CdrDimensionType, min: CdrDimensionType, max: CdrDimensionType): MeasuredRange {
  const exact = volumeOf(dimensions, point);
  const lowest = volumeOf(dimensions, min) ?? exact ?? volumeOf(dimensions, max);
  const highest = volumeOf(dimensions, max) ?? exact ?? volumeOf(dimensions, min);
  return { min: lowest, max: highest };
}

/** Periods sorted by start, each ending where the next starts (the last at the session end). */
export function normalisePeriods(session: PricingSession): NormalisedPeriod[] {
  const sessionStart = parseInstantMs(session.start_date_time);
  const sessionEnd = Math.max(sessionStart, parseInstantMs(session.end_date_time));
  const source: ChargingPeriod[] = session.charging_periods.length > 0
    ? session.charging_periods
    : [{ start_date_time: session.start_date_time, dimensions: [] }]; // no detail: one charging period
  const sorted = source
    .map((period) => ({ period, startMs: Math.min(Math.max(parseInstantMs(period.start_date_time), sessionStart), sessionEnd) }))
    .sort((a, b) => a.startMs - b.startMs);
  return sorted.map(({ period, startMs }, index) => ({
    startMs,
    endMs: index + 1 < sorted.length ? sorted[index + 1].startMs : sessionEnd,
    kind: periodKind(period.dimensions),
    energyKwh: volumeOf(period.dimensions, 'ENERGY') ?? new Dec(0),
    power: measuredRange(period.dimensions, 'POWER', 'MIN_POWER', 'MAX_POWER'),
    current: measuredRange(period.dimensions, 'CURRENT', 'MIN_CURRENT', 'MAX_CURRENT'),
  }));
}

interface Cut {
  ms: Dec;
  /** Exact session energy at this instant when the cut is a kWh threshold. */
  energyAt?: Dec;
}

export function splitSession(session: PricingSession, splitPoints: SplitPoints, clock: ZoneClock): Piece[] {
  const sessionStart = parseInstantMs(session.start_date_time);
  const periods = normalisePeriods(session);
  const sessionEnd = periods.length > 0 ? periods[periods.length - 1].endMs : sessionStart;
  const calendarCuts = splitPoints.wallMinutes.length > 0
    ? clock.wallClockBoundaries(sessionStart, sessionEnd, splitPoints.wallMinutes)
    : [];
  const durationCuts = splitPoints.durationThresholdsSeconds.map((seconds) => sessionStart + seconds * 1000);

  const pieces: Piece[] = [];
  let energyBefore = new Dec(0);
  periods.forEach((period, periodIndex) => {
    const start = new Dec(period.startMs);
    const end = new Dec(period.endMs);
    const length = end.minus(start);
    const energyAtStart = energyBefore;
    const energyAtEnd = energyAtStart.plus(period.energyKwh);
    // Energy charged in the session up to `ms`, spreading this period's energy linearly in time.
    const energyAt = (ms: Dec) => (length.isZero() ? energyAtStart : energyAtStart.plus(period.energyKwh.mul(ms.minus(start)).div(length)));

    const cuts = new Map<string, Cut>();
    const addCut = (cut: Cut) => {
      if (cut.ms.lte(start) || cut.ms.gte(end)) return;
      const key = cut.ms.toString();
      if (!cuts.get(key)?.energyAt) cuts.set(key, cut);
    };
    for (const ms of [...calendarCuts, ...durationCuts]) if (ms > period.startMs && ms < period.endMs) addCut({ ms: new Dec(ms) });
    if (period.energyKwh.gt(0) && !length.isZero()) {
      for (const threshold of splitPoints.kwhThresholds) {
        if (threshold.gt(energyAtStart) && threshold.lt(energyAtEnd)) {
          const ms = start.plus(threshold.minus(energyAtStart).mul(length).div(period.energyKwh));
          addCut({ ms, energyAt: threshold });
        }
      }
    }

    const boundaries: Cut[] = [
      { ms: start, energyAt: energyAtStart },
      ...[...cuts.values()].sort((a, b) => a.ms.cmp(b.ms)),
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
