// OCPI tariff elements compiled into plain numbers the per-second loop can test cheaply.
// Semantics (OCPI 2.2.1 TariffRestrictions): all set restrictions must hold; min
// bounds inclusive, max bounds exclusive; times and dates are local to the location.
import type { DayOfWeek, PriceComponent, ReservationRestrictionType, Tariff, TariffRestrictions } from '../../backend/billing/ocpi.js';
import { Rational } from './rational.js';

export type PricedDimension = 'ENERGY' | 'TIME' | 'PARKING_TIME' | 'FLAT';

const SECONDS_PER_DAY = 86_400;
const WEEKDAY_NUMBER: Record<DayOfWeek, number> = {
  MONDAY: 1,
  TUESDAY: 2,
  WEDNESDAY: 3,
  THURSDAY: 4,
  FRIDAY: 5,
  SATURDAY: 6,
  SUNDAY: 7,
};

export interface CompiledElement {
  index: number;
  /** The element's first component of each type (a second one of the same type is never reached). */
  components: Partial<Record<PricedDimension, PriceComponent>>;
  /** Holds for no second of this session (current restriction, reservation mismatch). */
  never: boolean;
  /** Local time-of-day window in seconds of day, end exclusive; start > end wraps past midnight. */
  windowStart: number;
  windowEnd: number;
  startDate: string | null; // local, inclusive
  endDate: string | null; // local, exclusive
  /** Bit n set = ISO weekday n allowed; 0 = any day. */
  weekdayMask: number;
  minWh: Rational | null; // inclusive, energy so far
  maxWh: Rational | null; // exclusive
  minPowerW: Rational | null; // inclusive, instantaneous
  maxPowerW: Rational | null; // exclusive
  minDuration: number; // inclusive, seconds since start
  maxDuration: number; // exclusive
}

function secondsOfDay(hhmm: string, field: string): number {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(hhmm);
  if (!m) throw new RangeError(`restriction ${field} must be "HH:MM" (00:00-23:59), got "${hhmm}"`);
  return Number(m[1]) * 3600 + Number(m[2]) * 60;
}

function wholeSeconds(value: number | undefined, field: string, absent: number): number {
  if (value == null) return absent;
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`restriction ${field} must be whole seconds, got ${value}`);
  return value;
}

const optionalRational = (value: string | number | undefined, scale: number): Rational | null =>
  value == null ? null : Rational.fromDecimal(value).mul(Rational.of(scale));

function localDate(value: string | undefined, field: string): string | null {
  if (value == null) return null;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) throw new RangeError(`restriction ${field} must be "YYYY-MM-DD", got "${value}"`);
  return value;
}

function compileRestrictions(r: TariffRestrictions, reservation: ReservationRestrictionType | undefined) {
  const hasStart = r.start_time != null;
  const hasEnd = r.end_time != null;
  const start = hasStart ? secondsOfDay(r.start_time!, 'start_time') : 0;
  // "00:00" as an end means end of day; a missing end is end of day too.
  const endRaw = hasEnd ? secondsOfDay(r.end_time!, 'end_time') : 0;
  const end = endRaw === 0 ? SECONDS_PER_DAY : endRaw;
  let weekdayMask = 0;
  for (const day of r.day_of_week ?? []) {
    const n = WEEKDAY_NUMBER[day];
    if (!n) throw new RangeError(`restriction day_of_week has unknown day "${day}"`);
    weekdayMask |= 1 << n;
  }
  return {
    // The truth carries no current, so a current restriction cannot be shown to hold.
    never: r.min_current != null || r.max_current != null || (r.reservation != null && r.reservation !== reservation),
    // start == end (e.g. 10:00-10:00) is read as a full 24-hour window, i.e. no restriction.
    windowStart: start === end % SECONDS_PER_DAY ? 0 : start,
    windowEnd: start === end % SECONDS_PER_DAY ? SECONDS_PER_DAY : end,
    startDate: localDate(r.start_date, 'start_date'),
    endDate: localDate(r.end_date, 'end_date'),
    weekdayMask,
    minWh: optionalRational(r.min_kwh, 1000),
    maxWh: optionalRational(r.max_kwh, 1000),
    minPowerW: optionalRational(r.min_power, 1000),
    maxPowerW: optionalRational(r.max_power, 1000),
    minDuration: wholeSeconds(r.min_duration, 'min_duration', -Infinity),
    maxDuration: wholeSeconds(r.max_duration, 'max_duration', Infinity),
  };
}

export function compileElements(tariff: Tariff, reservation: ReservationRestrictionType | undefined): CompiledElement[] {
  if (!tariff.elements?.length) throw new RangeError(`tariff ${tariff.id} has no elements`);
  return tariff.elements.map((element, index) => {
    const components: CompiledElement['components'] = {};
    for (const c of element.price_components) components[c.type] ??= c;
    return { index, components, ...compileRestrictions(element.restrictions ?? {}, reservation) };
  });
}

/** Local time-of-day restriction at local second-of-day `sod`. */
export function timeOfDayHolds(e: CompiledElement, sod: number): boolean {
  return e.windowStart < e.windowEnd ? sod >= e.windowStart && sod < e.windowEnd : sod >= e.windowStart || sod < e.windowEnd;
}

/** Date and weekday restrictions for a local date. */
export function dayHolds(e: CompiledElement, date: string, weekday: number): boolean {
  return (
    (e.startDate === null || date >= e.startDate) && (e.endDate === null || date < e.endDate) && (e.weekdayMask === 0 || (e.weekdayMask & (1 << weekday)) !== 0)
  );
}

/** Exact comparison of a power in W (a JS number from the truth) with a decimal threshold. */
function comparePower(powerW: number, threshold: Rational): number {
  if (threshold.den === 1n) return powerW < Number(threshold.num) ? -1 : powerW > Number(threshold.num) ? 1 : 0;
  return Rational.fromDecimal(powerW).cmp(threshold);
}

export function powerHolds(e: CompiledElement, powerW: number): boolean {
  return (e.minPowerW === null || comparePower(powerW, e.minPowerW) >= 0) && (e.maxPowerW === null || comparePower(powerW, e.maxPowerW) < 0);
}

export function durationHolds(e: CompiledElement, secondsSinceStart: number): boolean {
  return secondsSinceStart >= e.minDuration && secondsSinceStart < e.maxDuration;
}

/**
 * Where, inside an interval of `seconds` delivering `intervalWh` uniformly after `priorWh`,
 * the kWh restriction holds: offsets t (seconds from the interval start) with lo <= t < hi.
 * Energy so far only grows, so the set is always one such range; null bounds are unbounded.
 */
export interface EnergyRange {
  never: boolean;
  lo: Rational | null;
  hi: Rational | null;
}

export function energyRange(e: CompiledElement, priorWh: number, intervalWh: number, seconds: number): EnergyRange {
  const prior = Rational.of(priorWh);
  // Offset at which energy so far reaches `wh`: (wh - prior) * seconds / intervalWh.
  const reachAt = (wh: Rational) => wh.sub(prior).mul(Rational.of(seconds, intervalWh));
  let lo: Rational | null = null;
  let hi: Rational | null = null;
  if (e.minWh !== null) {
    if (intervalWh === 0) {
      if (prior.lt(e.minWh)) return { never: true, lo, hi };
    } else lo = reachAt(e.minWh);
  }
  if (e.maxWh !== null) {
    if (intervalWh === 0) {
      if (!prior.lt(e.maxWh)) return { never: true, lo, hi };
    } else hi = reachAt(e.maxWh);
  }
  return { never: false, lo, hi };
}
