// The transport floor: what one OCPP call costs on this machine before any simulation or any
// billing. A bare client (the fleet's socket options and OCPP-J framing, but no chargers,
// schema checks or metrics) sends calls on a fixed plan, round robin over many sockets, to a
// server in a process of its own that only answers (bare, or ocpp-rpc's RPCServer), over
// loopback. Its CPU per call is the floor under the fleet's cpu/call at that load; the bare
// server's is the floor under any CSMS's. Both include the kernel's loopback TCP work, which on
// one machine lands on both ends.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import { sourceAddressesFor } from '../sim/fleet.js';
import { chargerSocketOptions } from '../sim/ocpp-connection.js';
import { CALLRESULT, decodeFrame, encodeCall, FrameError } from '../ocpp-j/index.js';
import { processCpuMicros } from './backend-process.js';
import { distEntry } from './package-root.js';
import { averageWaiting, processRunQueueWaitMicros, waitBetween } from './cpu-wait.js';

/** What answers the calls (see transport-floor-server.ts). */
export const FLOOR_SERVERS = ['bare', 'ocpp-rpc'] as const;
export type FloorServerKind = (typeof FLOOR_SERVERS)[number];

export interface FloorOptions {
  sockets: number;
  /** Calls sent per second across all sockets. */
  callsPerSec: number;
  /** How long calls are sent, warm-up included. */
  durationMs: number;
  /** First part left out of the figures (connections and JIT settle). */
  warmUpMs: number;
  /** What answers: a bare OCPP-J endpoint, or ocpp-rpc's RPCServer in strict mode with nothing behind it. */
  server: FloorServerKind;
}

export interface FloorResult {
  sockets: number;
  callsPerSec: number;
  /** The measured window: from the end of the warm-up to the end of the run. */
  windowMs: number;
  /** Calls answered within the window: the divisor of the CPU figures. */
  answered: number;
  /** Calls not sent because their socket still waited for its last answer (one call at a time). */
  skipped: number;
  client: { cpuMicrosPerCall: number; userMicrosPerCall: number; systemMicrosPerCall: number; threadsWaitingForCpu: number | null };
  server: { kind: FloorServerKind; cpuMicrosPerCall: number; threadsWaitingForCpu: number | null };
}

const CONNECT_BATCH = 200;
const HANDSHAKE_TIMEOUT_MS = 10_000;
const SERVER_START_TIMEOUT_MS = 10_000;
const KILL_GRACE_MS = 2_000;

interface FloorSocket {
  ws: WebSocket;
  /** Id of the call waiting for its answer, or null. */
  waiting: string | null;
  seq: number;
}

/** What every socket saw; a socket that closes or errors during the run spoils the figures. */
interface Tally {
  answered: number;
  unexpected: number;
  lost: number;
}

export async function measureTransportFloor(o: FloorOptions): Promise<FloorResult> {
  const server = await startFloorServer(o.server);
  const sockets: FloorSocket[] = [];
  try {
    const tally: Tally = { answered: 0, unexpected: 0, lost: 0 };
    const sources = sourceAddressesFor(server.url);
    for (let i = 0; i < o.sockets; i += CONNECT_BATCH) {
      const batch = [];
      for (let j = i; j < Math.min(o.sockets, i + CONNECT_BATCH); j++) batch.push(openSocket(server.url, sources[j % sources.length], tally));
      const settled = await Promise.allSettled(batch);
      for (const s of settled) if (s.status === 'fulfilled') sockets.push(s.value);
      const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) throw failed.reason;
    }
    const result = await sendOnPlan(o, sockets, tally, server);
    if (tally.lost > 0) throw new Error(`${tally.lost} of ${o.sockets} sockets closed or failed during the run, so the figures would leave their calls out`);
    if (tally.unexpected > 0) throw new Error(`${tally.unexpected} answers did not match the call their socket was waiting for`);
    if (result.answered === 0) throw new Error('no call was answered in the measured window; give a longer --duration');
    return result;
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

function takeReading(tally: Tally, serverPid: number): Reading {
  return {
    atMs: performance.now(),
    answered: tally.answered,
    cpu: process.cpuUsage(),
    clientWait: processRunQueueWaitMicros(process.pid),
    serverCpu: processCpuMicros(serverPid),
    serverWait: processRunQueueWaitMicros(serverPid),
  };
}

/**
 * Sends calls on a fixed plan (open model), waking, as the fleet's scheduler does, only when the
 * next call or a window edge is due; reads CPU at the end of the warm-up and at the end. A call
 * whose socket still waits for its last answer is skipped and counted, never sent late.
 */
function sendOnPlan(o: FloorOptions, sockets: FloorSocket[], tally: Tally, server: FloorServer): Promise<FloorResult> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const gapMs = 1000 / o.callsPerSec;
    let sent = 0;
    let skipped = 0;
    let skippedAtStart = 0;
    let start: Reading | null = null;
    let timer: NodeJS.Timeout | null = null;
    const serverDied = (code: number | null, signal: string | null) => {
      if (timer) clearTimeout(timer);
      reject(new Error(`the floor server exited during the run (code ${code}, signal ${signal})`));
    };
    server.child.once('exit', serverDied);
    const tick = () => {
      try {
        step();
      } catch (err) {
        server.child.off('exit', serverDied);
        reject(err as Error);
      }
    };
    const step = () => {
      const elapsed = performance.now() - t0;
      const due = Math.floor(Math.min(elapsed, o.durationMs) / gapMs);
      for (; sent < due; sent++) {
        const s = sockets[sent % sockets.length];
        if (s.waiting !== null) skipped++;
        else sendCall(s, sent);
      }
      if (!start && elapsed >= o.warmUpMs) {
        start = takeReading(tally, server.child.pid!);
        skippedAtStart = skipped;
      }
      if (elapsed < o.durationMs) {
        const next = Math.min((sent + 1) * gapMs, start ? o.durationMs : o.warmUpMs);
        timer = setTimeout(tick, Math.max(0, next - elapsed));
        return;
      }
      server.child.off('exit', serverDied);
      const end = takeReading(tally, server.child.pid!);
      const from = start ?? end;
      const answered = end.answered - from.answered;
      const windowMs = end.atMs - from.atMs;
      const per = (micros: number) => (answered > 0 ? micros / answered : 0);
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
          kind: server.kind,
          cpuMicrosPerCall: per(end.serverCpu - from.serverCpu),
          threadsWaitingForCpu: averageWaiting(waitBetween(from.serverWait, end.serverWait), windowMs),
        },
      });
    };
    tick();
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

function openSocket(url: string, localAddress: string | undefined, tally: Tally): Promise<FloorSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'ocpp1.6', chargerSocketOptions(localAddress, HANDSHAKE_TIMEOUT_MS));
    const s: FloorSocket = { ws, waiting: null, seq: 0 };
    let open = false;
    ws.once('open', () => {
      open = true;
      resolve(s);
    });
    ws.on('error', (err) => {
      if (!open) reject(new Error(`cannot connect to the floor server from ${localAddress ?? 'the default address'}: ${err.message}`));
    });
    // Read before the sockets are terminated at the end: until then, a close loses the socket's calls.
    ws.once('close', () => {
      if (open) tally.lost++;
    });
    ws.on('message', (data) => {
      const frame = decodeFrame(data.toString());
      if (!(frame instanceof FrameError) && frame.type === CALLRESULT && frame.id === s.waiting) {
        s.waiting = null;
        tally.answered++;
      } else {
        tally.unexpected++;
      }
    });
  });
}

interface FloorServer {
  url: string;
  kind: FloorServerKind;
  child: ChildProcess;
  stop(): void;
}

const READY = /listening on (ws:\/\/\S+) as (\S+)/;

function startFloorServer(kind: FloorServerKind): Promise<FloorServer> {
  const child = spawn(process.execPath, [distEntry('scenarios', 'transport-floor-server.js'), kind], { stdio: ['pipe', 'pipe', 'inherit'] });
  // Closing its stdin asks it to exit; a server that does not is killed.
  const stop = () => {
    child.stdin?.end();
    setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS).unref();
  };
  child.stdin?.on('error', () => undefined); // a server that already exited cannot be asked
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the floor server did not start within ${SERVER_START_TIMEOUT_MS / 1000} s`));
    }, SERVER_START_TIMEOUT_MS);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const match = READY.exec(line);
      if (!match) return;
      clearTimeout(timer);
      resolve({ url: match[1], kind: match[2] as FloorServerKind, child, stop });
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot start the floor server: ${err.message}`));
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
  const server = r.server.kind === 'ocpp-rpc' ? "an ocpp-rpc server in strict mode (the library's RPCServer, nothing behind it)" : 'a bare answering server';
  const serverMeaning = r.server.kind === 'ocpp-rpc' ? 'ocpp-rpc and its validation, before any CSMS work' : "the floor under a CSMS's cpu/call";
  return [
    `transport floor  a bare client (the fleet's sockets and OCPP-J framing, no charger logic) and ${server}, over loopback`,
    `load             ${n(r.sockets)} sockets, ${n(r.callsPerSec)} calls/s; ${n(r.answered)} answered in the ${(r.windowMs / 1000).toFixed(1)} s window, ${n(r.skipped)} skipped`,
    `client           ${us(r.client.cpuMicrosPerCall)} CPU per call (user ${us(r.client.userMicrosPerCall)}, system ${us(r.client.systemMicrosPerCall)}): the floor under the fleet's cpu/call`,
    `server           ${us(r.server.cpuMicrosPerCall)} CPU per call: ${serverMeaning}`,
    `cpu wait         threads ready but waiting for a core, on average: client ${waiting(r.client.threadsWaitingForCpu)}, server ${waiting(r.server.threadsWaitingForCpu)}`,
  ].join('\n');
}
