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

// Real zones never change offset twice within 6 hours, so sampling at this pace finds every change.
const OFFSET_SCAN_STEP_MS = 6 * 3_600_000;
const MARGIN_MS = 2 * 86_400_000;

function zoneOffsetAt(ms: number, zone: string): number {
  return DateTime.fromMillis(ms, { zone }).offset;
}

/**
 * One zone around one session. Asking the IANA zone for its offset goes through Intl and is slow,
 * so the offsets are looked up once (every change located to the millisecond by bisection) and
 * each later question is answered by Luxon in the fixed offset in force at that instant.
 */
export class ZoneClock {
  /** Instants at which the offset changes, ascending; offsets[i] applies before changes[i]. */
  private readonly changes: number[] = [];
  private readonly offsets: number[];

  constructor(
    readonly zone: string,
    private readonly fromMs: number,
    private readonly toMs: number,
  ) {
    let previous = fromMs - MARGIN_MS;
    let previousOffset = zoneOffsetAt(previous, zone);
    this.offsets = [previousOffset];
    const last = toMs + MARGIN_MS;
    while (previous < last) {
      const next = Math.min(previous + OFFSET_SCAN_STEP_MS, last);
      const nextOffset = zoneOffsetAt(next, zone);
      if (nextOffset !== previousOffset) {
        let low = previous; // still the old offset
        let high = next; // already the new offset
        while (high - low > 1) {
          const middle = Math.floor((low + high) / 2);
          if (zoneOffsetAt(middle, zone) === previousOffset) low = middle;
          else high = middle;
        }
        this.changes.push(high);
        this.offsets.push(nextOffset);
      }
      previous = next;
      previousOffset = nextOffset;
    }
  }

  /** UTC offset in minutes at an instant. */
  offsetAt(ms: number): number {
    if (ms < this.fromMs - MARGIN_MS || ms > this.toMs + MARGIN_MS) return zoneOffsetAt(ms, this.zone);
    let index = 0;
    while (index < this.changes.length && this.changes[index] <= ms) index++;
    return this.offsets[index];
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
    const found = new Set<number>(this.changes.filter((ms) => ms > fromMs && ms < toMs));
    const offsets = new Set(this.offsets);
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
