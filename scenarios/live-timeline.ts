// Turns the workers' per-second progress messages into one merged time series point per
// second: counters are summed over workers, latency deltas are merged, never averaged.
import type { FleetCounters, FleetProgress } from '../sim/types.js';
import type { TimelinePoint } from '../reports/model.js';
import { encodeHistogram, mergeAllActions, mergeHistogramMaps, percentileMs } from '../reports/histograms.js';

export class LiveTimeline {
  readonly points: TimelinePoint[] = [];
  /** Per point: its interval's latency over all actions (µs, compressed base64), so shard timelines merge exactly. */
  readonly intervalLatency: Array<string | null> = [];
  private readonly latestByWorker = new Map<number, FleetCounters>();
  private pendingLatency: Array<Record<string, string>> = [];
  private simTime = '';
  private lastCalls = 0;
  private lastTransactions = 0;
  private lastTickMs = 0;

  constructor(private readonly startedAtMs: number) {}

  record(progress: FleetProgress): void {
    this.latestByWorker.set(progress.workerId, progress.counters);
    if (Object.keys(progress.latencyDelta).length) this.pendingLatency.push(progress.latencyDelta);
    if (progress.simTime > this.simTime) this.simTime = progress.simTime;
  }

  /** Close the current interval and return its point. */
  tick(nowMs: number): TimelinePoint {
    const totals = { calls: 0, transactions: 0, connected: 0, active: 0, done: 0, errors: 0, dropped: 0 };
    for (const c of this.latestByWorker.values()) {
      totals.calls += c.calls;
      totals.transactions += c.transactions;
      totals.connected += c.chargersConnected;
      totals.active += c.sessionsActive;
      totals.done += c.sessionsDone;
      totals.errors += c.callErrors + c.timeouts;
      totals.dropped += c.dropped;
    }
    const seconds = Math.max(0.001, (nowMs - this.startedAtMs - this.lastTickMs) / 1000);
    const interval = this.pendingLatency.length ? mergeAllActions(mergeHistogramMaps(this.pendingLatency)) : null;
    const point: TimelinePoint = {
      wallMs: Math.round(nowMs - this.startedAtMs),
      simTime: this.simTime,
      callsPerSec: round1((totals.calls - this.lastCalls) / seconds),
      transactionsPerSec: round1((totals.transactions - this.lastTransactions) / seconds),
      chargersConnected: totals.connected,
      sessionsActive: totals.active,
      sessionsDone: totals.done,
      errors: totals.errors,
      dropped: totals.dropped,
      p50: interval ? percentileMs(interval, 50) : 0,
      p90: interval ? percentileMs(interval, 90) : 0,
      p99: interval ? percentileMs(interval, 99) : 0,
    };
    this.points.push(point);
    this.intervalLatency.push(interval ? encodeHistogram(interval) : null);
    this.pendingLatency = [];
    this.lastCalls = totals.calls;
    this.lastTransactions = totals.transactions;
    this.lastTickMs = point.wallMs;
    return point;
  }
}

const round1 = (n: number) => Math.round(n * 10) / 10;
