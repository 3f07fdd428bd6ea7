// Local wall-clock questions about UTC instants, answered by Luxon in the location's IANA zone.
// Nothing here adds or subtracts offsets by hand: DST nights (a skipped or a repeated hour) are
// exactly where hand-written offset arithmetic goes wrong.
import { DateTime, FixedOffsetZone, IANAZone } from 'luxon';
import type { DayOfWeek } from './ocpi.js';

const WEEKDAYS: DayOfWeek[] = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'];

export interface LocalMoment {
  date: string; // "YYYY-MM-DD"
  minuteOfDay: number; // 0..1439
  weekday: DayOfWeek;
}

export function isValidTimeZone(zone: string): boolean {
  return IANAZone.isValidZone(zone);
}

// The common, fully specified form; the built-in parser handles it exactly and far faster than Luxon.
const ISO_WITH_OFFSET = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

/** Parse an OCPI DateTime; a string without offset is UTC (OCPI sends UTC). NaN when invalid. */
export function parseInstantMs(text: string): number {
  const fast = ISO_WITH_OFFSET.exec(text);
  if (fast) {
    const [year, month, day] = [Number(text.slice(0, 4)), Number(fast[1]), Number(fast[2])];
    const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
    return day <= daysInMonth ? Date.parse(text) : Number.NaN;
  }
  const parsed = DateTime.fromISO(text, { zone: 'utc' });
  return parsed.isValid ? parsed.toMillis() : Number.NaN;
}

/** UTC ISO 8601, milliseconds only when there are some: "2025-06-02T10:00:00Z". */
export function isoInstant(ms: number): string {
  const text = new Date(ms).toISOString();
  return text.endsWith('.000Z') ? `${text.slice(0, -5)}Z` : text;
}

// Real zones never change offset twice within 12 hours, so sampling at this pace finds every change.
const OFFSET_SCAN_STEP_MS = 12 * 3_600_000;
const DAY_MS = 86_400_000;

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

/**
 * One zone around one stretch of time (a session plus a day either side). Local wall-clock
 * questions are answered by Luxon in the fixed offset in force at the instant, which comes from
 * the zone's own (cached) offset changes: never from arithmetic of our own.
 */
export class ZoneClock {
  private readonly fromMs: number;
  private readonly toMs: number;
  private readonly initialOffset: number;
  private readonly changes: OffsetChange[] = [];

  constructor(
    readonly zone: string,
    fromMs: number,
    toMs: number,
  ) {
    this.fromMs = fromMs - DAY_MS;
    this.toMs = toMs + DAY_MS;
    const firstYear = new Date(this.fromMs).getUTCFullYear();
    const lastYear = new Date(this.toMs).getUTCFullYear();
    this.initialOffset = offsetChangesInYear(zone, firstYear).initialOffset;
    for (let year = firstYear; year <= lastYear; year++) this.changes.push(...offsetChangesInYear(zone, year).changes);
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
    const local = this.local(Math.floor(ms));
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
