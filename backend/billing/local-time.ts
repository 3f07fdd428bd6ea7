// Local wall-clock questions about UTC instants, answered by Luxon in the location's IANA zone.
// Nothing here works out an offset by hand: DST nights (a skipped or a repeated hour) are exactly
// where hand-written offset arithmetic goes wrong. Once the zone has said which offset is in
// force, local time is the instant plus that fixed offset, which the hot paths add directly.
import { DateTime, FixedOffsetZone, IANAZone } from 'luxon';
import type { DayOfWeek } from './ocpi.js';

const WEEKDAYS: DayOfWeek[] = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'];

export interface LocalMoment {
  date: string; // "YYYY-MM-DD"
  minuteOfDay: number; // 0..1439
  weekday: DayOfWeek;
}

/** Zone names found valid so far (a few hundred exist): Luxon builds an Intl.DateTimeFormat to check each. */
const validZones = new Set<string>();

export function isValidTimeZone(zone: string): boolean {
  if (validZones.has(zone)) return true;
  if (!IANAZone.isValidZone(zone)) return false;
  validZones.add(zone);
  return true;
}

// The common, fully specified form; the built-in parser handles it exactly and far faster than Luxon.
const ISO_WITH_OFFSET = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

const DAY_MS = 86_400_000;

/** Days from 1970-01-01 to a proleptic Gregorian date (month 1..12); H. Hinnant's days_from_civil. */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

function daysInMonth(year: number, month: number): number {
  if (month !== 2) return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
}

/** Value of the ASCII digits text[from..from+count), or -1 when one of them is not a digit. */
function digitsAt(text: string, from: number, count: number): number {
  let value = 0;
  for (let i = from; i < from + count; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/**
 * The form the back end itself writes, "YYYY-MM-DDTHH:MM:SSZ" or "YYYY-MM-DDTHH:MM:SS.sssZ" with
 * a year from 100 on, read without a regular expression or Date.parse; undefined for any other
 * text, which then takes the general path. Same result as that path for every text it takes.
 */
function parseUtcFast(text: string): number | undefined {
  const length = text.length;
  if (length !== 20 && length !== 24) return undefined;
  if (
    text.charCodeAt(length - 1) !== 90 /* Z */ ||
    text.charCodeAt(4) !== 45 ||
    text.charCodeAt(7) !== 45 ||
    text.charCodeAt(10) !== 84 ||
    text.charCodeAt(13) !== 58 ||
    text.charCodeAt(16) !== 58
  )
    return undefined;
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 2);
  const day = digitsAt(text, 8, 2);
  const hour = digitsAt(text, 11, 2);
  const minute = digitsAt(text, 14, 2);
  const second = digitsAt(text, 17, 2);
  let millisecond = 0;
  if (length === 24) {
    if (text.charCodeAt(19) !== 46 /* . */) return undefined;
    millisecond = digitsAt(text, 20, 3);
    if (millisecond < 0) return undefined;
  }
  if (year < 100 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return undefined;
  if (day > daysInMonth(year, month)) return Number.NaN;
  return daysFromCivil(year, month, day) * DAY_MS + ((hour * 60 + minute) * 60 + second) * 1000 + millisecond;
}

/** Whether `text` is exactly the form Date#toISOString writes ("YYYY-MM-DDTHH:MM:SS.sssZ", a real date). */
export function isCanonicalUtc(text: string): boolean {
  if (text.length !== 24) return false;
  const ms = parseUtcFast(text);
  return ms !== undefined && !Number.isNaN(ms);
}

/** The last two texts parsed in the fast form: a session's start and stop are read again and again. */
let recentText0 = '1970-01-01T00:00:00Z';
let recentMs0 = 0;
let recentText1 = recentText0;
let recentMs1 = 0;

/** Parse an OCPI DateTime; a string without offset is UTC (OCPI sends UTC). NaN when invalid. */
export function parseInstantMs(text: string): number {
  if (typeof text === 'string') {
    if (text === recentText0) return recentMs0;
    if (text === recentText1) return recentMs1;
    const utc = parseUtcFast(text);
    if (utc !== undefined) {
      recentText1 = recentText0;
      recentMs1 = recentMs0;
      recentText0 = text;
      recentMs0 = utc;
      return utc;
    }
  }
  return parseInstantMsGeneral(text);
}

/** parseInstantMs without the fast path for UTC texts: any ISO form, by Date.parse or Luxon (tests compare the two). */
export function parseInstantMsGeneral(text: string): number {
  const fast = ISO_WITH_OFFSET.exec(text);
  if (fast) {
    const [year, month, day] = [Number(text.slice(0, 4)), Number(fast[1]), Number(fast[2])];
    const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
    return day <= daysInMonth ? Date.parse(text) : Number.NaN;
  }
  const parsed = DateTime.fromISO(text, { zone: 'utc' });
  return parsed.isValid ? parsed.toMillis() : Number.NaN;
}

const TWO_DIGITS = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, '0'));
/** Last ISO date formatted ("2026-03-02"): the instants of one session share a day or two. */
let isoDayCache = { day: Number.NaN, date: '', prefix: '' };

/** "YYYY-MM-DD" of a day number (days since 1970-01-01) from 1970 to 9999. */
function isoDate(day: number): string {
  return isoDayCache.day === day ? isoDayCache.date : isoDay(day).date;
}

/** "YYYY-MM-DDT" of a day number from 1970 to 9999. */
function isoDayPrefix(day: number): string {
  return isoDayCache.day === day ? isoDayCache.prefix : isoDay(day).prefix;
}

function isoDay(day: number): { day: number; date: string; prefix: string } {
  // H. Hinnant's civil_from_days.
  const z = day + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const dayOfMonth = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const date = `${year}-${TWO_DIGITS[month]}-${TWO_DIGITS[dayOfMonth]}`;
  isoDayCache = { day, date, prefix: `${date}T` };
  return isoDayCache;
}

/** Latest instant whose UTC year has four digits (9999-12-31T23:59:59.999Z). */
const LAST_FOUR_DIGIT_YEAR_MS = 253_402_300_799_999;

/** UTC ISO 8601, milliseconds only when there are some: "2025-06-02T10:00:00Z". */
export function isoInstant(ms: number): string {
  // Whole milliseconds from 1970 to year 9999 are formatted here, exactly as Date#toISOString
  // would (and far faster); anything else (fractions, NaN, other years) by Date itself.
  if (Number.isSafeInteger(ms) && ms >= 0 && ms <= LAST_FOUR_DIGIT_YEAR_MS) {
    const msOfDay = ms % DAY_MS;
    const prefix = isoDayPrefix((ms - msOfDay) / DAY_MS);
    const millisecond = msOfDay % 1000;
    const secondOfDay = (msOfDay - millisecond) / 1000;
    const second = secondOfDay % 60;
    const minuteOfDay = (secondOfDay - second) / 60;
    const minute = minuteOfDay % 60;
    const hour = (minuteOfDay - minute) / 60;
    const time = `${prefix}${TWO_DIGITS[hour]}:${TWO_DIGITS[minute]}:${TWO_DIGITS[second]}`;
    return millisecond === 0 ? `${time}Z` : `${time}.${String(millisecond).padStart(3, '0')}Z`;
  }
  const text = new Date(ms).toISOString();
  return text.endsWith('.000Z') ? `${text.slice(0, -5)}Z` : text;
}

// Real zones never change offset twice within 12 hours, so sampling at this pace finds every change.
const OFFSET_SCAN_STEP_MS = 12 * 3_600_000;

function zoneOffsetAt(ms: number, zone: string): number {
  return DateTime.fromMillis(ms, { zone }).offset;
}

interface OffsetChange {
  at: number; // first millisecond of the new offset
  offset: number; // minutes east of UTC from `at` on
}

/**
 * The offset changes of one zone in one UTC year, located to the millisecond by bisection. Asking
 * an IANA zone for its offset goes through Intl and is slow, so each zone-year is asked once per
 * process; the cache holds a handful of entries per zone.
 */
const changesByZoneYear = new Map<string, { initialOffset: number; changes: OffsetChange[] }>();

function offsetChangesInYear(zone: string, year: number): { initialOffset: number; changes: OffsetChange[] } {
  const key = `${zone}|${year}`;
  const cached = changesByZoneYear.get(key);
  if (cached) return cached;
  const yearStart = Date.UTC(year, 0, 1);
  const yearEnd = Date.UTC(year + 1, 0, 1);
  const initialOffset = zoneOffsetAt(yearStart, zone);
  const changes: OffsetChange[] = [];
  let previous = yearStart;
  let previousOffset = initialOffset;
  while (previous < yearEnd) {
    const next = Math.min(previous + OFFSET_SCAN_STEP_MS, yearEnd);
    const nextOffset = zoneOffsetAt(next, zone);
    if (nextOffset !== previousOffset) {
      let low = previous; // still the old offset
      let high = next; // already the new offset
      while (high - low > 1) {
        const middle = Math.floor((low + high) / 2);
        if (zoneOffsetAt(middle, zone) === previousOffset) low = middle;
        else high = middle;
      }
      changes.push({ at: high, offset: nextOffset });
    }
    previous = next;
    previousOffset = nextOffset;
  }
  const result = { initialOffset, changes };
  changesByZoneYear.set(key, result);
  return result;
}

/** The offset changes of a run of UTC years, joined once per zone and run of years. */
const changesByZoneYears = new Map<string, { initialOffset: number; changes: readonly OffsetChange[] }>();

/** The UTC year of an instant (NaN for NaN). */
const utcYear = (ms: number) => new Date(ms).getUTCFullYear();

/** The last zone and years a clock was made for: the next session is most often in the same years. */
let lastZoneYears:
  | {
      zone: string;
      /** Where instants of the first and of the last year begin and end (end exclusive). */
      firstFrom: number;
      firstTo: number;
      lastFrom: number;
      lastTo: number;
      years: { initialOffset: number; changes: readonly OffsetChange[] };
    }
  | undefined;

/** zoneYears() for the UTC years of two instants. */
function zoneYearsAround(zone: string, fromMs: number, toMs: number): { initialOffset: number; changes: readonly OffsetChange[] } {
  const last = lastZoneYears;
  // Same zone, each instant within the same year as last time: the same answer.
  if (last !== undefined && last.zone === zone && fromMs >= last.firstFrom && fromMs < last.firstTo && toMs >= last.lastFrom && toMs < last.lastTo) {
    return last.years;
  }
  const firstYear = utcYear(fromMs);
  const lastYear = utcYear(toMs);
  const years = zoneYears(zone, firstYear, lastYear);
  if (firstYear >= 1970 && lastYear <= 9999) {
    lastZoneYears = {
      zone,
      firstFrom: Date.UTC(firstYear, 0, 1),
      firstTo: Date.UTC(firstYear + 1, 0, 1),
      lastFrom: Date.UTC(lastYear, 0, 1),
      lastTo: Date.UTC(lastYear + 1, 0, 1),
      years,
    };
  }
  return years;
}

function zoneYears(zone: string, firstYear: number, lastYear: number): { initialOffset: number; changes: readonly OffsetChange[] } {
  const key = `${zone}|${firstYear}|${lastYear}`;
  const cached = changesByZoneYears.get(key);
  if (cached) return cached;
  const initialOffset = offsetChangesInYear(zone, firstYear).initialOffset;
  const changes: OffsetChange[] = [];
  for (let year = firstYear; year <= lastYear; year++) changes.push(...offsetChangesInYear(zone, year).changes);
  const result = { initialOffset, changes };
  changesByZoneYears.set(key, result);
  return result;
}

const MINUTE_MS = 60_000;

/** A fixed offset applied by plain arithmetic exactly as Luxon applies it: whole minutes, under a day. */
const wholeOffset = (offset: number) => Number.isInteger(offset) && offset > -1440 && offset < 1440;

/** Instants whose local dates (any offset under a day) fall in 1970..9999: what the arithmetic paths take. */
const inArithmeticRange = (ms: number) => Number.isSafeInteger(ms) && ms >= DAY_MS && ms <= LAST_FOUR_DIGIT_YEAR_MS - DAY_MS;

/**
 * One zone around one stretch of time (a session plus a day either side). Local wall-clock
 * questions are answered in the fixed offset in force at the instant, which comes from the
 * zone's own (cached) offset changes, never from arithmetic of our own. In a fixed offset of
 * whole minutes, local time is the instant plus the offset (all Luxon does for a fixed-offset
 * zone): the common cases add it directly, everything else asks Luxon.
 */
export class ZoneClock {
  private readonly fromMs: number;
  private readonly toMs: number;
  private readonly initialOffset: number;
  /** Shared between clocks of the same zone and years: never modified. */
  private readonly changes: readonly OffsetChange[];

  constructor(
    readonly zone: string,
    fromMs: number,
    toMs: number,
  ) {
    this.fromMs = fromMs - DAY_MS;
    this.toMs = toMs + DAY_MS;
    const years = zoneYearsAround(zone, this.fromMs, this.toMs);
    this.initialOffset = years.initialOffset;
    this.changes = years.changes;
  }

  /** UTC offset in minutes at an instant. */
  offsetAt(ms: number): number {
    if (ms < this.fromMs || ms > this.toMs) return zoneOffsetAt(ms, this.zone);
    let offset = this.initialOffset;
    for (const change of this.changes) {
      if (change.at > ms) break;
      offset = change.offset;
    }
    return offset;
  }

  private local(ms: number): DateTime {
    return DateTime.fromMillis(ms, { zone: FixedOffsetZone.instance(this.offsetAt(ms)) });
  }

  /** The local date, time of day and weekday at an instant (fractions of a millisecond are floored). */
  localMoment(ms: number): LocalMoment {
    const at = Math.floor(ms);
    const offset = this.offsetAt(at);
    if (inArithmeticRange(at) && wholeOffset(offset)) {
      const localMs = at + offset * MINUTE_MS;
      const msOfDay = localMs % DAY_MS;
      const day = (localMs - msOfDay) / DAY_MS;
      // 1970-01-01, day 0, was a Thursday.
      return { date: isoDate(day), minuteOfDay: Math.floor(msOfDay / MINUTE_MS), weekday: WEEKDAYS[(day + 3) % 7] };
    }
    const local = this.local(at);
    return {
      date: local.toISODate() ?? '',
      minuteOfDay: local.hour * 60 + local.minute,
      weekday: WEEKDAYS[local.weekday - 1],
    };
  }

  /**
   * Every instant in the open interval (fromMs, toMs) where the local wall clock shows one of
   * `wallMinutes` (minutes after local midnight) or jumps (DST change). A wall time can occur
   * twice (fall-back night) or never (spring-forward night): each offset the zone uses around the
   * interval is tried and only the instants where that offset is really in force are kept.
   */
  wallClockBoundaries(fromMs: number, toMs: number, wallMinutes: number[]): number[] {
    const found = new Set<number>(this.changes.map((change) => change.at).filter((ms) => ms > fromMs && ms < toMs));
    const offsets = new Set([this.offsetAt(this.fromMs), ...this.changes.filter((c) => c.at > this.fromMs && c.at < this.toMs).map((c) => c.offset)]);
    const fromOffset = this.offsetAt(fromMs);
    const toOffset = this.offsetAt(toMs);
    if (
      inArithmeticRange(fromMs) &&
      inArithmeticRange(toMs) &&
      wholeOffset(fromOffset) &&
      wholeOffset(toOffset) &&
      [...offsets].every(wholeOffset) &&
      wallMinutes.every(Number.isFinite)
    ) {
      // Days are local days in the offset at fromMs, from the day before to the day after the one
      // of toMs (in its offset); a wall time on a day is that day's local midnight plus the
      // minutes, minus each offset. Luxon has no wall time for minutes outside 0..1440 or not whole
      // (and throws for ones that are not finite: those take its path).
      const firstDay = Math.floor((fromMs + fromOffset * MINUTE_MS) / DAY_MS) - 1;
      const lastDayMs = (Math.floor((toMs + toOffset * MINUTE_MS) / DAY_MS) + 1) * DAY_MS - toOffset * MINUTE_MS;
      const validMinutes = wallMinutes.filter((minutes) => Number.isInteger(minutes) && minutes >= 0 && minutes <= 1440);
      for (let day = firstDay; day * DAY_MS - fromOffset * MINUTE_MS <= lastDayMs; day++) {
        for (const minutes of validMinutes) {
          for (const offset of offsets) {
            const candidate = day * DAY_MS + (minutes - offset) * MINUTE_MS;
            if (candidate > fromMs && candidate < toMs && this.offsetAt(candidate) === offset) found.add(candidate);
          }
        }
      }
      return [...found].sort((a, b) => a - b);
    }
    const lastDay = this.local(toMs).startOf('day').plus({ days: 1 }).toMillis();
    for (let day = this.local(fromMs).startOf('day').minus({ days: 1 }); day.toMillis() <= lastDay; day = day.plus({ days: 1 })) {
      for (const minutes of wallMinutes) {
        const wall = { year: day.year, month: day.month, day: day.day, hour: Math.floor(minutes / 60), minute: minutes % 60 };
        for (const offset of offsets) {
          const candidate = DateTime.fromObject(wall, { zone: FixedOffsetZone.instance(offset) }).toMillis();
          if (candidate > fromMs && candidate < toMs && this.offsetAt(candidate) === offset) found.add(candidate);
        }
      }
    }
    return [...found].sort((a, b) => a - b);
  }
}
