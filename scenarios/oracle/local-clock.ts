// Local wall-clock fields for every second of a session, computed with Luxon only at the
// edges of "stretches": runs of seconds sharing one local date and one UTC offset. Inside a
// stretch the local second-of-day just counts up, so no offset arithmetic is done by hand
// and Luxon is called a few dozen times per session instead of once per second.
import { DateTime } from 'luxon';

export interface LocalStretch {
  /** Epoch seconds, [fromEpoch, toEpoch). */
  fromEpoch: number;
  toEpoch: number;
  /** Local seconds since local midnight at fromEpoch; second t has startSecondOfDay + (t - fromEpoch). */
  startSecondOfDay: number;
  /** Local date, "YYYY-MM-DD". */
  date: string;
  /** Local ISO weekday, 1 = Monday ... 7 = Sunday. */
  weekday: number;
}

const SECONDS_PER_DAY = 86_400;

function localAt(epochSeconds: number, zone: string): DateTime {
  const dt = DateTime.fromSeconds(epochSeconds, { zone });
  if (!dt.isValid) throw new RangeError(`invalid time zone "${zone}": ${dt.invalidExplanation ?? dt.invalidReason}`);
  return dt;
}

/** First second in (lo, hi] whose UTC offset differs from the offset at lo (which must exist). */
function firstOffsetChange(lo: number, hi: number, zone: string): number {
  const offset = localAt(lo, zone).offset;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (localAt(mid, zone).offset === offset) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** Split [fromEpoch, toEpoch) into stretches of constant local date and UTC offset. */
export function localStretches(fromEpoch: number, toEpoch: number, zone: string): LocalStretch[] {
  const stretches: LocalStretch[] = [];
  let t = fromEpoch;
  while (t < toEpoch) {
    const local = localAt(t, zone);
    const secondOfDay = local.hour * 3600 + local.minute * 60 + local.second;
    // Next local midnight if the offset holds until then; a DST change cuts the stretch short.
    let end = Math.min(toEpoch, t + (SECONDS_PER_DAY - secondOfDay));
    if (end - t > 1 && localAt(end - 1, zone).offset !== local.offset) {
      end = firstOffsetChange(t, end - 1, zone);
    }
    stretches.push({ fromEpoch: t, toEpoch: end, startSecondOfDay: secondOfDay, date: local.toISODate()!, weekday: local.weekday });
    t = end;
  }
  return stretches;
}
