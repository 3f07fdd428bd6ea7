// OCPP-J over WebSocket for the reference back end: the upgrade at /ocpp/{chargerId} with the
// ocpp1.6 subprotocol, CALL / CALLRESULT / CALLERROR framing (the OCPP-J leaf, ocpp-j/), strict
// validation of every call and answer in both directions with ocpp-rpc's OCPP 1.6 schemas and
// error codes, CSMS-initiated calls one at a time per connection, and keep-alive pings.
//
// Why not ocpp-rpc's RPCServer, which this replaces on the message path: answering calls through
// it costs about 55 µs of CPU per call more than a bare endpoint on a 2-core machine at 6,000
// calls/s (`chargebench calibrate --server ocpp-rpc` against `--server bare`), a quarter of the
// back end's CPU at 1,000 transactions/s; most of it is per-call machinery (an AbortController,
// an async executor, events) this server does not need. The schemas, the validator and the
// error objects stay the library's, and malformed frames get the library's codes and texts.
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { OcppJConnection, PING_INTERVAL_MS } from './ocpp-j-connection.js';
import type { StrictValidator } from '../../../ocpp-j/index.js';

const OCPP16 = 'ocpp1.6';

const OCPP_ENDPOINT = '/ocpp';

/** Why an upgrade was refused, as counted in /api/stats. */
export type UpgradeRefusal = 'path' | 'subprotocol' | 'shuttingDown';

/** What a refused upgrade is logged with, so a charger that stays offline can be told why. */
export interface RefusedUpgrade {
  reason: UpgradeRefusal;
  chargerId: string | null;
  address: string;
  offered: string[];
  detail: string;
}

/** The subprotocols an upgrade request offers. */
function offeredSubprotocols(req: IncomingMessage): string[] {
  return String(req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
}

function peerAddress(req: IncomingMessage): string {
  const { remoteAddress, remotePort } = req.socket;
  return remoteAddress === undefined ? 'unknown' : `${remoteAddress.includes(':') ? `[${remoteAddress}]` : remoteAddress}:${remotePort}`;
}

/** WebSocket close code for a subprotocol the server does not agree to (RFC 6455: protocol error). */
const CLOSE_PROTOCOL_ERROR = 1002;
/** A close frame's reason has at most 123 bytes of UTF-8: cut by characters, never inside one. */
const MAX_CLOSE_REASON = 123;
function closeReason(text: string): string {
  let out = text;
  while (Buffer.byteLength(out) > MAX_CLOSE_REASON) out = out.slice(0, -1);
  return out;
}

/**
 * Accepts chargers at /ocpp/{chargerId} (ocpp1.6 subprotocol) and hands each connection to
 * `onConnection`. Every refused upgrade goes to `onRefused`. A wrong path is answered 404 (OCPP-J
 * says SHOULD); a charger that offers no subprotocol this server speaks gets the handshake
 * completed without one and then a close with code 1002 and a reason naming what was offered, as
 * OCPP-J requires: unlike an HTTP error body, a close reason is what WebSocket libraries log.
 */
export class OcppJServer {
  private readonly wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: 1 << 20,
    handleProtocols: (protocols) => (protocols.has(OCPP16) ? OCPP16 : false),
  });
  private readonly connections = new Set<OcppJConnection>();
  private closing = false;

  constructor(
    private readonly validator: StrictValidator | null,
    private readonly onConnection: (connection: OcppJConnection) => void,
    private readonly pingIntervalMs = PING_INTERVAL_MS,
    private readonly onRefused: (refusal: RefusedUpgrade) => void = () => undefined,
  ) {}

  /** For the http server's 'upgrade' event: every upgrade request, OCPP or not. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const refuse = (reason: UpgradeRefusal, chargerId: string | null, detail: string): void =>
      this.onRefused({ reason, chargerId, address: peerAddress(req), offered: offeredSubprotocols(req), detail });
    if (this.closing) {
      refuse('shuttingDown', null, 'the back end is shutting down');
      return refuseUpgrade(socket, 500, 'Server not open');
    }
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const cut = path.lastIndexOf('/');
    let identity = '';
    try {
      identity = decodeURIComponent(path.slice(cut + 1));
    } catch {
      // not a valid escape: no identity
    }
    if (path.slice(0, cut) !== OCPP_ENDPOINT || !identity) {
      refuse('path', null, `path ${path} is not ${OCPP_ENDPOINT}/{chargerId}`);
      return refuseUpgrade(socket, 404, 'Use ws://HOST:PORT/ocpp/{chargerId}');
    }
    const offered = offeredSubprotocols(req);
    if (!offered.includes(OCPP16)) {
      const reason = `This back end speaks ${OCPP16}; offered: ${offered.length > 0 ? offered.join(', ') : 'none'}`;
      refuse('subprotocol', identity, reason);
      // handleProtocols answers no subprotocol: the handshake completes without the header.
      socket.on('error', () => socket.destroy());
      return this.wss.handleUpgrade(req, socket, head, (ws) => {
        ws.on('error', () => ws.terminate());
        ws.close(CLOSE_PROTOCOL_ERROR, closeReason(reason));
      });
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const connection = new OcppJConnection(identity, ws, this.validator, this.pingIntervalMs);
      this.connections.add(connection);
      connection.onClosed(() => this.connections.delete(connection));
      this.onConnection(connection);
    });
  }

  /** Refuses new connections, closes each open one once its calls in flight are answered, then stops. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.connections].map((c) => c.close({ code: 1001, reason: 'server shutting down', awaitPending: true })));
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}

/** Answers an upgrade request with a plain HTTP error and closes the socket. */
export function refuseUpgrade(socket: Duplex, status: number, message: string): void {
  // Node takes its own error listener off an upgraded socket: a reset now must not crash the process.
  socket.on('error', () => socket.destroy());
  if (!socket.writable) return void socket.destroy();
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Type: text/plain\r\n` +
      `Content-Length: ${Buffer.byteLength(message)}\r\n\r\n${message}`,
    () => socket.destroy(),
  );
}
