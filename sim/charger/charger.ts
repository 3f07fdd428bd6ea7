// One simulated charge point: the shell that holds its parts together and its OCPP connection.
// Everything that happens is planned on whole simulated seconds; every timestamp sent is the
// planned instant, so truth (and bills) do not depend on network latency. The parts, each for
// one job: drivers (arrivals), visits (the state machine of an EV at a connector), metering,
// commands from the CSMS, the cost display, crashes and the truth records. This shell answers
// the connection (boot, heartbeats, status) and routes planned events and answers to the parts.

import { OcppCallError, type JsonObject } from '../../ocpp-j/index.js';
import { resolveBehaviour, type ResolvedBehaviour } from '../charger-behaviour.js';
import type { ConnectorStatus, CsmsCommand } from '../dialect.js';
import { OcppConnection, type CallFailure, type ConnectionHandler, type OutgoingCall } from '../ocpp-connection.js';
import { Rng } from '../prng.js';
import type { ScheduledEvent, ScheduledTarget } from '../scheduler.js';
import { SimClock, wallNow } from '../sim-clock.js';
import type { ChargerSpec } from '../types.js';
import { Commands } from './commands.js';
import { ChargerConfiguration } from './configuration.js';
import { CostDisplay } from './cost-display.js';
import { Crashes } from './crash.js';
import { Drivers } from './drivers.js';
import { Metering } from './metering.js';
import { ChargerEvent, SameInstant, type ChargerContext, type ChargerEventKind, type Connector, type Visit } from './model.js';
import { TruthRecords } from './truth.js';
import { Visits } from './visits.js';

const BOOT_RETRY_MIN_SEC = 10;

export class Charger implements ScheduledTarget, ConnectionHandler {
  readonly id: string;
  readonly connection: OcppConnection;
  readonly connectors: Connector[];
  readonly configuration: ChargerConfiguration;
  booted = false;
  /** The first connection attempt came to something: booted, a boot answer or failure, or a lost connection. */
  connectSettled = false;
  /** A reset was accepted: the charger reboots once every call is answered. */
  rebootPending = false;
  /** Ended for good (end of run): nothing planned runs any more. */
  stopped = false;
  /** Ended early (abort): planned arrivals, heartbeats and commands no longer run. */
  ended = false;
  /** Only the calls a billed transaction needs: no Preparing, no Finishing, no meter sample at the start; the closing reading inside the stop call. */
  readonly minimalMessages: boolean;
  readonly showsCost: boolean;
  /** Decimals of the energy register in meter readings (FleetConfig.chargerBehaviour; 0 = whole Wh). */
  readonly registerDecimals: number;
  /** Status calls carry their timestamp (FleetConfig.chargerBehaviour; default true). */
  private readonly statusTimestamps: boolean;
  readonly behaviour: ResolvedBehaviour;

  readonly drivers: Drivers;
  readonly visits: Visits;
  readonly metering: Metering;
  readonly commands: Commands;
  readonly costs: CostDisplay;
  readonly crashes: Crashes;
  readonly truth: TruthRecords;

  private heartbeatEvent: ScheduledEvent | null = null;
  /** While an answer is being handled: when it arrived (calls it causes cannot be planned earlier). */
  private answeredAtWallMs = -Infinity;

  constructor(
    readonly spec: ChargerSpec,
    readonly ctx: ChargerContext,
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
    this.drivers = new Drivers(this);
    this.visits = new Visits(this);
    this.metering = new Metering(this);
    this.commands = new Commands(this);
    this.costs = new CostDisplay(this);
    this.crashes = new Crashes(this);
    this.truth = new TruthRecords(this);
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
        faults: ctx.faults?.forCharger(spec.id) ?? null,
      },
      this,
    );
  }

  /** Connects (and boots once connected); drivers come only after `begin`. */
  connect(): void {
    this.connection.connect();
  }

  /** Sim time is about to start: drivers plan their arrivals, crashes their instants. */
  begin(): void {
    const t0 = this.ctx.clock.startSimMs / 1000;
    this.drivers.begin(t0);
    this.crashes.begin(t0);
  }

  /**
   * Nothing in flight or queued, no visit waiting for an answer, and no stopped transaction whose
   * driver is still plugged in: its truth is written at the unplug (a remote stop or a refused
   * start ends the transaction before the planned departure, which the drain waits for).
   */
  get settled(): boolean {
    if (!this.connection.isIdle || this.costs.awaitingFinalCost || this.crashes.underWay) return false;
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
    this.cancelHeartbeat();
    for (const c of this.connectors) {
      const v = c.visit;
      if (!v) continue;
      const at = Math.max(sec, v.plugInSec);
      if (at >= v.departSec) continue; // its departure is already due
      v.departSec = at;
      this.visits.onDeparture(v);
    }
  }

  stop(): void {
    this.stopped = true;
    this.ctx.scheduler.cancel(this.heartbeatEvent);
    this.connection.stop();
  }

  /** Sends a data transfer (vendor extension) now. */
  dataTransfer(vendorId: string, messageId: string | null, data: string | null): void {
    const m = this.ctx.dialect.dataTransfer(vendorId, messageId, data);
    const sec = this.nowSec();
    this.connection.call(m, this.wallOf(sec));
  }

  /** Whether a driver sent by a worker-fleet load model could plug in here now. */
  canTakeArrival(c: Connector): boolean {
    return this.drivers.canTakeArrival(c);
  }

  /** A driver sent by a worker-fleet load model plugs in at `sec`; false if the connector cannot take one. */
  arrive(c: Connector, sec: number): boolean {
    return this.drivers.arrive(c, sec);
  }

  // ---- scheduling ---------------------------------------------------------------------

  at(sec: number, kind: ChargerEventKind, data: unknown, priority: number): ScheduledEvent {
    const simMs = sec * 1000;
    return this.ctx.scheduler.schedule(this.ctx.clock.wallAt(simMs), simMs, this, kind, data, priority);
  }

  /**
   * When a call is meant to go out: its planned instant, but never before the answer it follows.
   * A start sent on the authorize answer, or the Charging status on the start answer,
   * could not go earlier; measuring from the plan would count the earlier call's latency again.
   */
  wallOf(sec: number): number {
    const planned = this.ctx.clock.wallAt(sec * 1000);
    return planned > this.answeredAtWallMs ? planned : this.answeredAtWallMs;
  }

  nowSec(): number {
    return Math.ceil(this.ctx.clock.nowSim() / 1000);
  }

  onScheduled(kind: number, data: unknown, simMs: number): void {
    if (this.stopped) return;
    const sec = Math.round(simMs / 1000);
    if (
      this.ended &&
      kind !== ChargerEvent.meterBoundary &&
      kind !== ChargerEvent.departure &&
      kind !== ChargerEvent.bootRetry &&
      kind !== ChargerEvent.rebootEnd
    )
      return;
    switch (kind) {
      case ChargerEvent.arrival:
        this.drivers.onArrival(data as Connector, sec);
        break;
      case ChargerEvent.departure:
        this.visits.onDeparture(data as Visit);
        break;
      case ChargerEvent.meterBoundary:
        this.metering.onBoundary(data as Visit, sec);
        break;
      case ChargerEvent.heartbeat:
        this.onHeartbeat(sec);
        break;
      case ChargerEvent.bootRetry:
        if (!this.booted && this.connection.state === 'open') this.sendBoot(true);
        break;
      case ChargerEvent.command:
        this.commands.run(data as CsmsCommand, sec);
        break;
      case ChargerEvent.crash:
        this.crashes.onCrashEvent(data, sec);
        break;
      case ChargerEvent.rebootEnd:
        this.crashes.onRebootEnd(sec);
        break;
    }
  }

  // ---- status, boot and heartbeats ------------------------------------------------------

  setStatus(c: Connector, status: ConnectorStatus, sec: number): void {
    c.status = status;
    this.connection.call(this.ctx.dialect.statusNotification(c.id, status, this.statusTimestamp(sec)), this.wallOf(sec));
  }

  /** The timestamp a status call planned at `sec` carries; null: none (chargerBehaviour.statusTimestamps false). */
  statusTimestamp(sec: number): string | null {
    return this.statusTimestamps ? SimClock.iso(sec * 1000) : null;
  }

  /** The status at `sec` of connector `connectorId` (0: the charger itself), or of the charger and every connector (null). */
  sendStatuses(sec: number, connectorId: number | null = null): void {
    const d = this.ctx.dialect;
    const ts = this.statusTimestamp(sec);
    if (connectorId === null || connectorId === 0) this.connection.call(d.statusNotification(0, 'Available', ts), this.wallOf(sec));
    for (const c of this.connectors) {
      if (connectorId !== null && connectorId !== c.id) continue;
      this.connection.call(d.statusNotification(c.id, c.status, ts), this.wallOf(sec));
    }
  }

  sendBoot(first: boolean): void {
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
      if (!this.booted) this.at(sec + Math.max(intervalSec, BOOT_RETRY_MIN_SEC), ChargerEvent.bootRetry, null, SameInstant.housekeeping);
      return;
    }
    if (intervalSec > 0) this.configuration.setInternal('HeartbeatInterval', String(intervalSec));
    if (this.booted) {
      this.planHeartbeat(sec);
      return;
    }
    this.booted = true;
    const rebooted = this.crashes.rebooting;
    this.sendStatuses(sec);
    this.connection.setReady(true);
    this.planHeartbeat(sec);
    if (rebooted) {
      this.crashes.bootedAfterCrash(sec);
      return;
    }
    if (this.crashes.underWay) return; // reconnected while shutting down: the crash goes on
    if (this.ctx.onConnectorFree) for (const c of this.connectors) if (c.visit === null) this.ctx.onConnectorFree(this, c, sec);
  }

  planHeartbeat(fromSec: number): void {
    this.ctx.scheduler.cancel(this.heartbeatEvent);
    this.heartbeatEvent = null;
    const next = fromSec + Math.max(1, this.configuration.int('HeartbeatInterval'));
    if (next < this.ctx.simEndSec) this.heartbeatEvent = this.at(next, ChargerEvent.heartbeat, null, SameInstant.housekeeping);
  }

  cancelHeartbeat(): void {
    this.ctx.scheduler.cancel(this.heartbeatEvent);
    this.heartbeatEvent = null;
  }

  sendHeartbeat(sec: number): void {
    this.connection.call(this.ctx.dialect.heartbeat(), this.wallOf(sec));
  }

  private onHeartbeat(sec: number): void {
    this.heartbeatEvent = null;
    // Shutting down after a crash: none (the boot after the reboot plans them again).
    if (!this.booted || this.connection.state !== 'open' || this.crashes.shuttingDown) return;
    this.sendHeartbeat(sec);
    this.planHeartbeat(sec);
  }

  /** Drops the connection to boot again (a reset, once every call is answered). */
  reboot(): void {
    this.rebootPending = false;
    this.booted = false;
    this.connection.setReady(false);
    this.connection.drop();
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
    this.costs.connectionClosed();
    this.cancelHeartbeat();
  }

  onIdle(): void {
    if (this.crashes.shuttingDown) this.crashes.complete();
    else if (this.rebootPending) this.reboot();
  }

  onResult(call: OutgoingCall, payload: JsonObject): void {
    this.onAnswer(() => this.handleResult(call, payload));
  }

  onFailure(call: OutgoingCall, failure: CallFailure): void {
    this.onAnswer(() => this.handleFailure(call, failure));
  }

  onIncoming(action: string, payload: JsonObject): JsonObject {
    const d = this.ctx.dialect;
    const cmd = d.readCommand(action, payload);
    if (!cmd) throw new OcppCallError('NotImplemented', `${action} is not implemented by this charger`);
    return d.replyPayload(cmd, this.commands.answer(cmd));
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
        this.visits.onAuthorized(call.ctx as Visit, d.readAuthAnswer(payload).accepted);
        break;
      case 'start': {
        const a = d.readStartAnswer(payload);
        this.visits.onStarted(call.ctx as Visit, a.accepted, a.transactionId, true);
        break;
      }
      case 'stop':
        this.costs.awaitFinalCost(call.ctx as Visit);
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
        this.visits.onAuthorized(call.ctx as Visit, false);
        break;
      case 'start':
        // Timed out: the charger assumes the transaction started (as offline chargers do) and
        // stops it with transactionId -1. Refused outright: no transaction.
        this.visits.onStarted(call.ctx as Visit, failure === 'Timeout', null, failure !== 'Timeout');
        break;
      default:
        break;
    }
  }
}
