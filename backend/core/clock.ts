// Time as the back end knows it: the wall clock, and each charger's clock as seen in its messages.

// The wall clock as UTC ISO, formatted once per millisecond: a busy back end asks several times per message.
let wallMs = Number.NaN;
let wallText = '';
export function wallIso(): string {
  const now = Date.now();
  if (now !== wallMs) {
    wallMs = now;
    wallText = new Date(now).toISOString();
  }
  return wallText;
}

/** What the back end knows of a charger's clock: its latest timestamp and when that arrived. */
interface ChargerClock {
  latestMs: number;
  /** Wall clock (ms) when the message with the latest timestamp arrived. */
  receivedMs: number;
  /** Some timestamp had a fraction of a second: the charger's clock is finer than whole seconds. */
  subSecond: boolean;
}

/** Each charger's clock as seen in its messages: "now" for authorizations and for statuses without a timestamp. */
export class ChargerClocks {
  private readonly clocks = new Map<string, ChargerClock>();

  /** A timestamp (UTC ISO) a charger sent. */
  see(chargerId: string, iso: string): void {
    const t = Date.parse(iso);
    const clock = this.clocks.get(chargerId);
    if (!clock) {
      this.clocks.set(chargerId, { latestMs: t, receivedMs: Date.now(), subSecond: t % 1000 !== 0 });
      return;
    }
    if (t % 1000 !== 0) clock.subSecond = true;
    if (t > clock.latestMs) {
      clock.latestMs = t;
      clock.receivedMs = Date.now();
    }
  }

  /** Whether the charger has sent any timestamp. */
  knows(chargerId: string): boolean {
    return this.clocks.has(chargerId);
  }

  /**
   * A charger's current time as best known: its latest timestamp plus the wall time since that
   * message arrived, no finer than its own timestamps (whole seconds unless it sent fractions);
   * the wall clock before it sent any. Queued messages replayed with old timestamps never move it back.
   */
  nowFor(chargerId: string): number {
    const clock = this.clocks.get(chargerId);
    if (!clock) return Date.now();
    const now = clock.latestMs + Math.max(0, Date.now() - clock.receivedMs);
    return clock.subSecond ? now : Math.floor(now / 1000) * 1000;
  }
}
