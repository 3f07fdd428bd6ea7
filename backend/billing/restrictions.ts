// OCPI TariffRestrictions: whether an element applies at one instant of a session, and the
// instants/thresholds at which that answer can change (so the engine knows where to split).
import { Dec, tariffDec } from './money.js';
import type { LocalMoment } from './local-time.js';
import type { Tariff, TariffRestrictions } from './ocpi.js';

/** What is known about the session at the start of a (split) period. */
export interface RestrictionContext {
  /** Local date/time; a function because only calendar restrictions need it (and it costs). */
  local: () => LocalMoment;
  /** Energy charged in this session before this instant. */
  energySoFarKwh: Dec;
  secondsSinceSessionStart: Dec;
  /** Lowest/highest power (kW) and current (A) in the period; undefined when not measured. */
  power: MeasuredRange;
  current: MeasuredRange;
}

export interface MeasuredRange {
  min?: Dec;
  max?: Dec;
}

/** Restrictions with their numbers parsed once per pricing run instead of once per evaluation. */
export interface CompiledRestrictions {
  source: TariffRestrictions;
  minKwh?: Dec;
  maxKwh?: Dec;
  minPower?: Dec;
  maxPower?: Dec;
  minCurrent?: Dec;
  maxCurrent?: Dec;
  /** start_time / end_time as minutes after local midnight (see withinTimeOfDay), when either is set. */
  timeWindow?: { start: number; end: number };
}

const optionalDec = (value: TariffRestrictions['min_kwh']) => (value === undefined ? undefined : tariffDec(value));

export function compileRestrictions(r: TariffRestrictions | undefined): CompiledRestrictions | undefined {
  if (!r) return undefined;
  return {
    source: r,
    minKwh: optionalDec(r.min_kwh),
    maxKwh: optionalDec(r.max_kwh),
    minPower: optionalDec(r.min_power),
    maxPower: optionalDec(r.max_power),
    minCurrent: optionalDec(r.min_current),
    maxCurrent: optionalDec(r.max_current),
    timeWindow: r.start_time !== undefined || r.end_time !== undefined ? timeWindow(r.start_time, r.end_time) : undefined,
  };
}

const MINUTES_PER_DAY = 24 * 60;

/** "HH:MM" to minutes after midnight. */
export function wallMinutes(hhmm: string): number {
  const [hours, minutes] = hhmm.split(':').map(Number);
  return hours * 60 + minutes;
}

function timeWindow(startTime?: string, endTime?: string): { start: number; end: number } {
  const start = startTime === undefined ? 0 : wallMinutes(startTime);
  // "00:00" as an end means the end of the day, not its start.
  const end = endTime === undefined || wallMinutes(endTime) === 0 ? MINUTES_PER_DAY : wallMinutes(endTime);
  return { start, end };
}

function withinTimeOfDay(minuteOfDay: number, { start, end }: { start: number; end: number }): boolean {
  if (start < end) return minuteOfDay >= start && minuteOfDay < end;
  if (start > end) return minuteOfDay >= start || minuteOfDay < end; // window wraps past midnight
  return true; // start == end: a 24-hour window
}

/**
 * min_power/min_current must hold for the lowest value in the period and max_power/max_current
 * (exclusive) for the highest; a period without that measurement cannot satisfy the restriction.
 */
function withinRange(measured: MeasuredRange, min: Dec | undefined, max: Dec | undefined): boolean {
  if (min !== undefined && (measured.min === undefined || measured.min.lt(min))) return false;
  if (max !== undefined && (measured.max === undefined || measured.max.gte(max))) return false;
  return true;
}

/** All restrictions that are set must hold (logical AND). `reservation` is handled by the caller. */
export function restrictionsHold(compiled: CompiledRestrictions | undefined, at: RestrictionContext): boolean {
  if (!compiled) return true;
  const r = compiled.source;
  if (r.min_kwh !== undefined && at.energySoFarKwh.lt(compiled.minKwh!)) return false;
  if (r.max_kwh !== undefined && at.energySoFarKwh.gte(compiled.maxKwh!)) return false;
  if (r.min_duration !== undefined && at.secondsSinceSessionStart.lt(r.min_duration)) return false;
  if (r.max_duration !== undefined && at.secondsSinceSessionStart.gte(r.max_duration)) return false;
  if (!withinRange(at.power, compiled.minPower, compiled.maxPower)) return false;
  if (!withinRange(at.current, compiled.minCurrent, compiled.maxCurrent)) return false;
  const hasTime = r.start_time !== undefined || r.end_time !== undefined;
  const hasWeekdays = r.day_of_week !== undefined && r.day_of_week.length > 0;
  if (!hasTime && !hasWeekdays && r.start_date === undefined && r.end_date === undefined) return true;
  const local = at.local();
  if (hasTime && !withinTimeOfDay(local.minuteOfDay, compiled.timeWindow!)) return false;
  if (r.start_date !== undefined && local.date < r.start_date) return false;
  if (r.end_date !== undefined && local.date >= r.end_date) return false;
  if (hasWeekdays && !r.day_of_week!.includes(local.weekday)) return false;
  return true;
}

/** Where the truth of some restriction of this tariff can change inside a session. */
export interface SplitPoints {
  /** Local wall times (minutes after midnight) to split at; empty when no calendar restriction exists. */
  wallMinutes: number[];
  kwhThresholds: Dec[];
  durationThresholdsSeconds: number[];
}

export function splitPointsOf(tariff: Tariff): SplitPoints {
  const minutes = new Set<number>();
  const kwh = new Map<string, Dec>();
  const seconds = new Set<number>();
  for (const { restrictions: r } of tariff.elements) {
    if (!r) continue;
    const hasCalendar =
      r.start_time !== undefined || r.end_time !== undefined || r.start_date !== undefined || r.end_date !== undefined || (r.day_of_week?.length ?? 0) > 0;
    if (hasCalendar) minutes.add(0); // dates and weekdays change at local midnight
    for (const time of [r.start_time, r.end_time]) if (time !== undefined) minutes.add(wallMinutes(time));
    for (const limit of [r.min_kwh, r.max_kwh]) if (limit !== undefined) kwh.set(tariffDec(limit).toString(), tariffDec(limit));
    for (const limit of [r.min_duration, r.max_duration]) if (limit !== undefined) seconds.add(limit);
  }
  return {
    wallMinutes: [...minutes].sort((a, b) => a - b),
    kwhThresholds: [...kwh.values()].sort((a, b) => a.cmp(b)),
    durationThresholdsSeconds: [...seconds].sort((a, b) => a - b),
  };
}
