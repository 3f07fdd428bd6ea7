// One charger's OCPP-J connection: its calls to the back end (validated, handled, answered in
// any order), the back end's calls to it (one at a time, with a timeout), and keep-alive pings.
import { createRPCError } from 'ocpp-rpc';
import { WebSocket, type RawData } from 'ws';
import { encodeCall, encodeCallError, encodeCallResult, parseIncomingFrame } from '../../../ocpp-j/index.js';
import type { StrictValidator } from '../../../ocpp-j/index.js';

export interface IncomingCall {
  params: Record<string, any>;
}
export type CallHandler = (call: IncomingCall) => unknown;

/** An error answered as a CALLERROR: ocpp-rpc's error objects carry these. */
interface RpcErrorLike {
  rpcErrorCode?: string;
  rpcErrorMessage?: string;
  message?: string;
  details?: unknown;
}

/** The validator's spelling of two codes, answered as OCPP 1.6J (errata) spells them, as ocpp-rpc does. */
const OCPP16_SPELLING: Record<string, string> = {
  FormatViolation: 'FormationViolation',
  OccurenceConstraintViolation: 'OccurrenceConstraintViolation',
};

const CSMS_CALL_TIMEOUT_MS = 30_000;
/** Each connection pings on its own clock from its connect time, so 10,000 pings never come at once. */
export const PING_INTERVAL_MS = 30_000;

interface OutgoingCall {
  id: string;
  timer: NodeJS.Timeout | null;
  method: string;
  params: Record<string, unknown>;
  resolve: (result: any) => void;
  reject: (err: Error) => void;
}

/** One charger's connection. */
export class OcppJConnection {
  private readonly handlers = new Map<string, CallHandler>();
  /** Ids of calls from the charger being handled; a repeated id is refused meanwhile. */
  private readonly handling = new Set<string>();
  private readonly queued: OutgoingCall[] = [];
  private waiting: OutgoingCall | null = null;
  private seq = 0;
  private closed = false;
  /** Closing: calls that arrive now are refused, as ocpp-rpc refuses them once it is closing. */
  private closing = false;
  private readonly closeListeners: Array<() => void> = [];
  private readonly idleListeners: Array<() => void> = [];
  /** Cleared by each ping, set by each pong: a connection still clear at the next ping is dead. */
  private alive = true;
  private readonly pinger: NodeJS.Timeout;

  constructor(
    readonly identity: string,
    private readonly ws: WebSocket,
    private readonly validator: StrictValidator | null,
    pingIntervalMs = PING_INTERVAL_MS,
  ) {
    ws.on('message', (data: RawData) => this.onMessage(data));
    ws.on('pong', () => (this.alive = true));
    ws.on('error', () => undefined); // the close that follows is what counts
    ws.once('close', () => this.onClose());
    this.pinger = setInterval(() => this.ping(), pingIntervalMs);
    this.pinger.unref();
  }

  handle(method: string, handler: CallHandler): void {
    this.handlers.set(method, handler);
  }

  /** Runs `listener` once the connection has closed (at once if it already has). */
  onClosed(listener: () => void): void {
    if (this.closed) listener();
    else this.closeListeners.push(listener);
  }

  /** A CSMS-initiated call; one is on the wire at a time, the rest wait their turn. */
  call(method: string, params: Record<string, unknown>): Promise<any> {
    if (this.closed) return Promise.reject(new Error('connection closed'));
    try {
      this.validate(method, 'req', params);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return new Promise((resolve, reject) => {
      this.queued.push({ id: '', timer: null, method, params, resolve, reject });
      this.sendNext();
    });
  }

  /**
   * Closes after the charger's calls being handled are answered (awaitPending), or at once;
   * calls arriving meanwhile are refused. The back end's own calls still waiting are rejected.
   */
  async close(opts: { code?: number; reason?: string; awaitPending?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    this.closing = true;
    if (opts.awaitPending && this.handling.size > 0) await new Promise<void>((r) => this.idleListeners.push(r));
    if (this.closed) return;
    const closedNow = new Promise<void>((r) => this.onClosed(r));
    this.ws.close(opts.code ?? 1000, opts.reason ?? '');
    // A peer that never completes the closing handshake is cut off.
    const timer = setTimeout(() => this.ws.terminate(), 5_000);
    await closedNow;
    clearTimeout(timer);
  }

  private ping(): void {
    if (!this.alive) {
      this.ws.terminate();
      return;
    }
    this.alive = false;
    this.ws.ping();
  }

  private onMessage(data: RawData): void {
    // Binary frames are read as UTF-8 text too, as ocpp-rpc reads them.
    const frame = parseIncomingFrame(data.toString());
    switch (frame.kind) {
      case 'call':
        return this.onCall(frame.id, frame.method, frame.params);
      case 'result':
        return this.onAnswer(frame.id, frame.result, null);
      case 'error':
        return this.onAnswer(
          frame.id,
          null,
          createRPCError(String(frame.code), String(frame.description ?? ''), (frame.details as Record<string, unknown>) ?? {}) as unknown as Error,
        );
      case 'malformed':
        return this.answerError('-1', frame.code, frame.description);
    }
  }

  private onCall(id: string, method: unknown, params: unknown): void {
    if (typeof method !== 'string') return this.answerError(id, 'RpcFrameworkError', 'Method must be a string');
    if (this.closing) return this.answerError(id, 'GenericError', 'Call received while client state not OPEN');
    if (this.handling.has(id)) return this.answerError(id, 'RpcFrameworkError', `Already processing a call with message ID: ${id}`);
    const handler = this.handlers.get(method);
    if (!handler) return this.answerError(id, 'NotImplemented', `Unable to handle '${method}' calls`);
    try {
      this.validate(method, 'req', params);
    } catch (err) {
      return this.answerRpcError(id, err as RpcErrorLike);
    }
    this.handling.add(id);
    let result: unknown;
    try {
      result = handler({ params: (params ?? {}) as Record<string, any> });
    } catch (err) {
      return this.finish(id, method, null, err as RpcErrorLike);
    }
    if (result instanceof Promise) {
      result.then(
        (value) => this.finish(id, method, value, null),
        (err) => this.finish(id, method, null, err as RpcErrorLike),
      );
    } else {
      this.finish(id, method, result, null);
    }
  }

  private finish(id: string, method: string, result: unknown, error: RpcErrorLike | null): void {
    this.handling.delete(id);
    try {
      if (error) this.answerRpcError(id, error);
      else this.answerResult(id, method, result);
    } catch {
      // An answer that cannot be serialised or sent: the charger would wait for ever, so close as ocpp-rpc does.
      this.ws.close(1000, 'Unable to send call result');
    }
    if (this.handling.size === 0 && this.idleListeners.length > 0) for (const r of this.idleListeners.splice(0)) r();
  }

  /** An answer its own schema refuses is the back end's fault: the charger gets InternalError, as from ocpp-rpc. */
  private answerResult(id: string, method: string, result: unknown): void {
    try {
      this.validate(method, 'conf', result);
    } catch {
      return this.answerRpcError(id, createRPCError('InternalError') as RpcErrorLike);
    }
    this.send(encodeCallResult(id, result));
  }

  private answerRpcError(id: string, err: RpcErrorLike): void {
    const code = err.rpcErrorCode ?? 'GenericError';
    this.answerError(id, OCPP16_SPELLING[code] ?? code, err.message || err.rpcErrorMessage || '', err.details ?? {});
  }

  private answerError(id: string, code: string, description: string, details: unknown = {}): void {
    this.send(encodeCallError(id, code, description, details));
  }

  private onAnswer(id: string, result: unknown, error: Error | null): void {
    const call = this.waiting;
    if (!call || call.id !== id) return; // an answer to nothing we asked (or too late): dropped
    this.waiting = null;
    if (call.timer) clearTimeout(call.timer);
    if (error) call.reject(error);
    else {
      try {
        this.validate(call.method, 'conf', result);
        call.resolve(result);
      } catch (err) {
        call.reject(err as Error);
      }
    }
    this.sendNext();
  }

  private sendNext(): void {
    if (this.waiting || this.closed) return;
    const next = this.queued.shift();
    if (!next) return;
    next.id = `csms-${++this.seq}`;
    this.waiting = next;
    // An unanswered call must not hold up the ones behind it for ever.
    next.timer = setTimeout(() => {
      if (this.waiting !== next) return;
      this.waiting = null;
      next.reject(new Error(`no answer to ${next.method} within ${CSMS_CALL_TIMEOUT_MS / 1000} s`));
      this.sendNext();
    }, CSMS_CALL_TIMEOUT_MS);
    next.timer.unref();
    try {
      this.send(encodeCall(next.id, next.method, next.params));
    } catch (err) {
      clearTimeout(next.timer);
      this.waiting = null;
      next.reject(err as Error);
      this.sendNext();
    }
  }

  /** Throws ocpp-rpc's error for a payload its schema refuses. */
  private validate(method: string, kind: 'req' | 'conf', payload: unknown): void {
    this.validator?.validate(`urn:${method}.${kind}`, payload);
  }

  private send(text: string): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(text);
  }

  private onClose(): void {
    this.closed = true;
    clearInterval(this.pinger);
    const lost = [...(this.waiting ? [this.waiting] : []), ...this.queued.splice(0)];
    this.waiting = null;
    for (const c of lost) {
      if (c.timer) clearTimeout(c.timer);
      c.reject(new Error('connection closed'));
    }
    for (const r of this.idleListeners.splice(0)) r();
    for (const l of this.closeListeners.splice(0)) l();
  }
}
