// Drivers of the per-connector model: Poisson arrivals at each connector, the driver's and EV's
// draws for a visit, and the drivers a worker-fleet load model sends.

import type { EvSpec } from '../ev-physics.js';
import type { Charger } from './charger.js';
import { ChargerEvent, SameInstant, type Connector, type Visit } from './model.js';

const FALLBACK_TOKEN = 'SIMTOKEN';

export class Drivers {
  constructor(private readonly ch: Charger) {}

  /** Plans each connector's first arrival (per-connector model only). */
  begin(t0: number): void {
    const load = this.ch.ctx.config.load;
    // Other load models plan arrivals for the whole worker fleet (sim/load-driver.ts).
    const rate = load && load.kind !== 'per-connector-poisson' ? 0 : this.ch.ctx.config.drivers.arrivalsPerConnectorPerHour;
    if (rate > 0) {
      for (const c of this.ch.connectors) this.planArrival(c, t0);
    }
  }

  private planArrival(c: Connector, afterSec: number): void {
    const rate = this.ch.ctx.config.drivers.arrivalsPerConnectorPerHour;
    const gap = c.rng.exponential(3600 / rate);
    const next = Math.max(Math.ceil(afterSec + gap), Math.floor(afterSec) + 1);
    if (next < this.ch.ctx.simEndSec) this.ch.at(next, ChargerEvent.arrival, c, SameInstant.arrival);
  }

  onArrival(c: Connector, sec: number): void {
    const ch = this.ch;
    this.planArrival(c, sec);
    // Busy by the plan, not by how far the answers have come: the truth must not depend on latency.
    // Likewise down after a crash for the planned reboot time, however long the reboot really takes.
    // Demand the site could not serve, not work the harness failed to send: turned away, not dropped.
    if (sec < c.plannedFreeSec || ch.crashes.downAt(sec)) {
      ch.ctx.metrics.counters.turnedAway++;
      return;
    }
    const visit = this.drawVisit(c, sec, this.pickToken(c));
    // A charger still shutting down or rebooting takes the driver once it is back (Crashes.finishReboot).
    if (c.visit || ch.crashes.underWay) c.waiting.push(visit);
    else ch.visits.start(visit, false);
  }

  plugIn(c: Connector, sec: number, idTag: string, remote: boolean): Visit {
    return this.ch.visits.start(this.drawVisit(c, sec, idTag), remote);
  }

  /** Whether a driver sent by a worker-fleet load model could plug in here now. */
  canTakeArrival(c: Connector): boolean {
    const ch = this.ch;
    return c.visit === null && ch.booted && !ch.ended && !ch.stopped && !ch.crashes.underWay && ch.connection.state === 'open';
  }

  /** A driver sent by a worker-fleet load model plugs in at `sec`; false if the connector cannot take one. */
  arrive(c: Connector, sec: number): boolean {
    if (!this.canTakeArrival(c) || sec >= this.ch.ctx.simEndSec || this.ch.crashes.downAt(sec)) return false;
    this.plugIn(c, sec, this.pickToken(c), false);
    return true;
  }

  private pickToken(c: Connector): string {
    const tokens = this.ch.ctx.config.tokens;
    return tokens.length > 0 ? c.rng.pick(tokens) : FALLBACK_TOKEN;
  }

  /** The driver's and EV's draws for a visit that plugs in at `sec`. */
  private drawVisit(c: Connector, sec: number, idTag: string): Visit {
    const ctx = this.ch.ctx;
    const cfg = ctx.config;
    const r = c.rng;
    const [dMin, dMax] = cfg.drivers.dwellMinutes;
    const dwellSec = Math.max(1, Math.round(r.uniform(Math.min(dMin, dMax), Math.max(dMin, dMax)) * 60));
    const ev: EvSpec = {
      capacityWh: r.int(cfg.ev.capacityWh[0], cfg.ev.capacityWh[1]),
      initialSocPct: r.int(cfg.ev.initialSocPct[0], cfg.ev.initialSocPct[1]),
      targetSocPct: r.int(cfg.ev.targetSocPct[0], cfg.ev.targetSocPct[1]),
      maxPowerW: r.int(cfg.ev.maxPowerW[0], cfg.ev.maxPowerW[1]),
    };
    const visit: Visit = {
      connector: c,
      plugInSec: sec,
      departSec: ctx.gracefulStop ? sec + dwellSec : Math.max(sec, Math.min(sec + dwellSec, ctx.simEndSec)),
      planSec: sec,
      idTag,
      ev,
      phase: 'authorizing',
      departPending: false,
      meter: null,
      transactionId: null,
      startSec: sec,
      stopSec: sec,
      wireStopReason: null,
      lastSampleSec: -1,
      boundaryEvent: null,
      crashSec: null,
    };
    c.plannedFreeSec = Math.max(c.plannedFreeSec, visit.departSec);
    return visit;
  }
}
