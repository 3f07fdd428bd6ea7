// Crashes (FleetConfig.chargerBehaviour): the charger loses its open transactions at a crash
// instant, drops its connection once every call is answered, and is back once it has booted
// again and the planned reboot time is over.

import { plannedCrashSecs } from '../charger-behaviour.js';
import { Rng } from '../prng.js';
import type { Charger } from './charger.js';
import { ChargerEvent, SameInstant, type Visit } from './model.js';

/** Crash event data: an instant of the Poisson stream (the next one is planned when it comes) or of crashAtMinutes. */
const POISSON_INSTANT = 1;
const PLANNED_INSTANT = 2;

export class Crashes {
  /**
   * The crash under way, from its instant until the charger is back: 'shutdown' until every call
   * sent is answered, 'rebooting' from the dropped connection until the boot call after it
   * is accepted and the planned reboot time is over.
   */
  private crash: { sec: number; phase: 'shutdown' | 'rebooting'; rebootEndSec: number } | null = null;
  /** The last crash's instant: drivers arriving in [lastCrashSec, lastCrashSec + crashRebootSec) find the charger down. */
  private lastCrashSec = -Infinity;
  /** The Poisson crash stream (its own, so no other draw moves); null without crashesPerChargerPerHour. */
  private crashRng: Rng | null = null;

  constructor(private readonly ch: Charger) {}

  /** From a crash instant until the charger is back. */
  get underWay(): boolean {
    return this.crash !== null;
  }

  /** Crashed, waiting for every call sent to be answered before dropping the connection. */
  get shuttingDown(): boolean {
    return this.crash?.phase === 'shutdown';
  }

  /** The connection was dropped after a crash; the charger is not back yet. */
  get rebooting(): boolean {
    return this.crash?.phase === 'rebooting';
  }

  /** Plans the crash instants of this charger (sim time starts at `t0`). */
  begin(t0: number): void {
    const ch = this.ch;
    const b = ch.behaviour;
    const seed = ch.ctx.config.seed;
    if (b.crashesPerChargerPerHour > 0) {
      this.crashRng = Rng.derive(seed, ch.id, 'crash');
      this.planPoissonCrash(t0);
    }
    if (b.crashAtMinutes.length > 0) {
      for (const sec of plannedCrashSecs(b, seed, ch.id, ch.ctx.clock.startSimMs, ch.ctx.simEndSec))
        ch.at(sec, ChargerEvent.crash, PLANNED_INSTANT, SameInstant.command);
    }
  }

  onCrashEvent(data: unknown, sec: number): void {
    if (data === POISSON_INSTANT) this.planPoissonCrash(sec);
    this.onCrash(sec);
  }

  onRebootEnd(sec: number): void {
    const crash = this.crash;
    if (crash?.phase !== 'rebooting' || !this.ch.booted) return;
    // A crash again while rebooting moved the end of the reboot time.
    if (sec >= crash.rebootEndSec) this.finishReboot(sec);
    else this.ch.at(crash.rebootEndSec, ChargerEvent.rebootEnd, null, SameInstant.housekeeping);
  }

  /** The boot after a crash was accepted: back once the planned reboot time is over too (drivers were turned away by that plan). */
  bootedAfterCrash(sec: number): void {
    const end = this.crash!.rebootEndSec;
    if (sec >= end) this.finishReboot(sec);
    else this.ch.at(end, ChargerEvent.rebootEnd, null, SameInstant.housekeeping);
  }

  private planPoissonCrash(afterSec: number): void {
    const gap = this.crashRng!.exponential(3600 / this.ch.behaviour.crashesPerChargerPerHour);
    const next = Math.max(Math.ceil(afterSec + gap), Math.floor(afterSec) + 1);
    if (next < this.ch.ctx.simEndSec) this.ch.at(next, ChargerEvent.crash, POISSON_INSTANT, SameInstant.command);
  }

  /** Down by the plan at `sec`: inside a crash's reboot time (the crash instant itself included). */
  downAt(sec: number): boolean {
    return sec >= this.lastCrashSec && sec < this.lastCrashSec + this.ch.behaviour.crashRebootSec;
  }

  /**
   * The charger crashes at `sec` (after the meter boundaries and departures due then, like a
   * command) and loses its open transactions: no stop will ever be sent for them.
   * Each charging visit's meter is brought to `sec` and one reading at `sec` goes out, unless one
   * at that instant already did: this is a power loss right after a clock-aligned reading, so the
   * last reading the CSMS has is where the EV stopped drawing and the back end can bill the lost
   * session exactly. (A crash between two readings would lose energy no back end could bill.)
   * Visits still waiting for an authorize or start answer end when it comes (see
   * Visits.onAuthorized, onStarted); drivers waiting for a connector are turned away. Once every
   * call sent is answered, complete() drops the connection.
   */
  private onCrash(sec: number): void {
    const ch = this.ch;
    if (sec >= ch.ctx.simEndSec || sec === this.lastCrashSec || this.downAt(sec)) return; // already down by the plan
    const counters = ch.ctx.metrics.counters;
    counters.crashes = (counters.crashes ?? 0) + 1;
    this.lastCrashSec = sec;
    const rebootSec = ch.behaviour.crashRebootSec;
    if (this.crash === null) this.crash = { sec, phase: 'shutdown', rebootEndSec: sec + rebootSec };
    else this.crash.rebootEndSec = sec + rebootSec; // down again before it was back: no transaction is open
    ch.cancelHeartbeat();
    for (const c of ch.connectors) {
      counters.turnedAway += c.waiting.length;
      c.waiting.length = 0;
      // Free by the plan once the reboot time is over, whatever the visits' planned departures.
      c.plannedFreeSec = sec;
      const v = c.visit;
      // A visit whose departure is already due (it waits for late answers) lived its plan before the crash: it ends as planned.
      if (!v || v.departPending || v.crashSec !== null) continue;
      v.crashSec = sec;
      if (v.phase === 'charging') this.loseSession(v, sec);
    }
    if (this.crash.phase === 'shutdown' && ch.connection.isIdle) this.complete();
  }

  /** A charging visit's transaction is lost at the crash instant `sec`: its meter up to `sec`, a reading at `sec`. */
  loseSession(v: Visit, sec: number): void {
    const ch = this.ch;
    const meter = v.meter!;
    // As Visits.stopSession does: readings at the boundaries before the crash; one at the crash instant is the crash's own reading.
    while (meter.nextBoundarySec() <= sec) {
      const at = meter.nextBoundarySec();
      if (at === sec) meter.advanceTo(at);
      else ch.metering.stepTo(v, at);
    }
    if (v.lastSampleSec !== sec) ch.metering.sample(v, sec, 'Sample.Clock');
    meter.finish(sec);
    ch.ctx.scheduler.cancel(v.boundaryEvent);
    v.boundaryEvent = null;
    v.stopSec = sec;
    v.wireStopReason = 'PowerLoss';
    v.phase = 'lost';
    v.connector.registerJ = meter.registerJ;
    ch.ctx.metrics.counters.sessionsActive--;
  }

  /**
   * Every call sent up to now is answered: the charger drops its connection (no close handshake)
   * and forgets its transactions. Truth gets a record for every lost one, stopped and unplugged at
   * the crash; a stopped session whose driver was still plugged in is unplugged at the crash. The
   * connectors are Available and keep their registers. The connection reconnects as after any
   * loss; the boot then, and the reboot time, bring the charger back (finishReboot).
   */
  complete(): void {
    const ch = this.ch;
    const crash = this.crash!;
    for (const c of ch.connectors) {
      const v = c.visit;
      if (v) {
        const at = v.crashSec ?? crash.sec;
        if (v.phase === 'lost') ch.truth.emit(v, at, ['crash']);
        else if (v.phase === 'stopped' && v.meter) ch.truth.emit(v, Math.max(at, v.stopSec));
        v.phase = 'idle';
        c.visit = null;
      }
      c.status = 'Available';
    }
    crash.phase = 'rebooting';
    ch.rebootPending = false;
    ch.booted = false;
    ch.connection.setReady(false);
    // Already closed (a loss during the shutdown): its reconnect is under way and is the reboot.
    if (ch.connection.state === 'open') ch.connection.drop();
  }

  /** Back after a crash: the drivers who arrived after the reboot time plug in, with their planned instants. */
  private finishReboot(sec: number): void {
    const ch = this.ch;
    this.crash = null;
    for (const c of ch.connectors) {
      if (ch.ended) {
        ch.ctx.metrics.counters.turnedAway += c.waiting.length;
        c.waiting.length = 0;
      }
      const next = c.visit === null ? c.waiting.shift() : undefined;
      if (next) ch.visits.start(next, false);
      else if (c.visit === null) ch.ctx.onConnectorFree?.(ch, c, sec);
    }
  }
}
