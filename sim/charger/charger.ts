// One simulated charge point: connectors, EVs, drivers, the OCPP conversation, ground truth.
// Everything that happens is planned on whole simulated seconds; every timestamp sent is the
// planned instant, so truth (and bills) do not depend on network latency.

import { plannedCrashSecs, resolveBehaviour, type ResolvedBehaviour } from '../charger-behaviour.js';
import { ChargerConfiguration } from './configuration.js';
import { COST_VENDOR_ID, emptyDisplay, readCostMessage, showOn, type SessionDisplay } from './cost-messages.js';
import type { DeadlineSweeper } from '../deadline-sweeper.js';
import type { CommandReply, ConnectorStatus, CsmsCommand, Dialect, MeterSample, SampleContext, TriggerableMeaning, WireStopReason } from '../dialect.js';
import { SessionMeter, whOf, type EvSpec } from '../ev-physics.js';
import { OcppCallError } from '../../ocpp-j/index.js';
import type { JsonObject } from '../../ocpp-j/index.js';
import { OcppConnection, type CallFailure, type ConnectionHandler, type OutgoingCall } from '../ocpp-connection.js';
import type { SchemaValidator } from '../../ocpp-j/index.js';
import { Rng } from '../prng.js';
import type { ScheduledEvent, ScheduledTarget, Scheduler } from '../scheduler.js';
import { SimClock, wallNow } from '../sim-clock.js';
import type { ChargerSpec, FleetConfig, TruthSession } from '../types.js';
import type { WorkerMetrics } from '../worker-metrics.js';

export interface ChargerContext {
  config: FleetConfig;
  scheduler: Scheduler;
  clock: SimClock;
  metrics: WorkerMetrics;
  sweeper: DeadlineSweeper;
  validator: SchemaValidator;
  dialect: Dialect;
  /** Drivers arrive strictly before this sim second; open sessions stop at it unless `gracefulStop`. */
  simEndSec: number;
  /**
   * Sessions under way at simEndSec run to their planned end (k6's graceful stop) instead of all
   * stopping at that instant, which would end a load test with a burst no real fleet sends.
   */
  gracefulStop?: boolean;
  onTruth: (t: TruthSession) => void;
  /** A connector became free for a new driver (booted with no visit, or unplugged); worker-fleet load models listen. */
  onConnectorFree?: (charger: Charger, connector: Connector, sec: number) => void;
  localAddress?: string;
  /** Default heartbeat interval until the CSMS gives one (sim seconds). */
  defaultHeartbeatSec?: number;
}

/** 'lost': the transaction was lost in a crash (no StopTransaction will come); its truth is written when the charger drops its connection. */
type VisitPhase = 'authorizing' | 'starting' | 'charging' | 'stopped' | 'lost' | 'idle';

/** An EV plugged into a connector, from plug-in to unplug; at most one transaction. */
export interface Visit {
  connector: Connector;
  plugInSec: number;
  departSec: number;
  /** Planned instant of the pending Authorize/StartTransaction. */
  planSec: number;
  idTag: string;
  ev: EvSpec;
  phase: VisitPhase;
  departPending: boolean;
  meter: SessionMeter | null;
  /** The CSMS's id, as text whatever the protocol's wire type (the dialect converts). */
  transactionId: string | null;
  startSec: number;
  stopSec: number;
  wireStopReason: WireStopReason | null;
  lastSampleSec: number;
  boundaryEvent: ScheduledEvent | null;
  /** What the display showed of this visit's cost, once the CSMS sent any. */
  display?: SessionDisplay;
  /** The sim second of the crash that ended this visit (see Charger.onCrash); null while the charger has not crashed under it. */
  crashSec: number | null;
}

export interface Connector {
  id: number;
  status: ConnectorStatus;
  /** Driver and EV draws for this connector (its own stream). */
  rng: Rng;
  /** Lifetime energy register, joules. */
  registerJ: number;
  visit: Visit | null;
  /**
   * Drivers who arrived, by the plan, after the current visit's planned departure while that
   * visit still waits for late answers. They plug in as soon as it clears, with their planned
   * instants, so a slow CSMS changes when messages are sent but never what the truth is.
   */
  waiting: Visit[];
  /** Planned departure of the last driver who took this connector: earlier arrivals find it busy. */
  plannedFreeSec: number;
}

const K_ARRIVAL = 1;
const K_DEPARTURE = 2;
const K_BOUNDARY = 3;
const K_HEARTBEAT = 4;
const K_BOOT_RETRY = 5;
const K_COMMAND = 6;
const K_CRASH = 7;
const K_REBOOT_END = 8;

/** K_CRASH data: an instant of the Poisson stream (the next one is planned when it comes) or of crashAtMinutes. */
const CRASH_POISSON = 1;
const CRASH_PLANNED = 2;

// Same-instant order: meter boundaries, then departures, then commands, then arrivals.
const P_BOUNDARY = 0;
const P_DEPARTURE = 1;
const P_COMMAND = 2;
const P_ARRIVAL = 3;
const P_HOUSEKEEPING = 4;

const FALLBACK_TOKEN = 'SIMTOKEN';
const BOOT_RETRY_MIN_SEC = 10;

/** Truth keeps the integer ids 1.6 gives, as reports and the reconciler read them. */
function truthTransactionId(id: string | null): number | null {
  return id === null ? null : Number(id);
}

/** An id a CSMS gave and may send cost messages for (1.6 ids are positive; -1 or 0 stand for none). */
function isCsmsTransactionId(id: string | null): id is string {
  return id !== null && Number(id) > 0;
}

function truthReason(r: WireStopReason): TruthSession['stopReason'] {
  return r === 'Local' || r === 'Remote' || r === 'EVDisconnected' ? r : 'Other';
}

export class Charger implements ScheduledTarget, ConnectionHandler {
  readonly id: string;
  readonly connection: OcppConnection;
  readonly connectors: Connector[];
  readonly configuration: ChargerConfiguration;
  booted = false;
  /** The first connection attempt came to something: booted, a boot answer or failure, or a lost connection. */
  connectSettled = false;
  private heartbeatEvent: ScheduledEvent | null = null;
  private rebootPending = false;
  private stopped = false;
  /** Ended early (abort): planned arrivals, heartbeats and commands no longer run. */
  private ended = false;
  /** The CSMS sends cost messages: a stopped transaction waits for its FinalCost before the charger is settled. */
  private costMessagesSeen = false;
  private readonly awaitingFinalCost = new Set<string>();
  /** Emitted truth by transaction id until its FinalCost comes: it may arrive after the driver unplugged. */
  private readonly truthAwaitingFinalCost = new Map<string, TruthSession>();
  /** Visits authorized, in answer order: a CSMS sends each its SetUserPrice in that order. */
  private readonly userPriceAwaited: Visit[] = [];
  /** While an answer is being handled: when it arrived (calls it causes cannot be planned earlier). */
  private answeredAtWallMs = -Infinity;
  /** Only the calls a billed transaction needs: no Preparing, no Finishing, no meter sample at the start; the closing reading inside StopTransaction. */
  private readonly minimalMessages: boolean;
  private readonly showsCost: boolean;
  /** Decimals of the energy register in meter readings (FleetConfig.chargerBehaviour; 0 = whole Wh). */
  private readonly registerDecimals: number;
  /** StatusNotification carries its timestamp (FleetConfig.chargerBehaviour; default true). */
  private readonly statusTimestamps: boolean;
  private readonly behaviour: ResolvedBehaviour;
  /**
   * The crash under way, from its instant until the charger is back: 'shutdown' until every call
   * sent is answered, 'rebooting' from the dropped connection until the BootNotification after it
   * is accepted and the planned reboot time is over.
   */
  private crash: { sec: number; phase: 'shutdown' | 'rebooting'; rebootEndSec: number } | null = null;
  /** The last crash's instant: drivers arriving in [lastCrashSec, lastCrashSec + crashRebootSec) find the charger down. */
  private lastCrashSec = -Infinity;
  /** The Poisson crash stream (its own, so no other draw moves); null without crashesPerChargerPerHour. */
  private crashRng: Rng | null = null;

  constructor(
    readonly spec: ChargerSpec,
    private readonly ctx: ChargerContext,
  ) {
    this.id = spec.id;
    this.minimalMessages = ctx.config.transactionMessages === 'minimal';
    this.showsCost = ctx.config.costDisplay !== false;
    const behaviour = resolveBehaviour(ctx.config.chargerBehaviour);
    this.behaviour = behaviour;
    this.registerDecimals = behaviour.registerDecimals;
    this.statusTimestamps = behaviour.statusTimestamps;
    const seed = ctx.config.seed;
    const meterInterval = Math.max(1, Math.floor(ctx.config.meterValueSampleIntervalSec));
    this.configuration = new ChargerConfiguration({
      heartbeatIntervalSec: ctx.defaultHeartbeatSec ?? 300,
      meterValueSampleIntervalSec: meterInterval,
      connectors: spec.connectors,
    });
    this.connectors = [];
    for (let i = 1; i <= spec.connectors; i++) {
      const reg = Rng.derive(seed, spec.id, 'register', i);
      this.connectors.push({
        id: i,
        status: 'Available',
        rng: Rng.derive(seed, spec.id, 'connector', i),
        registerJ: reg.int(0, 9_999_999) * 3600 + reg.int(0, 3599),
        visit: null,
        waiting: [],
        plannedFreeSec: 0,
      });
    }
    const base = ctx.config.targetUrl.replace(/\/+$/, '');
    this.connection = new OcppConnection(
      {
        url: `${base}/${encodeURIComponent(spec.id)}`,
        subprotocol: ctx.dialect.subprotocol,
        validator: ctx.validator,
        callTimeoutMs: ctx.config.callTimeoutMs,
        localAddress: ctx.localAddress,
        scheduler: ctx.scheduler,
        clock: ctx.clock,
        metrics: ctx.metrics,
        sweeper: ctx.sweeper,
        rng: Rng.derive(seed, spec.id, 'net'),
        zeroMask: ctx.config.zeroMaskFrames !== false,
      },
      this,
    );
  }

  /** Connects (and boots once connected); drivers come only after `begin`. */
  connect(): void {
    this.connection.connect();
  }

  /** Sim time is about to start: drivers plan their arrivals. */
  begin(): void {
    const load = this.ctx.config.load;
    // Other load models plan arrivals for the whole worker fleet (sim/load-driver.ts).
    const rate = load && load.kind !== 'per-connector-poisson' ? 0 : this.ctx.config.drivers.arrivalsPerConnectorPerHour;
    const t0 = this.ctx.clock.startSimMs / 1000;
    if (rate > 0) {
      for (const c of this.connectors) this.planArrival(c, t0);
    }
    const b = this.behaviour;
    if (b.crashesPerChargerPerHour > 0) {
      this.crashRng = Rng.derive(this.ctx.config.seed, this.id, 'crash');
      this.planPoissonCrash(t0);
    }
    if (b.crashAtMinutes.length > 0) {
      for (const sec of plannedCrashSecs(b, this.ctx.config.seed, this.id, this.ctx.clock.startSimMs, this.ctx.simEndSec)) this.at(sec, K_CRASH, CRASH_PLANNED, P_COMMAND);
    }
  }

  /**
   * Nothing in flight or queued, no visit waiting for an answer, and no stopped transaction whose
   * driver is still plugged in: its truth is written at the unplug (a remote stop or a refused
   * start ends the transaction before the planned departure, which the drain waits for).
   */
  get settled(): boolean {
    if (!this.connection.isIdle || this.awaitingFinalCost.size > 0 || this.crash !== null) return false;
    for (const c of this.connectors) {
      const v = c.visit;
      if (v && v.phase !== 'idle') return false;
    }
    return true;
  }

  /** The latest planned departure of a driver plugged in now (-Infinity if none). */
  lastPlannedDepartureSec(): number {
    let last = -Infinity;
    for (const c of this.connectors) if (c.visit && c.visit.departSec > last) last = c.visit.departSec;
    return last;
  }

  /**
   * Ends the run early at `sec` (abort): no more arrivals or heartbeats; drivers stop their
   * sessions and unplug at that instant, so truth stays complete and consistent.
   */
  endNow(sec: number): void {
    if (this.ended) return;
    this.ended = true;
    this.ctx.scheduler.cancel(this.heartbeatEvent);
    this.heartbeatEvent = null;
    for (const c of this.connectors) {
      const v = c.visit;
      if (!v) continue;
      const at = Math.max(sec, v.plugInSec);
      if (at >= v.departSec) continue; // its departure is already due
      v.departSec = at;
      this.onDeparture(v);
    }
  }

  stop(): void {
    this.stopped = true;
    this.ctx.scheduler.cancel(this.heartbeatEvent);
    this.connection.stop();
  }

  /** Sends a DataTransfer (vendor extension) now. */
  dataTransfer(vendorId: string, messageId: string | null, data: string | null): void {
    const m = this.ctx.dialect.dataTransfer(vendorId, messageId, data);
    const sec = this.nowSec();
    this.connection.call(m, this.wallOf(sec));
  }

  // ---- scheduling ---------------------------------------------------------------------

  private at(sec: number, kind: number, data: unknown, priority: number): ScheduledEvent {
    const simMs = sec * 1000;
    return this.ctx.scheduler.schedule(this.ctx.clock.wallAt(simMs), simMs, this, kind, data, priority);
  }

  /**
   * When a call is meant to go out: its planned instant, but never before the answer it follows.
   * A StartTransaction sent on the Authorize answer, or the Charging status on the Start answer,
   * could not go earlier; measuring from the plan would count the earlier call's latency again.
   */
  private wallOf(sec: number): number {
    const planned = this.ctx.clock.wallAt(sec * 1000);
    return planned > this.answeredAtWallMs ? planned : this.answeredAtWallMs;
  }

  private nowSec(): number {
    return Math.ceil(this.ctx.clock.nowSim() / 1000);
  }

  onScheduled(kind: number, data: unknown, simMs: number): void {
    if (this.stopped) return;
    const sec = Math.round(simMs / 1000);
    if (this.ended && kind !== K_BOUNDARY && kind !== K_DEPARTURE && kind !== K_BOOT_RETRY && kind !== K_REBOOT_END) return;
    switch (kind) {
      case K_ARRIVAL:
        this.onArrival(data as Connector, sec);
        break;
      case K_DEPARTURE:
        this.onDeparture(data as Visit);
        break;
      case K_BOUNDARY:
        this.onBoundary(data as Visit, sec);
        break;
      case K_HEARTBEAT:
        this.onHeartbeat(sec);
        break;
      case K_BOOT_RETRY:
        if (!this.booted && this.connection.state === 'open') this.sendBoot(true);
        break;
      case K_COMMAND:
        this.runCommand(data as CsmsCommand, sec);
        break;
      case K_CRASH:
        if (data === CRASH_POISSON) this.planPoissonCrash(sec);
        this.onCrash(sec);
        break;
      case K_REBOOT_END: {
        const crash = this.crash;
        if (crash?.phase !== 'rebooting' || !this.booted) break;
        // A crash again while rebooting moved the end of the reboot time.
        if (sec >= crash.rebootEndSec) this.finishReboot(sec);
        else this.at(crash.rebootEndSec, K_REBOOT_END, null, P_HOUSEKEEPING);
        break;
      }
    }
  }

  // ---- drivers ------------------------------------------------------------------------

  private planArrival(c: Connector, afterSec: number): void {
    const rate = this.ctx.config.drivers.arrivalsPerConnectorPerHour;
    const gap = c.rng.exponential(3600 / rate);
    const next = Math.max(Math.ceil(afterSec + gap), Math.floor(afterSec) + 1);
    if (next < this.ctx.simEndSec) this.at(next, K_ARRIVAL, c, P_ARRIVAL);
  }

  private onArrival(c: Connector, sec: number): void {
    this.planArrival(c, sec);
    // Busy by the plan, not by how far the answers have come: the truth must not depend on latency.
    // Likewise down after a crash for the planned reboot time, however long the reboot really takes.
    if (sec < c.plannedFreeSec || this.downAt(sec)) {
      this.ctx.metrics.counters.dropped++;
      return;
    }
    const tokens = this.ctx.config.tokens;
    const idTag = tokens.length > 0 ? c.rng.pick(tokens) : FALLBACK_TOKEN;
    const visit = this.drawVisit(c, sec, idTag);
    // A charger still shutting down or rebooting takes the driver once it is back (finishReboot).
    if (c.visit || this.crash) c.waiting.push(visit);
    else this.startVisit(visit, false);
  }

  private plugIn(c: Connector, sec: number, idTag: string, remote: boolean): Visit {
    return this.startVisit(this.drawVisit(c, sec, idTag), remote);
  }

  /** The driver's and EV's draws for a visit that plugs in at `sec`. */
  private drawVisit(c: Connector, sec: number, idTag: string): Visit {
    const cfg = this.ctx.config;
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
      departSec: this.ctx.gracefulStop ? sec + dwellSec : Math.max(sec, Math.min(sec + dwellSec, this.ctx.simEndSec)),
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

  private startVisit(visit: Visit, remote: boolean): Visit {
    const c = visit.connector;
    const sec = visit.plugInSec;
    c.visit = visit;
    // Minimal: the state changes all the same (a TriggerMessage reports it), it is just not sent.
    if (this.minimalMessages) c.status = 'Preparing';
    else this.setStatus(c, 'Preparing', sec);
    this.at(visit.departSec, K_DEPARTURE, visit, P_DEPARTURE);
    if (remote && !this.configuration.bool('AuthorizeRemoteTxRequests')) this.sendStart(visit);
    else this.sendAuthorize(visit);
    return visit;
  }

  private sendAuthorize(v: Visit): void {
    v.phase = 'authorizing';
    const m = this.ctx.dialect.authorize(v.idTag);
    this.connection.call(m, this.wallOf(v.planSec), v);
  }

  private sendStart(v: Visit): void {
    v.phase = 'starting';
    v.startSec = v.planSec;
    const m = this.ctx.dialect.startTransaction(v.connector.id, v.idTag, whOf(v.connector.registerJ), SimClock.iso(v.startSec * 1000));
    this.connection.call(m, this.wallOf(v.startSec), v, true);
  }

  private onAuthorized(v: Visit, accepted: boolean): void {
    if (v.phase !== 'authorizing' || v.connector.visit !== v) return;
    if (v.crashSec !== null) {
      // Answered after the crash: the visit ends with no start (cleared when the charger drops its connection).
      v.phase = 'idle';
      return;
    }
    if (accepted) {
      this.awaitUserPrice(v);
      this.sendStart(v);
      return;
    }
    v.phase = 'idle';
    if (v.departPending) this.unplug(v);
  }

  private onStarted(v: Visit, accepted: boolean, transactionId: string | null, confirmed: boolean): void {
    if (v.phase !== 'starting' || v.connector.visit !== v) return;
    v.transactionId = transactionId;
    if (!confirmed || (accepted && transactionId !== null)) {
      if (accepted && transactionId !== null) this.ctx.metrics.counters.transactions++;
      this.beginCharging(v);
      // Started before the crash, answered after it: the transaction is open at the CSMS, so it
      // is lost like the others, with its meter from the planned start and a reading at the crash.
      if (v.crashSec !== null) this.loseSession(v, v.crashSec);
      else if (v.departPending) this.depart(v);
      return;
    }
    if (transactionId !== null) {
      // The CSMS opened a transaction but refused the idTag: stop it at once (OCPP 1.6 §5.10).
      this.beginCharging(v);
      this.stopSession(v, v.startSec, 'DeAuthorized');
      if (v.departPending) this.unplug(v);
      return;
    }
    v.phase = 'idle';
    if (v.departPending) this.unplug(v);
  }

  private beginCharging(v: Visit): void {
    const c = v.connector;
    const meter = new SessionMeter(v.ev, this.spec.maxPowerW, c.registerJ, v.startSec, this.configuration.int('MeterValueSampleInterval'));
    v.meter = meter;
    v.phase = 'charging';
    this.ctx.metrics.counters.sessionsActive++;
    this.setStatus(c, meter.state === 'charging' ? 'Charging' : 'SuspendedEV', v.startSec);
    if (!this.minimalMessages) this.sample(v, v.startSec, 'Transaction.Begin');
    this.planBoundary(v);
  }

  private planBoundary(v: Visit): void {
    v.boundaryEvent = this.at(v.meter!.nextBoundarySec(), K_BOUNDARY, v, P_BOUNDARY);
  }

  private onBoundary(v: Visit, sec: number): void {
    if (v.phase !== 'charging' || v.boundaryEvent === null || v.boundaryEvent.simMs !== sec * 1000) return;
    // A reading due at the departure is the closing one (Transaction.End), which the stop, at the
    // same instant, sends next (minimal: inside StopTransaction) and cancels this event.
    if (sec === v.departSec) return;
    this.stepTo(v, sec);
    this.planBoundary(v);
  }

  private stepTo(v: Visit, sec: number): void {
    const meter = v.meter!;
    const changed = meter.advanceTo(sec);
    this.sample(v, sec);
    if (changed) this.setStatus(v.connector, meter.state === 'parking' ? 'SuspendedEV' : 'Charging', sec);
  }

  private onDeparture(v: Visit): void {
    // A visit the charger crashed under ended at the crash.
    if (v.connector.visit !== v || v.crashSec !== null) return;
    if (v.phase === 'authorizing' || v.phase === 'starting') {
      // The answer is late: finish the plan when it comes (same instants, same truth).
      v.departPending = true;
      return;
    }
    this.depart(v);
  }

  private depart(v: Visit): void {
    if (v.phase === 'charging') this.stopSession(v, v.departSec, 'Local');
    this.unplug(v);
  }

  /** Ends the transaction at `sec`: meter samples up to it, StopTransaction, Finishing. */
  private stopSession(v: Visit, sec: number, reason: WireStopReason): void {
    if (v.phase !== 'charging') return;
    const meter = v.meter!;
    const stopSec = Math.max(sec, meter.intervalStartSec);
    while (meter.nextBoundarySec() <= stopSec) {
      const at = meter.nextBoundarySec();
      // A reading due at the stop instant (periodic, or the target charge reached) is the closing
      // reading, sent below; a state change at that instant lasts no time and goes unsent.
      if (at === stopSec) meter.advanceTo(at);
      else this.stepTo(v, at);
    }
    meter.finish(stopSec);
    // The reading at the stop (Transaction.End), unless one at this instant already went out (a
    // remote stop or reset on the sample grid). Minimal: it rides in StopTransaction (1.6
    // transactionData) rather than in a MeterValues of its own just before it.
    let closing: MeterSample | undefined;
    if (v.lastSampleSec !== stopSec) {
      if (this.minimalMessages) closing = this.meterSample(v, stopSec, 'Transaction.End');
      else this.sample(v, stopSec, 'Transaction.End');
    }
    this.ctx.scheduler.cancel(v.boundaryEvent);
    v.boundaryEvent = null;
    v.stopSec = stopSec;
    v.wireStopReason = reason;
    v.phase = 'stopped';
    v.connector.registerJ = meter.registerJ;
    this.ctx.metrics.counters.sessionsActive--;
    const m = this.ctx.dialect.stopTransaction(v.transactionId, v.idTag, whOf(meter.registerJ), SimClock.iso(stopSec * 1000), reason, closing);
    this.connection.call(m, this.wallOf(stopSec), v, true);
    if (this.minimalMessages) v.connector.status = 'Finishing';
    else this.setStatus(v.connector, 'Finishing', stopSec);
  }

  private unplug(v: Visit): void {
    const c = v.connector;
    const sec = Math.max(v.departSec, v.stopSec);
    this.setStatus(c, 'Available', sec);
    c.visit = null;
    if (v.meter && v.phase === 'stopped') this.emitTruth(v, sec);
    v.phase = 'idle';
    // A visit whose plan ended before a crash, finished during the shutdown: the drivers after it come once the charger is back.
    if (this.crash) return;
    const next = c.waiting.shift();
    if (next) this.startVisit(next, false);
    else this.ctx.onConnectorFree?.(this, c, sec);
  }

  /** Whether a driver sent by a worker-fleet load model could plug in here now. */
  canTakeArrival(c: Connector): boolean {
    return c.visit === null && this.booted && !this.ended && !this.stopped && this.crash === null && this.connection.state === 'open';
  }

  /** A driver sent by a worker-fleet load model plugs in at `sec`; false if the connector cannot take one. */
  arrive(c: Connector, sec: number): boolean {
    if (!this.canTakeArrival(c) || sec >= this.ctx.simEndSec || this.downAt(sec)) return false;
    const tokens = this.ctx.config.tokens;
    this.plugIn(c, sec, tokens.length > 0 ? c.rng.pick(tokens) : FALLBACK_TOKEN, false);
    return true;
  }

  private emitTruth(v: Visit, unplugSec: number, faults: string[] = []): void {
    const m = v.meter!;
    const meterStartWh = whOf(m.startRegisterJ);
    const meterStopWh = whOf(m.registerJ);
    this.ctx.metrics.counters.sessionsDone++;
    this.ctx.onTruth(this.withDisplay(v, {
      chargerId: this.id,
      connectorId: v.connector.id,
      idTag: v.idTag,
      transactionId: truthTransactionId(v.transactionId),
      plugInAt: SimClock.iso(v.plugInSec * 1000),
      startAt: SimClock.iso(v.startSec * 1000),
      stopAt: SimClock.iso(v.stopSec * 1000),
      unplugAt: SimClock.iso(unplugSec * 1000),
      meterStartWh,
      meterStopWh,
      energyWh: meterStopWh - meterStartWh,
      chargingSeconds: m.chargingSeconds,
      parkingSeconds: m.parkingSeconds,
      timeline: m.intervals.map((iv) => ({
        from: SimClock.iso(iv.fromSec * 1000),
        state: iv.state,
        energyWh: whOf(iv.endRegisterJ) - whOf(iv.startRegisterJ),
        avgPowerW: iv.powerW,
      })),
      stopReason: truthReason(v.wireStopReason ?? 'Other'),
      wireStopReason: v.wireStopReason ?? 'Other',
      faults,
    }));
  }

  // ---- messages -----------------------------------------------------------------------

  private setStatus(c: Connector, status: ConnectorStatus, sec: number): void {
    c.status = status;
    const m = this.ctx.dialect.statusNotification(c.id, status, this.statusTimestamp(sec));
    this.connection.call(m, this.wallOf(sec));
  }

  /** The timestamp a StatusNotification planned at `sec` carries; null: none (chargerBehaviour.statusTimestamps false). */
  private statusTimestamp(sec: number): string | null {
    return this.statusTimestamps ? SimClock.iso(sec * 1000) : null;
  }

  private sample(v: Visit, sec: number, context: SampleContext = 'Sample.Periodic'): void {
    v.lastSampleSec = sec;
    const m = this.ctx.dialect.meterValues(v.connector.id, v.transactionId, this.meterSample(v, sec, context));
    this.connection.call(m, this.wallOf(sec), v, true);
  }

  private meterSample(v: Visit, sec: number, context: SampleContext): MeterSample {
    const meter = v.meter!;
    return {
      timestamp: SimClock.iso(sec * 1000),
      registerJ: meter.registerAt(sec),
      registerDecimals: this.registerDecimals,
      powerW: meter.powerW,
      socPct: meter.socPctAt(sec),
      context,
      measurands: this.configuration.measurands(),
    };
  }

  /** A reading outside the plan (TriggerMessage): never a timeline boundary. */
  private triggeredSample(c: Connector, sec: number): void {
    const v = c.visit;
    const measurands = this.configuration.measurands();
    let registerJ = c.registerJ;
    let powerW = 0;
    let socPct: number | null = null;
    let txId: string | null = null;
    if (v && v.phase === 'charging' && v.meter) {
      const at = Math.min(Math.max(sec, v.meter.intervalStartSec), v.meter.nextBoundarySec());
      registerJ = v.meter.registerAt(at);
      powerW = v.meter.powerW;
      socPct = v.meter.socPctAt(at);
      txId = v.transactionId;
    }
    const m = this.ctx.dialect.meterValues(c.id, txId, {
      timestamp: SimClock.iso(sec * 1000),
      registerJ,
      registerDecimals: this.registerDecimals,
      powerW,
      socPct,
      context: 'Trigger',
      measurands,
    });
    this.connection.call(m, this.wallOf(sec));
  }

  private sendBoot(first: boolean): void {
    const spec = this.spec;
    const m = this.ctx.dialect.bootNotification({
      vendor: spec.vendor ?? 'chargebench',
      model: spec.model ?? 'sim-1.6',
      serialNumber: spec.id,
      firmwareVersion: 'chargebench-sim',
    });
    const now = performance.timeOrigin + performance.now();
    if (first) this.connection.callFirst(m, now);
    else this.connection.call(m, now);
  }

  private onBootAnswer(status: 'Accepted' | 'Pending' | 'Rejected', intervalSec: number): void {
    this.connectSettled = true;
    const sec = this.nowSec();
    if (status !== 'Accepted') {
      if (!this.booted) this.at(sec + Math.max(intervalSec, BOOT_RETRY_MIN_SEC), K_BOOT_RETRY, null, P_HOUSEKEEPING);
      return;
    }
    if (intervalSec > 0) this.configuration.setInternal('HeartbeatInterval', String(intervalSec));
    if (this.booted) {
      this.planHeartbeat(sec);
      return;
    }
    this.booted = true;
    const rebooted = this.crash?.phase === 'rebooting';
    const d = this.ctx.dialect;
    const ts = this.statusTimestamp(sec);
    const m0 = d.statusNotification(0, 'Available', ts);
    this.connection.call(m0, this.wallOf(sec));
    for (const c of this.connectors) {
      const m = d.statusNotification(c.id, c.status, ts);
      this.connection.call(m, this.wallOf(sec));
    }
    this.connection.setReady(true);
    this.planHeartbeat(sec);
    if (rebooted) {
      // Back after a crash once the planned reboot time is over too (drivers were turned away by that plan).
      const end = this.crash!.rebootEndSec;
      if (sec >= end) this.finishReboot(sec);
      else this.at(end, K_REBOOT_END, null, P_HOUSEKEEPING);
      return;
    }
    if (this.crash) return; // reconnected while shutting down: the crash goes on
    if (this.ctx.onConnectorFree) for (const c of this.connectors) if (c.visit === null) this.ctx.onConnectorFree(this, c, sec);
  }

  private planHeartbeat(fromSec: number): void {
    this.ctx.scheduler.cancel(this.heartbeatEvent);
    this.heartbeatEvent = null;
    const next = fromSec + Math.max(1, this.configuration.int('HeartbeatInterval'));
    if (next < this.ctx.simEndSec) this.heartbeatEvent = this.at(next, K_HEARTBEAT, null, P_HOUSEKEEPING);
  }

  private onHeartbeat(sec: number): void {
    this.heartbeatEvent = null;
    // Shutting down after a crash: none (the BootNotification after the reboot plans them again).
    if (!this.booted || this.connection.state !== 'open' || this.crash?.phase === 'shutdown') return;
    const m = this.ctx.dialect.heartbeat();
    this.connection.call(m, this.wallOf(sec));
    this.planHeartbeat(sec);
  }

  // ---- ConnectionHandler --------------------------------------------------------------

  beforeSend(call: OutgoingCall): void {
    const v = call.ctx as Visit | null;
    if (v) this.ctx.dialect.bindTransaction(call.meaning, call.payload, v.transactionId);
  }

  onOpen(): void {
    this.booted = false;
    this.sendBoot(true);
  }

  onClose(): void {
    this.connectSettled = true;
    this.booted = false;
    this.awaitingFinalCost.clear(); // what was not shown on this connection will not come
    this.ctx.scheduler.cancel(this.heartbeatEvent);
    this.heartbeatEvent = null;
  }

  onIdle(): void {
    if (this.crash?.phase === 'shutdown') this.completeCrash();
    else if (this.rebootPending) this.reboot();
  }

  onResult(call: OutgoingCall, payload: JsonObject): void {
    this.onAnswer(() => this.handleResult(call, payload));
  }

  onFailure(call: OutgoingCall, failure: CallFailure): void {
    this.onAnswer(() => this.handleFailure(call, failure));
  }

  /** Runs what an answer (or its failure) causes, with calls planned no earlier than now. */
  private onAnswer(handle: () => void): void {
    this.answeredAtWallMs = wallNow();
    try {
      handle();
    } finally {
      this.answeredAtWallMs = -Infinity;
    }
  }

  private handleResult(call: OutgoingCall, payload: JsonObject): void {
    const d = this.ctx.dialect;
    switch (call.meaning) {
      case 'boot': {
        const a = d.readBootAnswer(payload);
        this.onBootAnswer(a.status, a.intervalSec);
        break;
      }
      case 'authorize':
        this.onAuthorized(call.ctx as Visit, d.readAuthAnswer(payload).accepted);
        break;
      case 'start': {
        const a = d.readStartAnswer(payload);
        this.onStarted(call.ctx as Visit, a.accepted, a.transactionId, true);
        break;
      }
      case 'stop':
        this.awaitFinalCost(call.ctx as Visit);
        break;
      default:
        break;
    }
  }

  private handleFailure(call: OutgoingCall, failure: CallFailure): void {
    switch (call.meaning) {
      case 'boot':
        if (!this.booted && failure !== 'ConnectionLost') this.onBootAnswer('Rejected', BOOT_RETRY_MIN_SEC);
        break;
      case 'authorize':
        this.onAuthorized(call.ctx as Visit, false);
        break;
      case 'start':
        // Timed out: the charger assumes the transaction started (as offline chargers do) and
        // stops it with transactionId -1. Refused outright: no transaction.
        this.onStarted(call.ctx as Visit, failure === 'Timeout', null, failure !== 'Timeout');
        break;
      default:
        break;
    }
  }

  onIncoming(action: string, payload: JsonObject): JsonObject {
    const d = this.ctx.dialect;
    const cmd = d.readCommand(action, payload);
    if (!cmd) throw new OcppCallError('NotImplemented', `${action} is not implemented by this charger`);
    return d.replyPayload(cmd, this.answerCommand(cmd));
  }

  // ---- commands from the CSMS ---------------------------------------------------------

  /** Decides the answer now; side effects run as a scheduled event right after the reply is sent. */
  private answerCommand(cmd: CsmsCommand): CommandReply {
    const sec = this.nowSec();
    const status = (s: string): CommandReply => ({ kind: 'status', status: s });
    // A crashed charger acts on nothing until it is back (what it answers meanwhile stands for the silence of a dead one).
    if (this.crash && (cmd.kind === 'remoteStart' || cmd.kind === 'remoteStop' || cmd.kind === 'reset' || cmd.kind === 'trigger')) return status('Rejected');
    switch (cmd.kind) {
      case 'remoteStart': {
        if (sec >= this.ctx.simEndSec || !this.pickRemoteStartConnector(cmd.connectorId)) return status('Rejected');
        this.at(sec, K_COMMAND, cmd, P_COMMAND);
        return status('Accepted');
      }
      case 'remoteStop': {
        if (!this.visitByTransaction(cmd.transactionId)) return status('Rejected');
        this.at(sec, K_COMMAND, cmd, P_COMMAND);
        return status('Accepted');
      }
      case 'reset':
        this.at(sec, K_COMMAND, cmd, P_COMMAND);
        return status('Accepted');
      case 'getConfiguration': {
        const { entries, unknownKeys } = this.configuration.list(cmd.keys);
        return { kind: 'configuration', entries, unknownKeys };
      }
      case 'changeConfiguration': {
        const outcome = this.configuration.change(cmd.key, cmd.value);
        if (outcome === 'Accepted') this.applyConfiguration(cmd.key, sec);
        return status(outcome);
      }
      case 'trigger': {
        if (cmd.message === null) return status('NotImplemented');
        if (cmd.connectorId !== null && (cmd.connectorId < 0 || cmd.connectorId > this.connectors.length)) return status('Rejected');
        this.at(sec, K_COMMAND, cmd, P_COMMAND);
        return status('Accepted');
      }
      case 'dataTransfer':
        return status(cmd.vendorId === COST_VENDOR_ID && this.showsCost ? this.showCost(cmd.messageId, cmd.data) : 'UnknownVendorId');
    }
  }

  // ---- cost display -------------------------------------------------------------------

  /** Shows a cost message and keeps it with the session it is about; the answer status. */
  private showCost(messageId: string | null, data: string | null): string {
    const read = readCostMessage(messageId, data);
    if (!read.ok) return read.status;
    this.costMessagesSeen = true;
    const m = read.message;
    if (m.kind === 'userPrice') {
      const v = this.visitAwaitingPrice(m.idToken);
      if (v) showOn((v.display ??= emptyDisplay()), m);
      return 'Accepted';
    }
    const display = this.displayOfTransaction(m.transactionId);
    if (display) showOn(display, m);
    if (m.kind === 'finalCost') {
      this.awaitingFinalCost.delete(m.transactionId);
      this.truthAwaitingFinalCost.delete(m.transactionId);
    }
    return 'Accepted';
  }

  private awaitUserPrice(v: Visit): void {
    this.userPriceAwaited.push(v);
    if (this.userPriceAwaited.length > 4 * this.connectors.length) this.userPriceAwaited.shift();
  }

  /**
   * The visit a user price is for: the earliest authorized one of this token still plugged in
   * (the same token may be on two connectors); else, after a start without Authorize, the
   * token's latest visit not shown a price yet.
   */
  private visitAwaitingPrice(idTag: string): Visit | null {
    const queue = this.userPriceAwaited;
    for (let i = 0; i < queue.length; i++) {
      const v = queue[i];
      if (v.idTag !== idTag) continue;
      queue.splice(i--, 1);
      if (v.connector.visit === v) return v;
    }
    let best: Visit | null = null;
    for (const c of this.connectors) {
      const v = c.visit;
      if (!v || v.idTag !== idTag || v.display?.userPrice !== undefined || (v.phase !== 'starting' && v.phase !== 'charging')) continue;
      if (!best || v.plugInSec > best.plugInSec) best = v;
    }
    return best;
  }

  private displayOfTransaction(transactionId: string): SessionDisplay | null {
    for (const c of this.connectors) {
      const v = c.visit;
      if (v && v.transactionId === transactionId && (v.phase === 'charging' || v.phase === 'stopped')) return (v.display ??= emptyDisplay());
    }
    const t = this.truthAwaitingFinalCost.get(transactionId);
    return t ? (t.display ??= emptyDisplay()) : null;
  }

  /** Truth carries the visit's display record, the same object: a FinalCost after the unplug still lands in it (truth leaves the worker at the end of the run). */
  private withDisplay(v: Visit, truth: TruthSession): TruthSession {
    if (v.display) truth.display = v.display;
    // Kept until its FinalCost comes, however late (a busy CSMS queues cost messages): the
    // record is held for the end of the run anyway. A CSMS that shows no costs keeps nothing here.
    if (this.costMessagesSeen && isCsmsTransactionId(v.transactionId) && truth.display?.finalCost === undefined) {
      this.truthAwaitingFinalCost.set(v.transactionId, truth);
    }
    return truth;
  }

  private awaitFinalCost(v: Visit): void {
    if (!this.costMessagesSeen || !isCsmsTransactionId(v.transactionId) || v.display?.finalCost !== undefined) return;
    this.awaitingFinalCost.add(v.transactionId);
  }

  private applyConfiguration(key: string, sec: number): void {
    if (key === 'HeartbeatInterval' && this.booted) this.planHeartbeat(sec);
    if (key === 'MeterValueSampleInterval') {
      const s = this.configuration.int('MeterValueSampleInterval');
      for (const c of this.connectors) c.visit?.meter?.setSampleInterval(s);
    }
  }

  private pickRemoteStartConnector(connectorId: number | null): Connector | null {
    const usable = (c: Connector): boolean => c.visit === null || c.visit.phase === 'idle';
    if (connectorId !== null) {
      const c = this.connectors[connectorId - 1];
      return c && usable(c) ? c : null;
    }
    return this.connectors.find((c) => c.visit === null) ?? this.connectors.find(usable) ?? null;
  }

  private visitByTransaction(transactionId: string): Visit | null {
    for (const c of this.connectors) {
      const v = c.visit;
      if (v && v.phase === 'charging' && v.transactionId === transactionId) return v;
    }
    return null;
  }

  private runCommand(cmd: CsmsCommand, sec: number): void {
    // Accepted before a crash at this very instant, due after it: the crash came first.
    if (this.crash) return;
    switch (cmd.kind) {
      case 'remoteStart': {
        const c = this.pickRemoteStartConnector(cmd.connectorId);
        if (!c) {
          this.ctx.metrics.error('remoteStartOvertaken');
          return;
        }
        if (c.visit === null) {
          this.plugIn(c, sec, cmd.idTag, true);
          return;
        }
        const v = c.visit;
        v.idTag = cmd.idTag;
        v.planSec = Math.max(sec, v.plugInSec);
        if (this.configuration.bool('AuthorizeRemoteTxRequests')) this.sendAuthorize(v);
        else this.sendStart(v);
        return;
      }
      case 'remoteStop': {
        const v = this.visitByTransaction(cmd.transactionId);
        if (v) this.stopSession(v, sec, 'Remote');
        return;
      }
      case 'reset': {
        for (const c of this.connectors) if (c.visit) this.stopSession(c.visit, sec, cmd.hard ? 'HardReset' : 'SoftReset');
        this.rebootPending = true;
        if (this.connection.isIdle) this.reboot();
        return;
      }
      case 'trigger':
        this.runTrigger(cmd.message, cmd.connectorId, sec);
        return;
      default:
        return;
    }
  }

  private runTrigger(message: TriggerableMeaning | null, connectorId: number | null, sec: number): void {
    switch (message) {
      case 'boot':
        this.sendBoot(false);
        return;
      case 'heartbeat': {
        const m = this.ctx.dialect.heartbeat();
        this.connection.call(m, this.wallOf(sec));
        return;
      }
      case 'status': {
        const ts = this.statusTimestamp(sec);
        if (connectorId === null || connectorId === 0) {
          const m0 = this.ctx.dialect.statusNotification(0, 'Available', ts);
          this.connection.call(m0, this.wallOf(sec));
        }
        for (const c of this.connectors) {
          if (connectorId !== null && connectorId !== c.id) continue;
          const m = this.ctx.dialect.statusNotification(c.id, c.status, ts);
          this.connection.call(m, this.wallOf(sec));
        }
        return;
      }
      case 'reading':
        for (const c of this.connectors) if (connectorId === null || connectorId === 0 || connectorId === c.id) this.triggeredSample(c, sec);
        return;
    }
  }

  // ---- crashes (chargerBehaviour) ------------------------------------------------------

  private planPoissonCrash(afterSec: number): void {
    const gap = this.crashRng!.exponential(3600 / this.behaviour.crashesPerChargerPerHour);
    const next = Math.max(Math.ceil(afterSec + gap), Math.floor(afterSec) + 1);
    if (next < this.ctx.simEndSec) this.at(next, K_CRASH, CRASH_POISSON, P_COMMAND);
  }

  /** Down by the plan at `sec`: inside a crash's reboot time (the crash instant itself included). */
  private downAt(sec: number): boolean {
    return sec >= this.lastCrashSec && sec < this.lastCrashSec + this.behaviour.crashRebootSec;
  }

  /**
   * The charger crashes at `sec` (after the meter boundaries and departures due then, like a
   * command) and loses its open transactions: no StopTransaction will ever be sent for them.
   * Each charging visit's meter is brought to `sec` and one reading at `sec` goes out, unless one
   * at that instant already did: this is a power loss right after a clock-aligned reading, so the
   * last reading the CSMS has is where the EV stopped drawing and the back end can bill the lost
   * session exactly. (A crash between two readings would lose energy no back end could bill.)
   * Visits still waiting for an Authorize or StartTransaction answer end when it comes (see
   * onAuthorized, onStarted); drivers waiting for a connector are turned away. Once every call
   * sent is answered, completeCrash drops the connection.
   */
  private onCrash(sec: number): void {
    if (sec >= this.ctx.simEndSec || sec === this.lastCrashSec || this.downAt(sec)) return; // already down by the plan
    const counters = this.ctx.metrics.counters;
    counters.crashes = (counters.crashes ?? 0) + 1;
    this.lastCrashSec = sec;
    if (this.crash === null) this.crash = { sec, phase: 'shutdown', rebootEndSec: sec + this.behaviour.crashRebootSec };
    else this.crash.rebootEndSec = sec + this.behaviour.crashRebootSec; // down again before it was back: no transaction is open
    this.ctx.scheduler.cancel(this.heartbeatEvent);
    this.heartbeatEvent = null;
    for (const c of this.connectors) {
      counters.dropped += c.waiting.length;
      c.waiting.length = 0;
      // Free by the plan once the reboot time is over, whatever the visits' planned departures.
      c.plannedFreeSec = sec;
      const v = c.visit;
      // A visit whose departure is already due (it waits for late answers) lived its plan before the crash: it ends as planned.
      if (!v || v.departPending || v.crashSec !== null) continue;
      v.crashSec = sec;
      if (v.phase === 'charging') this.loseSession(v, sec);
    }
    if (this.crash.phase === 'shutdown' && this.connection.isIdle) this.completeCrash();
  }

  /** A charging visit's transaction is lost at the crash instant `sec`: its meter up to `sec`, a reading at `sec`. */
  private loseSession(v: Visit, sec: number): void {
    const meter = v.meter!;
    // As stopSession does: readings at the boundaries before the crash; one at the crash instant is the crash's own reading.
    while (meter.nextBoundarySec() <= sec) {
      const at = meter.nextBoundarySec();
      if (at === sec) meter.advanceTo(at);
      else this.stepTo(v, at);
    }
    if (v.lastSampleSec !== sec) this.sample(v, sec, 'Sample.Clock');
    meter.finish(sec);
    this.ctx.scheduler.cancel(v.boundaryEvent);
    v.boundaryEvent = null;
    v.stopSec = sec;
    v.wireStopReason = 'PowerLoss';
    v.phase = 'lost';
    v.connector.registerJ = meter.registerJ;
    this.ctx.metrics.counters.sessionsActive--;
  }

  /**
   * Every call sent up to now is answered: the charger drops its connection (no close handshake)
   * and forgets its transactions. Truth gets a record for every lost one, stopped and unplugged at
   * the crash; a stopped session whose driver was still plugged in is unplugged at the crash. The
   * connectors are Available and keep their registers. The connection reconnects as after any
   * loss; the BootNotification then, and the reboot time, bring the charger back (finishReboot).
   */
  private completeCrash(): void {
    const crash = this.crash!;
    for (const c of this.connectors) {
      const v = c.visit;
      if (v) {
        const at = v.crashSec ?? crash.sec;
        if (v.phase === 'lost') this.emitTruth(v, at, ['crash']);
        else if (v.phase === 'stopped' && v.meter) this.emitTruth(v, Math.max(at, v.stopSec));
        v.phase = 'idle';
        c.visit = null;
      }
      c.status = 'Available';
    }
    crash.phase = 'rebooting';
    this.rebootPending = false;
    this.booted = false;
    this.connection.setReady(false);
    // Already closed (a loss during the shutdown): its reconnect is under way and is the reboot.
    if (this.connection.state === 'open') this.connection.drop();
  }

  /** Back after a crash: the drivers who arrived after the reboot time plug in, with their planned instants. */
  private finishReboot(sec: number): void {
    this.crash = null;
    for (const c of this.connectors) {
      if (this.ended) {
        this.ctx.metrics.counters.dropped += c.waiting.length;
        c.waiting.length = 0;
      }
      const next = c.visit === null ? c.waiting.shift() : undefined;
      if (next) this.startVisit(next, false);
      else if (c.visit === null) this.ctx.onConnectorFree?.(this, c, sec);
    }
  }

  private reboot(): void {
    this.rebootPending = false;
    this.booted = false;
    this.connection.setReady(false);
    this.connection.drop();
  }
}
