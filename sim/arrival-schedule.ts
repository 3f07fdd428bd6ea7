// The open-model arrival plan: when the fleet starts transactions, as wall-time offsets from
// sim start. Arrivals are evenly spaced in the cumulative rate (k6 constant- and
// ramping-arrival-rate do the same), so the plan is exact and needs no randomness. The fleet-wide
// arrival sequence is dealt round-robin: worker w of W takes arrivals w, w+W, w+2W, ...

import type { RateStage } from './types.js';

interface Segment {
  startMs: number;
  durationMs: number;
  /** Rates in arrivals per wall ms at the segment's start and end. */
  fromRate: number;
  toRate: number;
  /** Cumulative arrivals before the segment. */
  before: number;
}

export class ArrivalSchedule {
  private readonly segments: Segment[] = [];
  private readonly total: number;
  private seg = 0;
  private index: number;

  /**
   * @param stages k6-style stages (a constant rate is one stage from `rate` to `rate`)
   * @param startRate rate at t = 0, arrivals per wall second
   * @param endMs no arrival at or after this offset (the end of the run's arrival window)
   */
  constructor(
    stages: RateStage[],
    startRate: number,
    endMs: number,
    private readonly worker = 0,
    private readonly workers = 1,
  ) {
    let t = 0;
    let before = 0;
    let from = startRate / 1000;
    for (const s of stages) {
      if (t >= endMs) break;
      const durationMs = Math.min(s.durationSec * 1000, endMs - t);
      const fullTo = s.target / 1000;
      // A stage cut short by the end of the window ends at the rate reached by then.
      const to = from + (fullTo - from) * (durationMs / (s.durationSec * 1000 || 1));
      this.segments.push({ startMs: t, durationMs, fromRate: from, toRate: to, before });
      before += ((from + to) / 2) * durationMs;
      t += durationMs;
      from = fullTo;
    }
    this.total = before;
    this.index = worker;
  }

  static constant(ratePerSec: number, endMs: number, worker = 0, workers = 1): ArrivalSchedule {
    return new ArrivalSchedule([{ durationSec: endMs / 1000, target: ratePerSec }], ratePerSec, endMs, worker, workers);
  }

  /** Arrivals the whole fleet plans over the window (all workers). */
  get plannedTotal(): number {
    return Math.ceil(this.total - 1e-9);
  }

  /** Offset (wall ms from sim start) of this worker's next arrival, or null when the plan is done. */
  next(): number | null {
    const k = this.index;
    // Arrival k happens where the cumulative rate reaches k (the first one at the first instant with any rate).
    while (this.seg < this.segments.length) {
      const s = this.segments[this.seg];
      const inSeg = s.before + ((s.fromRate + s.toRate) / 2) * s.durationMs;
      if (k < inSeg - 1e-9) {
        const x = Math.max(0, k - s.before);
        const a = s.fromRate;
        const slope = (s.toRate - s.fromRate) / s.durationMs;
        // Solve a*tau + slope*tau^2/2 = x in a form that is stable for slope -> 0.
        const root = Math.sqrt(Math.max(0, a * a + 2 * slope * x));
        const tau = x === 0 ? 0 : (2 * x) / (a + root);
        this.index += this.workers;
        return s.startMs + Math.min(tau, s.durationMs);
      }
      this.seg++;
    }
    return null;
  }
}
