// Truth timeline -> epoch-second spans, validated: the oracle refuses truth it cannot price
// exactly rather than guessing.
import type { TruthSession } from '../../sim/types.js';

export interface TruthSpan {
  /** Epoch seconds, [fromEpoch, toEpoch). */
  fromEpoch: number;
  toEpoch: number;
  charging: boolean;
  energyWh: number;
  /** Constant power within the span, W. */
  powerW: number;
}

export interface ParsedTruth {
  startEpoch: number;
  stopEpoch: number;
  spans: TruthSpan[];
}

// An instant with an explicit offset: parsing it needs no zone rules, so Date.parse is exact.
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

export function epochSeconds(iso: string, what: string): number {
  const ms = ISO_INSTANT.test(iso) ? Date.parse(iso) : NaN;
  if (Number.isNaN(ms)) throw new RangeError(`${what} is not an ISO instant with offset: "${iso}"`);
  if (ms % 1000 !== 0) throw new RangeError(`${what} must be whole seconds: "${iso}"`);
  return ms / 1000;
}

export function parseTruth(session: Pick<TruthSession, 'startAt' | 'stopAt' | 'timeline'>): ParsedTruth {
  const startEpoch = epochSeconds(session.startAt, 'startAt');
  const stopEpoch = epochSeconds(session.stopAt, 'stopAt');
  if (stopEpoch < startEpoch) throw new RangeError(`stopAt ${session.stopAt} is before startAt ${session.startAt}`);
  const timeline = session.timeline ?? [];
  if (stopEpoch > startEpoch && timeline.length === 0) throw new RangeError('truth session has no timeline to price');

  const starts = timeline.map((interval, i) => epochSeconds(interval.from, `timeline[${i}].from`));
  const spans: TruthSpan[] = [];
  timeline.forEach((interval, i) => {
    const fromEpoch = starts[i];
    const toEpoch = i + 1 < timeline.length ? starts[i + 1] : stopEpoch;
    if (i === 0 && fromEpoch !== startEpoch) throw new RangeError(`timeline[0].from ${interval.from} is not startAt ${session.startAt}`);
    if (toEpoch < fromEpoch || toEpoch > stopEpoch) throw new RangeError(`timeline[${i}] does not lie in order within [startAt, stopAt]`);
    if (!Number.isInteger(interval.energyWh) || interval.energyWh < 0)
      throw new RangeError(`timeline[${i}].energyWh must be a whole number of Wh >= 0, got ${interval.energyWh}`);
    if (!Number.isFinite(interval.avgPowerW ?? 0)) throw new RangeError(`timeline[${i}].avgPowerW must be a finite number of W`);
    if (interval.state !== 'charging' && interval.state !== 'parking')
      throw new RangeError(`timeline[${i}].state must be charging or parking, got ${String(interval.state)}`);
    if (toEpoch === fromEpoch) {
      if (interval.energyWh !== 0) throw new RangeError(`timeline[${i}] delivers ${interval.energyWh} Wh in zero seconds`);
      return;
    }
    spans.push({
      fromEpoch,
      toEpoch,
      charging: interval.state === 'charging',
      energyWh: interval.energyWh,
      powerW: interval.avgPowerW ?? 0,
    });
  });
  return { startEpoch, stopEpoch, spans };
}
