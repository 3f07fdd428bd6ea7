// Call timeouts without a timer per call: connections with a call in flight register here
// and one periodic sweep per worker checks their deadlines.

import { wallNow } from './sim-clock.js';

export interface HasDeadline {
  /** Called by the sweep; the connection times out its outstanding call if past its deadline. */
  checkDeadline(nowWallMs: number): void;
}

export class DeadlineSweeper {
  private readonly watched = new Set<HasDeadline>();
  private timer: NodeJS.Timeout | null = null;
  readonly periodMs: number;

  constructor(callTimeoutMs: number) {
    this.periodMs = Math.min(250, Math.max(10, Math.floor(callTimeoutMs / 10)));
  }

  watch(c: HasDeadline): void {
    this.watched.add(c);
    if (!this.timer) this.timer = setInterval(this.sweep, this.periodMs);
  }

  unwatch(c: HasDeadline): void {
    this.watched.delete(c);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.watched.clear();
  }

  private sweep = (): void => {
    if (this.watched.size === 0) return;
    const now = wallNow();
    for (const c of this.watched) c.checkDeadline(now);
  };
}
