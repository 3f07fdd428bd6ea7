// Worker-fleet load models. The per-connector Poisson model lives in each charger; the models
// here decide WHEN a transaction starts for the whole worker fleet and WHERE (which free connector):
// - open (constant/ramping arrival rate): arrivals on a fixed plan; no free connector -> dropped;
// - closed: a share of connectors loops plug-in -> charge -> unplug -> think.

import { ArrivalSchedule } from './arrival-schedule.js';
import { SameInstant, type Charger, type Connector } from './charger/index.js';
import { Rng } from './prng.js';
import type { ScheduledTarget, Scheduler } from './scheduler.js';
import type { SimClock } from './sim-clock.js';
import type { FleetConfig, LoadModel } from './types.js';
import type { WorkerMetrics } from './worker-metrics.js';

/** The kinds of event a load model plans (each model plans one kind; named for the reader). */
const LoadEvent = { openArrival: 1, closedArrival: 2 } as const;

export interface LoadDriver {
  /** Plans the first arrivals; call once, after the chargers exist. */
  start(): void;
  /** A connector became free at sim second `sec` (booted with no visit, or unplugged). */
  onConnectorFree(charger: Charger, connector: Connector, sec: number): void;
}

interface LoadContext {
  config: FleetConfig;
  scheduler: Scheduler;
  clock: SimClock;
  metrics: WorkerMetrics;
  simEndSec: number;
  workerId: number;
  workers: number;
  chargers: Charger[];
}

/** The driver for the configured model, or null when the chargers plan arrivals themselves. */
export function loadDriverFor(ctx: LoadContext): LoadDriver | null {
  const load: LoadModel | undefined = ctx.config.load;
  if (!load || load.kind === 'per-connector-poisson') return null;
  if (load.kind === 'closed') return new ClosedLoop(ctx, load.connectorsBusyShare ?? 1, load.thinkTimeSec);
  const endMs = (ctx.config.durationSimSec * 1000) / ctx.config.speed;
  // Across shard processes the fleet-wide plan is dealt as if all their workers were one pool,
  // so n shards of W workers each live the arrivals of one run with n x W workers.
  const slice = ctx.config.arrivalSlice ?? { index: 0, count: 1 };
  const dealer = slice.index + slice.count * ctx.workerId;
  const dealers = slice.count * ctx.workers;
  const schedule =
    load.kind === 'constant-arrival-rate'
      ? ArrivalSchedule.constant(load.rate, endMs, dealer, dealers)
      : new ArrivalSchedule(load.stages, load.startRate, endMs, dealer, dealers);
  return new OpenArrivals(ctx, schedule, dealer);
}

interface Slot {
  charger: Charger;
  connector: Connector;
}

/**
 * Free connectors of one worker fleet, kept in a fixed order (its chargers, then connectors).
 * A pick starts at a seeded random position and takes the next free connector from there, so
 * the choice depends only on the seed and on which connectors are free, never on the order in
 * which they became free (boot answers arrive in network order).
 */
export class FreeConnectors {
  private readonly slots: Slot[] = [];
  private readonly position = new Map<Connector, number>();
  private free = new Uint8Array(0);
  private count = 0;

  constructor(chargers: Charger[]) {
    for (const charger of chargers) {
      for (const connector of charger.connectors) {
        this.position.set(connector, this.slots.length);
        this.slots.push({ charger, connector });
      }
    }
    this.free = new Uint8Array(this.slots.length);
  }

  get size(): number {
    return this.count;
  }

  add(connector: Connector): void {
    const i = this.position.get(connector);
    if (i === undefined || this.free[i] === 1) return;
    this.free[i] = 1;
    this.count++;
  }

  /** A connector that can take a driver now (stale entries are cleared on the way), or null. */
  take(rng: Rng): Slot | null {
    const n = this.slots.length;
    let i = Math.floor(rng.next() * n);
    while (this.count > 0) {
      if (this.free[i] === 1) {
        this.free[i] = 0;
        this.count--;
        const slot = this.slots[i];
        if (slot.charger.canTakeArrival(slot.connector)) return slot;
      }
      i = i + 1 === n ? 0 : i + 1;
    }
    return null;
  }
}

class OpenArrivals implements LoadDriver, ScheduledTarget {
  private readonly free: FreeConnectors;
  private readonly rng: Rng;
  /** The next planned arrival (sim second), already taken from the schedule. */
  private nextSec: number | null = null;

  constructor(
    private readonly ctx: LoadContext,
    private readonly schedule: ArrivalSchedule,
    dealer: number,
  ) {
    this.rng = Rng.derive(ctx.config.seed, 'arrivals', dealer);
    this.free = new FreeConnectors(ctx.chargers);
  }

  start(): void {
    this.advance();
    this.plan();
  }

  onConnectorFree(_charger: Charger, connector: Connector): void {
    this.free.add(connector);
  }

  onScheduled(_kind: number, _data: unknown, simMs: number): void {
    const sec = Math.round(simMs / 1000);
    // Every arrival planned for this sim second starts now.
    while (this.nextSec !== null && this.nextSec <= sec) {
      this.arrive(this.nextSec);
      this.advance();
    }
    this.plan();
  }

  private arrive(sec: number): void {
    const slot = this.free.take(this.rng);
    if (!slot || !slot.charger.arrive(slot.connector, sec)) this.ctx.metrics.counters.dropped++;
  }

  /** Takes the next arrival off the schedule, as a whole sim second (events are planned on whole seconds). */
  private advance(): void {
    const offsetMs = this.schedule.next();
    if (offsetMs === null) {
      this.nextSec = null;
      return;
    }
    const { clock } = this.ctx;
    const sec = Math.ceil((clock.startSimMs + offsetMs * clock.speed) / 1000 - 1e-9);
    this.nextSec = sec < this.ctx.simEndSec ? sec : null;
  }

  private plan(): void {
    if (this.nextSec === null) return;
    const simMs = this.nextSec * 1000;
    this.ctx.scheduler.schedule(this.ctx.clock.wallAt(simMs), simMs, this, LoadEvent.openArrival, null, SameInstant.arrival);
  }
}

class ClosedLoop implements LoadDriver, ScheduledTarget {
  /** Connectors that take part in the loop. */
  private readonly looping = new Set<Connector>();
  private readonly owner = new Map<Connector, Charger>();
  /** Connectors whose next plug-in is already planned. */
  private readonly planned = new Set<Connector>();
  private readonly started = new Set<Connector>();

  constructor(
    private readonly ctx: LoadContext,
    share: number,
    private readonly thinkTimeSec: number,
  ) {
    // Spread the looping share evenly over the worker fleet's connectors, in a fixed order.
    let g = 0;
    const s = Math.min(1, Math.max(0, share));
    for (const ch of ctx.chargers) {
      for (const c of ch.connectors) {
        if (Math.floor((g + 1) * s) > Math.floor(g * s)) this.looping.add(c);
        this.owner.set(c, ch);
        g++;
      }
    }
  }

  start(): void {
    // Plug-ins are planned when a connector first becomes free (after its charger booted).
  }

  onConnectorFree(charger: Charger, connector: Connector, sec: number): void {
    if (!this.looping.has(connector) || this.planned.has(connector)) return;
    const startSec = Math.ceil(this.ctx.clock.startSimMs / 1000);
    let at: number;
    if (!this.started.has(connector)) {
      // First plug-ins are spread over one think-and-charge cycle so the fleet does not start in lockstep.
      this.started.add(connector);
      const [dMin, dMax] = this.ctx.config.drivers.dwellMinutes;
      const cycle = this.thinkTimeSec + ((dMin + dMax) / 2) * 60;
      const offset = Math.floor(Rng.derive(this.ctx.config.seed, charger.id, 'closed', connector.id).next() * Math.max(1, cycle));
      at = Math.max(sec, startSec) + offset;
    } else {
      at = Math.max(sec + Math.max(0, Math.round(this.thinkTimeSec)), startSec);
    }
    if (at >= this.ctx.simEndSec) return;
    this.planned.add(connector);
    this.ctx.scheduler.schedule(this.ctx.clock.wallAt(at * 1000), at * 1000, this, LoadEvent.closedArrival, connector, SameInstant.arrival);
  }

  onScheduled(_kind: number, data: unknown, simMs: number): void {
    const connector = data as Connector;
    this.planned.delete(connector);
    const charger = this.owner.get(connector)!;
    const sec = Math.round(simMs / 1000);
    // Busy (a remote start took it) or offline: counted; the next unplug or boot plans it again.
    if (!charger.arrive(connector, sec)) this.ctx.metrics.counters.dropped++;
  }
}
