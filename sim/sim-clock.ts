// Simulated time. Sim instants are integer milliseconds since the Unix epoch; the fleet
// plans events on whole simulated seconds and maps them to wall time for scheduling.

/** Recent ISO strings by instant: chargers interleave a few distinct seconds, so one slot is not enough. */
const isoCache = new Map<number, string>();
const ISO_CACHE_SIZE = 1024;

export class SimClock {
  /** Sim epoch ms at which the run starts. */
  readonly startSimMs: number;
  /** Absolute wall ms (performance.timeOrigin + performance.now()) at which sim time = start. */
  private startWall: number;
  readonly speed: number;
  /** Sim time is held just before the start until `startAt` fixes when it begins. */
  private held = false;

  constructor(startAt: string | number, speed: number, startWallMs: number = wallNow()) {
    const ms = typeof startAt === 'number' ? startAt : Date.parse(startAt);
    if (!Number.isFinite(ms)) throw new Error(`SimClock: invalid start instant ${String(startAt)}`);
    if (!(speed > 0)) throw new Error(`SimClock: speed must be > 0, got ${speed}`);
    this.startSimMs = ms;
    this.speed = speed;
    this.startWall = startWallMs;
  }

  get startWallMs(): number {
    return this.startWall;
  }

  /**
   * Until `startAt`, sim time never reaches the start instant, however late it gets: chargers can
   * connect and boot first (their messages carry instants before the start), and nothing that
   * happens at or after the start is stamped before it is known when that will be.
   */
  hold(): void {
    this.held = true;
  }

  /** Sim time starts at this absolute wall ms. */
  startAt(startWallMs: number): void {
    this.startWall = startWallMs;
    this.held = false;
  }

  /** Absolute wall ms at which the sim instant happens. */
  wallAt(simMs: number): number {
    return this.startWall + (simMs - this.startSimMs) / this.speed;
  }

  /** Sim instant (ms, fractional) at an absolute wall ms. */
  simAt(wallMs: number): number {
    const sim = this.startSimMs + (wallMs - this.startWall) * this.speed;
    return this.held && sim >= this.startSimMs ? this.startSimMs - 1 : sim;
  }

  /** Current sim instant, ms. */
  nowSim(): number {
    return this.simAt(wallNow());
  }

  /** The next whole simulated second at or after now, ms. */
  nextWholeSecond(): number {
    return Math.ceil(this.nowSim() / 1000) * 1000;
  }

  /** ISO 8601 with milliseconds and 'Z'. Events cluster on whole seconds, so recent answers are cached. */
  static iso(simMs: number): string {
    let text = isoCache.get(simMs);
    if (text === undefined) {
      if (isoCache.size >= ISO_CACHE_SIZE) isoCache.clear();
      text = new Date(simMs).toISOString();
      isoCache.set(simMs, text);
    }
    return text;
  }
}

/** Absolute wall clock in ms with sub-ms resolution, comparable across worker threads. */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}
