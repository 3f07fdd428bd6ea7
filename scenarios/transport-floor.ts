// The transport floor: what one OCPP call costs on this machine before any simulation or any
// billing. A bare client (the fleet's socket options and OCPP-J framing, but no chargers,
// scheduler, schema checks or metrics) sends calls at a constant rate, round robin over many
// sockets, to a bare answering server in a process of its own, over loopback. Its CPU per call
// is the floor under the fleet's cpu/call at that load; the server's is the floor under any
// CSMS's. Both include the kernel's loopback TCP work, which on one machine lands on both ends.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import { sourceAddressesFor } from '../sim/fleet.js';
import { chargerSocketOptions } from '../sim/ocpp-connection.js';
import { CALLRESULT, decodeFrame, encodeCall, FrameError } from '../sim/ocpp-framing.js';
import { processCpuMicros } from './backend-process.js';
import { packageRoot } from './package-root.js';
import { averageWaiting, processRunQueueWaitMicros, waitBetween } from './run-queue.js';

export interface FloorOptions {
  sockets: number;
  /** Calls sent per second across all sockets. */
  callsPerSec: number;
  /** How long calls are sent, warm-up included. */
  durationMs: number;
  /** First part left out of the figures (connections and JIT settle). */
  warmUpMs: number;
}

export interface FloorResult {
  sockets: number;
  callsPerSec: number;
  /** The measured window: from the end of the warm-up to the last planned send. */
  windowMs: number;
  /** Calls answered within the window: the divisor of the CPU figures. */
  answered: number;
  /** Calls not sent because their socket still waited for its last answer (one call at a time). */
  skipped: number;
  client: { cpuMicrosPerCall: number; userMicrosPerCall: number; systemMicrosPerCall: number; threadsWaitingForCpu: number | null };
  server: { cpuMicrosPerCall: number; threadsWaitingForCpu: number | null };
}

const CONNECT_BATCH = 200;
const HANDSHAKE_TIMEOUT_MS = 10_000;
const TICK_MS = 1;
const DRAIN_MS = 2_000;

interface FloorSocket {
  ws: WebSocket;
  /** Id of the call waiting for its answer, or null. */
  waiting: string | null;
  seq: number;
}

export async function measureTransportFloor(o: FloorOptions): Promise<FloorResult> {
  const server = await startFloorServer();
  const sockets: FloorSocket[] = [];
  try {
    const counts = { answered: 0, unexpected: 0 };
    const sources = sourceAddressesFor(server.url);
    for (let i = 0; i < o.sockets; i += CONNECT_BATCH) {
      const batch = [];
      for (let j = i; j < Math.min(o.sockets, i + CONNECT_BATCH); j++) batch.push(openSocket(server.url, sources[j % sources.length], counts));
      sockets.push(...(await Promise.all(batch)));
    }
    const window = await sendAtRate(o, sockets, counts, server.child.pid!);
    if (counts.unexpected > 0) throw new Error(`${counts.unexpected} answers did not match the call their socket was waiting for`);
    return window;
  } finally {
    for (const s of sockets) s.ws.terminate();
    server.stop();
  }
}

interface Reading {
  atMs: number;
  answered: number;
  cpu: NodeJS.CpuUsage;
  clientWait: number | null;
  serverCpu: number;
  serverWait: number | null;
}

function read(counts: { answered: number }, serverPid: number): Reading {
  return {
    atMs: performance.now(),
    answered: counts.answered,
    cpu: process.cpuUsage(),
    clientWait: processRunQueueWaitMicros(process.pid),
    serverCpu: processCpuMicros(serverPid),
    serverWait: processRunQueueWaitMicros(serverPid),
  };
}

/** Sends calls on a fixed plan (open model) and reads CPU at the end of the warm-up and at the end. */
function sendAtRate(o: FloorOptions, sockets: FloorSocket[], counts: { answered: number }, serverPid: number): Promise<FloorResult> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let sent = 0;
    let skipped = 0;
    let skippedAtStart = 0;
    let start: Reading | null = null;
    const timer = setInterval(() => {
      const elapsed = performance.now() - t0;
      const due = Math.floor((Math.min(elapsed, o.durationMs) * o.callsPerSec) / 1000);
      for (; sent < due; sent++) {
        const s = sockets[sent % sockets.length];
        if (s.waiting !== null) skipped++;
        else sendCall(s, sent);
      }
      if (!start && elapsed >= o.warmUpMs) {
        start = read(counts, serverPid);
        skippedAtStart = skipped;
      }
      if (elapsed < o.durationMs) return;
      clearInterval(timer);
      const end = read(counts, serverPid);
      const from = start ?? end;
      const answered = end.answered - from.answered;
      const windowMs = end.atMs - from.atMs;
      const per = (micros: number) => (answered > 0 ? micros / answered : NaN);
      const user = end.cpu.user - from.cpu.user;
      const system = end.cpu.system - from.cpu.system;
      resolve({
        sockets: sockets.length,
        callsPerSec: o.callsPerSec,
        windowMs,
        answered,
        skipped: skipped - skippedAtStart,
        client: {
          cpuMicrosPerCall: per(user + system),
          userMicrosPerCall: per(user),
          systemMicrosPerCall: per(system),
          threadsWaitingForCpu: averageWaiting(waitBetween(from.clientWait, end.clientWait), windowMs),
        },
        server: {
          cpuMicrosPerCall: per(end.serverCpu - from.serverCpu),
          threadsWaitingForCpu: averageWaiting(waitBetween(from.serverWait, end.serverWait), windowMs),
        },
      });
    }, TICK_MS);
  });
}

/** Every other call is a MeterValues (answered empty), the rest an Authorize: a transaction's mix. */
function sendCall(s: FloorSocket, n: number): void {
  const id = String(++s.seq);
  const frame =
    n % 2 === 0
      ? encodeCall(id, 'MeterValues', {
          connectorId: 1,
          transactionId: n,
          meterValue: [
            {
              timestamp: new Date().toISOString(),
              sampledValue: [{ value: String(n), context: 'Sample.Periodic', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }],
            },
          ],
        })
      : encodeCall(id, 'Authorize', { idTag: 'FLOOR-TAG' });
  s.waiting = id;
  s.ws.send(frame);
}

function openSocket(url: string, localAddress: string | undefined, counts: { answered: number; unexpected: number }): Promise<FloorSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'ocpp1.6', chargerSocketOptions(localAddress, HANDSHAKE_TIMEOUT_MS));
    const s: FloorSocket = { ws, waiting: null, seq: 0 };
    ws.once('open', () => resolve(s));
    ws.once('error', (err) => reject(new Error(`cannot connect to the floor server from ${localAddress ?? 'the default address'}: ${err.message}`)));
    ws.on('message', (data) => {
      const frame = decodeFrame(data.toString());
      if (!(frame instanceof FrameError) && frame.type === CALLRESULT && frame.id === s.waiting) {
        s.waiting = null;
        counts.answered++;
      } else {
        counts.unexpected++;
      }
    });
  });
}

interface FloorServer {
  url: string;
  child: ChildProcess;
  stop(): void;
}

const READY = /listening on (ws:\/\/\S+)/;

function startFloorServer(): Promise<FloorServer> {
  const child = spawn(process.execPath, [join(packageRoot(), 'dist', 'scenarios', 'transport-floor-server.js')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const stop = () => {
    child.stdin?.end();
    setTimeout(() => child.kill('SIGKILL'), DRAIN_MS).unref();
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('the floor server did not start within 10 s'));
    }, 10_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const match = READY.exec(line);
      if (!match) return;
      clearTimeout(timer);
      resolve({ url: match[1], child, stop });
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the floor server exited before it was ready (code ${code}, signal ${signal})`));
    });
  });
}

/** The terminal lines of a result. */
export function formatFloor(r: FloorResult): string {
  const n = (v: number) => Math.round(v).toLocaleString('en-US');
  const us = (v: number) => `${v.toFixed(1)} µs`;
  const waiting = (v: number | null) => (v === null ? 'unknown' : v.toFixed(2));
  return [
    'transport floor  a bare client (the fleet\'s sockets and OCPP-J framing, no charger logic) and a bare answering server, over loopback',
    `load             ${n(r.sockets)} sockets, ${n(r.callsPerSec)} calls/s; ${n(r.answered)} answered in the ${(r.windowMs / 1000).toFixed(1)} s window, ${n(r.skipped)} skipped`,
    `client           ${us(r.client.cpuMicrosPerCall)} CPU per call (user ${us(r.client.userMicrosPerCall)}, system ${us(r.client.systemMicrosPerCall)}): the floor under the fleet's cpu/call`,
    `server           ${us(r.server.cpuMicrosPerCall)} CPU per call: the floor under a CSMS's cpu/call`,
    `cpu wait         threads ready but waiting for a core, on average: client ${waiting(r.client.threadsWaitingForCpu)}, server ${waiting(r.server.threadsWaitingForCpu)}`,
  ].join('\n');
}
