// Counters and per-action latency histograms of one worker.

import type { Histogram } from 'hdr-histogram-js';
import { dispose, encodeHistogram, newHistogram } from './histograms.js';
import type { FleetCounters } from './types.js';

export function emptyCounters(): FleetCounters {
  return {
    chargersConnected: 0,
    sessionsActive: 0,
    sessionsDone: 0,
    calls: 0,
    callErrors: 0,
    timeouts: 0,
    dropped: 0,
    turnedAway: 0,
    reconnects: 0,
    transactions: 0,
    answered: 0,
    incomingCalls: 0,
  };
}

export function addCounters(into: FleetCounters, c: FleetCounters): void {
  for (const k of Object.keys(c) as Array<keyof FleetCounters>) {
    const v = c[k];
    if (typeof v === 'number') into[k] = ((into[k] ?? 0) as number) + v;
  }
}

interface ActionHistograms {
  delta: Histogram;
  latency: Histogram;
  service: Histogram;
}

export class WorkerMetrics {
  readonly counters: FleetCounters = emptyCounters();
  readonly errors: Record<string, number> = {};
  private readonly actions = new Map<string, ActionHistograms>();
  private deltaDirty = new Set<string>();

  error(kind: string, n = 1): void {
    this.errors[kind] = (this.errors[kind] ?? 0) + n;
  }

  /** Records one answered call: latency from the planned send time, service time from the actual send (ms in, µs stored). */
  record(action: string, latencyMs: number, serviceMs: number): void {
    let h = this.actions.get(action);
    if (!h) {
      h = { delta: newHistogram(), latency: newHistogram(), service: newHistogram() };
      this.actions.set(action, h);
    }
    const lat = Math.max(1, Math.round(latencyMs * 1000));
    const svc = Math.max(1, Math.round(serviceMs * 1000));
    h.delta.recordValue(lat);
    h.latency.recordValue(lat);
    h.service.recordValue(svc);
    this.deltaDirty.add(action);
  }

  /** Latency recorded since the previous call, per action (encoded), and resets the deltas. */
  takeLatencyDeltas(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const action of this.deltaDirty) {
      const h = this.actions.get(action)!;
      out[action] = encodeHistogram(h.delta);
      h.delta.reset();
    }
    this.deltaDirty.clear();
    return out;
  }

  /** Ends the warm-up: what the final histograms recorded so far is discarded (the live deltas go on). */
  discardTotals(): void {
    for (const h of this.actions.values()) {
      h.latency.reset();
      h.service.reset();
    }
  }

  finalHistograms(): { latency: Record<string, string>; serviceTime: Record<string, string> } {
    const latency: Record<string, string> = {};
    const serviceTime: Record<string, string> = {};
    for (const [action, h] of this.actions) {
      // An action seen only during the warm-up has nothing left to report.
      if (h.latency.totalCount === 0) continue;
      latency[action] = encodeHistogram(h.latency);
      serviceTime[action] = encodeHistogram(h.service);
    }
    return { latency, serviceTime };
  }

  dispose(): void {
    for (const h of this.actions.values()) {
      dispose(h.delta);
      dispose(h.latency);
      dispose(h.service);
    }
    this.actions.clear();
  }
}
