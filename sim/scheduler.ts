// One scheduler per worker: a binary min-heap of events ordered by wall time (then by
// priority, then by insertion), driven by a single timer. Events carry their target and a
// kind code instead of a closure, so scheduling allocates one small record and nothing else.

import { wallNow } from './sim-clock.js';

export interface ScheduledTarget {
  /** Called when the event is due. `simMs` is the planned sim instant, `wallMs` the planned wall time. */
  onScheduled(kind: number, data: unknown, simMs: number, wallMs: number): void;
}

export interface ScheduledEvent {
  wallMs: number;
  priority: number;
  seq: number;
  simMs: number;
  kind: number;
  target: ScheduledTarget;
  data: unknown;
  cancelled: boolean;
}

export class Scheduler {
  private heap: ScheduledEvent[] = [];
  private seq = 0;
  private timer: NodeJS.Timeout | null = null;
  private armedFor = Infinity;
  private running = false;
  private stopped = false;
  /** Handler errors are reported here instead of breaking the loop. */
  onError: (err: unknown) => void = (err) => {
    console.error('scheduler: event handler failed', err);
  };

  get size(): number {
    return this.heap.length;
  }

  schedule(wallMs: number, simMs: number, target: ScheduledTarget, kind: number, data: unknown = null, priority = 0): ScheduledEvent {
    const ev: ScheduledEvent = { wallMs, priority, seq: this.seq++, simMs, kind, target, data, cancelled: false };
    this.push(ev);
    if (!this.running && wallMs < this.armedFor) this.arm();
    return ev;
  }

  /** Every pending event `deltaMs` later (the clock's start moved): order is unchanged. */
  shift(deltaMs: number): void {
    if (deltaMs === 0) return;
    for (const ev of this.heap) ev.wallMs += deltaMs;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.armedFor = Infinity;
    if (!this.running) this.arm();
  }

  cancel(ev: ScheduledEvent | null | undefined): void {
    if (ev) ev.cancelled = true;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.heap = [];
  }

  /** Runs every event due by now (plus half a millisecond, below timer resolution). */
  private tick = (): void => {
    this.timer = null;
    this.armedFor = Infinity;
    if (this.stopped) return;
    this.running = true;
    try {
      let now = wallNow() + 0.5;
      let n = 0;
      while (this.heap.length > 0) {
        const top = this.heap[0];
        if (top.wallMs > now) {
          // Events may take a while to run; refresh the clock now and then.
          if (n > 0) {
            now = wallNow() + 0.5;
            n = 0;
            if (top.wallMs > now) break;
          } else break;
        }
        this.pop();
        n++;
        if (top.cancelled) continue;
        try {
          top.target.onScheduled(top.kind, top.data, top.simMs, top.wallMs);
        } catch (err) {
          this.onError(err);
        }
      }
    } finally {
      this.running = false;
    }
    this.arm();
  };

  private arm(): void {
    if (this.stopped || this.heap.length === 0) return;
    const due = this.heap[0].wallMs;
    if (this.timer && due >= this.armedFor) return;
    if (this.timer) clearTimeout(this.timer);
    this.armedFor = due;
    const delay = Math.max(0, due - wallNow());
    this.timer = setTimeout(this.tick, delay);
  }

  private less(a: ScheduledEvent, b: ScheduledEvent): boolean {
    if (a.wallMs !== b.wallMs) return a.wallMs < b.wallMs;
    if (a.priority !== b.priority) return a.priority < b.priority;
    return a.seq < b.seq;
  }

  private push(ev: ScheduledEvent): void {
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i], h[p])) break;
      const t = h[i];
      h[i] = h[p];
      h[p] = t;
      i = p;
    }
  }

  private pop(): ScheduledEvent | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l], h[m])) m = l;
        if (r < h.length && this.less(h[r], h[m])) m = r;
        if (m === i) break;
        const t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
      }
    }
    return top;
  }
}
