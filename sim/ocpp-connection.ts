// One charger's OCPP-J connection over `ws`: at most one outstanding CALL, the rest queued
// in order; deadlines checked by the worker's sweeper; reconnect with exponential backoff and
// seeded jitter; each socket is an "instance", and events of a replaced socket are ignored.

import WebSocket from 'ws';
import type { DeadlineSweeper, HasDeadline } from './deadline-sweeper.js';
import type { CallMeaning, OutgoingMessage } from './dialect.js';
import type { ChargerFaults } from './faults/index.js';
import { Fifo } from './fifo.js';
import {
  CALL,
  CALLERROR,
  CALLRESULT,
  decodeFrame,
  encodeCall,
  encodeCallError,
  encodeCallResult,
  FrameError,
  OcppCallError,
  type JsonObject,
  type SchemaValidator,
} from '../ocpp-j/index.js';
import type { Rng } from './prng.js';
import type { ScheduledTarget, Scheduler } from './scheduler.js';
import type { SimClock } from './sim-clock.js';
import { wallNow } from './sim-clock.js';
import type { WorkerMetrics } from './worker-metrics.js';

/** A CALL waiting to be sent or in flight. The handler's context travels with it (no closures). */
export interface OutgoingCall {
  /** What the call means to the charger (its answer is dispatched on this). */
  meaning: CallMeaning;
  /** The action name on the wire. */
  action: string;
  payload: JsonObject;
  /** Wall ms at which the plan wanted this call sent (latency is measured from here). */
  plannedWallMs: number;
  /** Handler-defined context, e.g. the visit a start call belongs to. */
  ctx: unknown;
  /** Fault injection: skip schema validation of this payload. */
  skipValidation: boolean;
  /** Fault injection: send exactly this text instead of the encoded frame. */
  rawFrame: string | null;
  /** Put back at the front of the queue when the connection drops while it is in flight. */
  resendOnReconnect: boolean;
  id: string;
  sentWallMs: number;
  deadlineWallMs: number;
}

export type CallFailure = 'CallError' | 'Timeout' | 'ConnectionLost' | 'Invalid';

export interface ConnectionHandler {
  /** Late binding right before a call goes on the wire (e.g. fill in a transaction id). */
  beforeSend(call: OutgoingCall): void;
  onOpen(): void;
  onClose(): void;
  onResult(call: OutgoingCall, payload: JsonObject): void;
  onFailure(call: OutgoingCall, failure: CallFailure, code: string, description: string): void;
  /** Answers a schema-valid CALL from the CSMS; throws OcppCallError to answer with a CALLERROR. */
  onIncoming(action: string, payload: JsonObject): JsonObject;
  /** Nothing queued and nothing in flight. */
  onIdle(): void;
}

export interface ConnectionOptions {
  url: string;
  subprotocol: string;
  validator: SchemaValidator;
  callTimeoutMs: number;
  localAddress?: string;
  scheduler: Scheduler;
  clock: SimClock;
  metrics: WorkerMetrics;
  sweeper: DeadlineSweeper;
  /** Jitter for reconnect backoff (its own stream, so network luck never shifts driver draws). */
  rng: Rng;
  /**
   * Mask client frames with an all-zero key (legal on the wire; ws then skips the copy and
   * XOR of every payload). Set false to use random masks as browsers do.
   */
  zeroMask?: boolean;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** This charger's faults (sim/faults); null or absent: none. */
  faults?: ChargerFaults | null;
}

/** The one kind of event a connection plans. */
const ConnectionEvent = { reconnect: 1 } as const;

export type ConnectionState = 'closed' | 'connecting' | 'open';

export class OcppConnection implements ScheduledTarget, HasDeadline {
  state: ConnectionState = 'closed';
  /** Incremented for every socket; events from older sockets are ignored. */
  instance = 0;
  private ws: WebSocket | null = null;
  private readonly queue = new Fifo<OutgoingCall>();
  private priority: OutgoingCall | null = null;
  private outstanding: OutgoingCall | null = null;
  /** Until the charger is booted, only the priority slot (the boot call) may be sent. */
  private ready = false;
  private seq = 0;
  private attempts = 0;
  private stopped = false;
  private wasOpen = false;
  /** Consulted at connect, before each send and at each answer; null (no faults) costs a test per message. */
  private readonly faults: ChargerFaults | null;

  constructor(
    private readonly opts: ConnectionOptions,
    private readonly handler: ConnectionHandler,
  ) {
    this.faults = opts.faults ?? null;
  }

  get isIdle(): boolean {
    return this.outstanding === null && this.priority === null && this.queue.length === 0;
  }

  get queued(): number {
    return this.queue.length + (this.priority ? 1 : 0) + (this.outstanding ? 1 : 0);
  }

  /** Opens the gate for ordinary calls (after the boot call was accepted). */
  setReady(ready: boolean): void {
    this.ready = ready;
    if (ready) this.pump();
  }

  connect(): void {
    if (this.stopped || this.state !== 'closed') return;
    if (this.faults !== null) this.faults.onConnect();
    const instance = ++this.instance;
    this.state = 'connecting';
    const ws = new WebSocket(
      this.opts.url,
      this.opts.subprotocol,
      chargerSocketOptions(this.opts.localAddress, Math.max(1000, this.opts.callTimeoutMs), this.opts.zeroMask !== false),
    );
    this.ws = ws;
    ws.on('open', () => {
      if (instance !== this.instance) return;
      if (ws.protocol !== this.opts.subprotocol) {
        this.opts.metrics.error('subprotocolRefused');
      }
      this.state = 'open';
      this.wasOpen = true;
      this.attempts = 0;
      this.opts.metrics.counters.chargersConnected++;
      this.handler.onOpen();
      this.pump();
    });
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      if (instance !== this.instance) return;
      if (isBinary) {
        this.opts.metrics.error('binaryFrame');
        return;
      }
      this.onText(data.toString());
    });
    ws.on('error', (err: Error & { code?: string }) => {
      if (instance !== this.instance) return;
      this.opts.metrics.error(this.state === 'connecting' ? `connect:${err.code ?? 'error'}` : `socket:${err.code ?? 'error'}`);
    });
    ws.on('close', () => {
      if (instance !== this.instance) return;
      this.onClosed();
    });
  }

  /** Queues a CALL (sent when it reaches the front and the charger is ready). */
  call(m: OutgoingMessage, plannedWallMs: number, ctx: unknown = null, resendOnReconnect = false): OutgoingCall {
    const c = newCall(m, plannedWallMs, ctx, resendOnReconnect);
    this.queue.push(c);
    this.pump();
    return c;
  }

  /** Sends before anything queued, even before the charger is ready (the boot call). */
  callFirst(m: OutgoingMessage, plannedWallMs: number, ctx: unknown = null): OutgoingCall {
    const c = newCall(m, plannedWallMs, ctx, false);
    this.priority = c;
    this.pump();
    return c;
  }

  /** Fault injection: queue a call whose payload is not validated, or whose frame text is given verbatim. */
  callUnchecked(m: OutgoingMessage, plannedWallMs: number, rawFrame: string | null = null, ctx: unknown = null): OutgoingCall {
    const c = newCall(m, plannedWallMs, ctx, false);
    c.skipValidation = true;
    c.rawFrame = rawFrame;
    this.queue.push(c);
    this.pump();
    return c;
  }

  /** Fault injection: put text on the wire now, outside the call discipline. */
  sendRaw(text: string): boolean {
    if (this.state !== 'open' || !this.ws) return false;
    this.ws.send(text);
    return true;
  }

  /** Closes the socket; reconnects after backoff unless stop() was called. */
  drop(): void {
    if (this.ws && this.state !== 'closed') {
      this.ws.terminate();
    }
  }

  /** Closes for good (end of run). Queued calls are discarded. */
  stop(): void {
    this.stopped = true;
    this.opts.sweeper.unwatch(this);
    const ws = this.ws;
    this.ws = null;
    this.instance++;
    if (this.state === 'open') this.opts.metrics.counters.chargersConnected--;
    this.state = 'closed';
    if (ws) {
      if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'run finished');
      else ws.terminate();
    }
  }

  /** Raw socket (for the fleet to await closing); null when none. */
  get socket(): WebSocket | null {
    return this.ws;
  }

  onScheduled(kind: number): void {
    if (kind === ConnectionEvent.reconnect) this.connect();
  }

  checkDeadline(now: number): void {
    const c = this.outstanding;
    if (!c) {
      this.opts.sweeper.unwatch(this);
      return;
    }
    if (now < c.deadlineWallMs) return;
    this.outstanding = null;
    this.opts.sweeper.unwatch(this);
    this.opts.metrics.counters.timeouts++;
    this.opts.metrics.error(`timeout:${c.action}`);
    this.handler.onFailure(c, 'Timeout', 'Timeout', `no answer within ${this.opts.callTimeoutMs} ms`);
    this.afterCall();
  }

  private onClosed(): void {
    if (this.state === 'open') this.opts.metrics.counters.chargersConnected--;
    this.state = 'closed';
    this.ws = null;
    this.ready = false;
    const c = this.outstanding;
    this.outstanding = null;
    this.opts.sweeper.unwatch(this);
    if (c) {
      if (c.resendOnReconnect) this.queue.unshift(c);
      else {
        this.opts.metrics.error(`connectionLost:${c.action}`);
        this.handler.onFailure(c, 'ConnectionLost', 'ConnectionLost', 'socket closed with the call in flight');
      }
    }
    if (this.priority) {
      // The boot call is rebuilt on the next open.
      this.priority = null;
    }
    this.handler.onClose();
    if (!this.stopped) this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const base = this.opts.backoffBaseMs ?? 500;
    const max = this.opts.backoffMaxMs ?? 30_000;
    const exp = Math.min(max, base * 2 ** Math.min(this.attempts, 16));
    this.attempts++;
    // "Equal jitter": half fixed, half random, so reconnect storms spread out.
    const delay = exp / 2 + (exp / 2) * this.opts.rng.next();
    if (this.wasOpen) this.opts.metrics.counters.reconnects++;
    const wall = wallNow() + delay;
    this.opts.scheduler.schedule(wall, this.opts.clock.simAt(wall), this, ConnectionEvent.reconnect);
  }

  private pump(): void {
    while (this.state === 'open' && this.outstanding === null) {
      let c: OutgoingCall | undefined;
      if (this.priority) {
        c = this.priority;
        this.priority = null;
      } else if (this.ready) {
        c = this.queue.shift();
      }
      if (!c) return;
      this.handler.beforeSend(c);
      if (this.faults !== null) this.faults.beforeCall(c);
      if (!c.skipValidation) {
        const bad = this.opts.validator.validate(c.action, 'req', c.payload);
        if (bad) {
          this.opts.metrics.error(`invalidOutgoing:${c.action}`);
          this.handler.onFailure(c, 'Invalid', bad.code, bad.message);
          continue;
        }
      }
      c.id = (++this.seq).toString(36);
      const text = c.rawFrame ?? encodeCall(c.id, c.action, c.payload);
      c.sentWallMs = wallNow();
      c.deadlineWallMs = c.sentWallMs + this.opts.callTimeoutMs;
      this.outstanding = c;
      this.opts.sweeper.watch(this);
      this.opts.metrics.counters.calls++;
      this.ws!.send(text);
    }
  }

  private afterCall(): void {
    this.pump();
    if (this.isIdle) this.handler.onIdle();
  }

  private onText(text: string): void {
    const f = decodeFrame(text);
    if (f instanceof FrameError) {
      this.opts.metrics.error(`malformedFrame:${f.kind}`);
      if (f.id !== null && f.messageType === CALL) {
        this.reply(encodeCallError(f.id, 'FormationViolation', f.message, {}));
      } else if (f.id !== null && this.outstanding && this.outstanding.id === f.id) {
        this.finishOutstanding(null, 'FormationViolation', `malformed answer: ${f.message}`);
      }
      return;
    }
    if (f.type === CALL) {
      this.onIncomingCall(f.id, f.action, f.payload);
      return;
    }
    const c = this.outstanding;
    if (!c || c.id !== f.id) {
      this.opts.metrics.error('lateOrUnknownAnswer');
      return;
    }
    if (f.type === CALLRESULT) this.finishOutstanding(f.payload, null, '');
    else if (f.type === CALLERROR) this.finishOutstanding(null, f.code, f.description);
  }

  private finishOutstanding(payload: JsonObject | null, errorCode: string | null, description: string): void {
    const c = this.outstanding!;
    const now = wallNow();
    this.outstanding = null;
    this.opts.sweeper.unwatch(this);
    const m = this.opts.metrics;
    m.counters.answered = (m.counters.answered ?? 0) + 1;
    m.record(c.action, now - c.plannedWallMs, now - c.sentWallMs);
    if (this.faults !== null) this.faults.onAnswer(c, errorCode === null ? payload : null);
    if (errorCode === null && payload) {
      this.handler.onResult(c, payload);
    } else {
      m.counters.callErrors++;
      m.error(`callError:${c.action}:${errorCode}`);
      this.handler.onFailure(c, 'CallError', errorCode ?? 'GenericError', description);
    }
    this.afterCall();
  }

  private onIncomingCall(id: string, action: string, payload: JsonObject): void {
    const m = this.opts.metrics;
    m.counters.incomingCalls = (m.counters.incomingCalls ?? 0) + 1;
    const v = this.opts.validator;
    if (!v.hasAction(action)) {
      this.reply(encodeCallError(id, 'NotImplemented', `unknown action ${action}`, {}));
      return;
    }
    const bad = v.validate(action, 'req', payload);
    if (bad) {
      this.reply(encodeCallError(id, bad.code, bad.message, {}));
      return;
    }
    let answer: JsonObject;
    try {
      answer = this.handler.onIncoming(action, payload);
    } catch (err) {
      if (err instanceof OcppCallError) {
        this.reply(encodeCallError(id, err.code, err.message, err.details));
      } else {
        m.error(`handler:${action}`);
        this.reply(encodeCallError(id, 'InternalError', err instanceof Error ? err.message : String(err), {}));
      }
      return;
    }
    const badReply = v.validate(action, 'conf', answer);
    if (badReply) m.error(`invalidReply:${action}`);
    this.reply(encodeCallResult(id, answer));
  }

  private reply(text: string): void {
    if (this.state === 'open' && this.ws) this.ws.send(text);
  }
}

/**
 * The socket options of every charger connection: no permessage-deflate, no UTF-8 check of
 * frames the JSON parser reads anyway, and all-zero masks unless `zeroMasks` is false. The
 * transport floor measures a bare client with these same options.
 */
export function chargerSocketOptions(localAddress: string | undefined, handshakeTimeoutMs: number, zeroMasks = true): WebSocket.ClientOptions {
  return {
    perMessageDeflate: false,
    handshakeTimeout: handshakeTimeoutMs,
    localAddress,
    skipUTF8Validation: true,
    generateMask: zeroMasks ? zeroMask : undefined,
  };
}

function zeroMask(mask: Buffer): void {
  mask[0] = 0;
  mask[1] = 0;
  mask[2] = 0;
  mask[3] = 0;
}

function newCall(m: OutgoingMessage, plannedWallMs: number, ctx: unknown, resendOnReconnect: boolean): OutgoingCall {
  return {
    meaning: m.meaning,
    action: m.action,
    payload: m.payload,
    plannedWallMs,
    ctx,
    skipValidation: false,
    rawFrame: null,
    resendOnReconnect,
    id: '',
    sentWallMs: 0,
    deadlineWallMs: 0,
  };
}
