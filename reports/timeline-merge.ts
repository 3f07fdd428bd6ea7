// Shard timelines merged into one: points aligned by elapsed second (each shard counts from its
// own start), rates and gauges summed, and the latency percentiles of a merged second taken from
// the sum of the shards' interval histograms, so they are exact (percentiles never add).

import { addInto, createMergeTarget, encodeHistogram, percentileMs } from './histograms.js';
import type { TimelinePoint } from './model.js';
import type { ResultTimelinePoint } from './run-result.js';

export interface MergedTimeline {
  points: TimelinePoint[];
  /** Per merged point: the summed interval histogram (µs, compressed base64), or null without calls. */
  intervalLatency: Array<string | null>;
}

/** One shard's points keyed by elapsed second; two ticks in one second keep the later, their histograms both. */
function bySecond(points: readonly ResultTimelinePoint[]): Map<number, { point: TimelinePoint; histograms: string[] }> {
  const out = new Map<number, { point: TimelinePoint; histograms: string[] }>();
  for (const p of points) {
    const second = Math.round(p.wallMs / 1000);
    const seen = out.get(second);
    const histograms = [...(seen?.histograms ?? []), ...(p.latencyHistogram ? [p.latencyHistogram] : [])];
    out.set(second, { point: p, histograms });
  }
  return out;
}

export function mergeTimelines(timelines: ReadonlyArray<readonly ResultTimelinePoint[]>): MergedTimeline {
  const shards = timelines.map(bySecond);
  const seconds = [...new Set(shards.flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
  const spans = shards.map((m) => (m.size ? { first: Math.min(...m.keys()), last: Math.max(...m.keys()) } : null));
  const latest: Array<TimelinePoint | null> = shards.map(() => null);
  const points: TimelinePoint[] = [];
  const intervalLatency: Array<string | null> = [];

  for (const second of seconds) {
    const sum = { callsPerSec: 0, transactionsPerSec: 0, chargersConnected: 0, sessionsActive: 0, sessionsDone: 0, errors: 0, dropped: 0 };
    let simTime = '';
    const interval = createMergeTarget();
    shards.forEach((shard, i) => {
      const here = shard.get(second);
      if (here) {
        latest[i] = here.point;
        for (const h of here.histograms) addInto(interval, h);
      }
      const p = latest[i];
      const span = spans[i];
      if (!p || !span) return;
      // Cumulative counts hold after a shard's last second; rates and gauges only while it runs
      // (a second missing inside its span, a late tick, repeats its previous point).
      const running = second <= span.last;
      if (running) {
        sum.callsPerSec += p.callsPerSec;
        sum.transactionsPerSec += p.transactionsPerSec;
        sum.chargersConnected += p.chargersConnected;
        sum.sessionsActive += p.sessionsActive;
      }
      sum.sessionsDone += p.sessionsDone;
      sum.errors += p.errors;
      sum.dropped += p.dropped;
      if (here && p.simTime > simTime) simTime = p.simTime;
    });
    points.push({
      wallMs: second * 1000,
      simTime,
      callsPerSec: round1(sum.callsPerSec),
      transactionsPerSec: round1(sum.transactionsPerSec),
      chargersConnected: sum.chargersConnected,
      sessionsActive: sum.sessionsActive,
      sessionsDone: sum.sessionsDone,
      errors: sum.errors,
      dropped: sum.dropped,
      p50: percentileMs(interval, 50),
      p90: percentileMs(interval, 90),
      p99: percentileMs(interval, 99),
    });
    intervalLatency.push(interval.totalCount > 0 ? encodeHistogram(interval) : null);
  }
  return { points, intervalLatency };
}

const round1 = (n: number) => Math.round(n * 10) / 10;
