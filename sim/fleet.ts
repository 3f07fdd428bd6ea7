// The fleet: a piscina pool with one long-lived worker-fleet task per worker thread.

import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { initHistograms, mergeEncoded } from './histograms.js';
import type { WorkerFleetMessage, WorkerFleetResult, WorkerFleetTask } from './worker-fleet.js';
import { wallNow } from './sim-clock.js';
import type { FleetConfig, FleetCounters, FleetProgress, FleetResult, SteadyWindow, TruthSession } from './types.js';
import { addCounters, emptyCounters } from './worker-metrics.js';

export interface RunFleetOptions {
  onProgress?: (p: FleetProgress) => void;
  signal?: AbortSignal;
  /**
   * Called on the main thread where the fleet's CPU is read: when the run starts and ends (its
   * workers still up) and when the steady window opens (end of warm-up) and closes (end of arrivals).
   */
  onPhase?: (phase: FleetPhase) => void;
}

export type FleetPhase = 'fleet-start' | 'steady-start' | 'steady-end' | 'fleet-end';

/** Default new connections per second across the fleet (see FleetConfig.connectRatePerSec). */
export const DEFAULT_CONNECT_RATE = 2000;
/** Ephemeral ports assumed per source address when /proc does not say. */
const DEFAULT_PORTS_PER_SOURCE = 28_000;

/** Descriptors kept back for the runtime, worker threads, files and the report writers. */
const RESERVED_FDS = 256;
/** Source addresses used for loopback targets (each gives ~28,000 ephemeral ports). */
const LOOPBACK_SOURCES = 16;
/** Sim time starts at least this long after the last worker said its chargers booted (the 'start' message must reach every worker first). */
const START_MARGIN_MS = 100;

export interface FleetCapacity {
  openFileLimit: number;
  /** Chargers one fleet process can hold: the smaller of the descriptor and the port budget. */
  maxChargers: number;
  explanation: string;
  /** Ephemeral ports per source address towards one server address (ip_local_port_range). */
  portsPerSource: number;
  /** Source addresses sockets are spread over (empty: the OS chooses one). */
  sourceAddresses: string[];
}

/** Ephemeral ports per source address, from /proc/sys/net/ipv4/ip_local_port_range. */
export function ephemeralPortsPerSource(): number {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(lo) && Number.isInteger(hi) && hi >= lo) return hi - lo + 1;
  } catch {
    // not Linux
  }
  return DEFAULT_PORTS_PER_SOURCE;
}

/** Source addresses for a target (127.0.0.1..16 for a loopback target, else none = OS choice). */
export function sourceAddressesFor(targetUrl: string | undefined, spread?: boolean): string[] {
  if (targetUrl === undefined || !loopbackSources(targetUrl, spread)) return [];
  return Array.from({ length: LOOPBACK_SOURCES }, (_, i) => `127.0.0.${i + 1}`);
}

/**
 * How many chargers one fleet process can hold, and why: the open-file limit (one socket per
 * charger) and the ephemeral ports per source address (about 28,000 each).
 */
export function fleetCapacity(targetUrl?: string): FleetCapacity {
  const fds = fileCapacity();
  const portsPerSource = ephemeralPortsPerSource();
  const sources = sourceAddressesFor(targetUrl ?? 'ws://127.0.0.1/', undefined);
  const byPorts = portsPerSource * Math.max(1, sources.length);
  const maxChargers = Math.min(fds.maxChargers, byPorts);
  const sourceText =
    sources.length > 0
      ? `Sockets to a loopback target are spread over ${sources.length} source addresses (${sources[0]}..${sources[sources.length - 1]}), ${portsPerSource} ephemeral ports each, so ports allow ${byPorts} chargers.`
      : `Sockets to a remote target use one source address with ${portsPerSource} ephemeral ports, so ports allow ${byPorts} chargers per target address.`;
  return {
    openFileLimit: fds.openFileLimit,
    maxChargers,
    portsPerSource,
    sourceAddresses: sources,
    explanation: `${fds.explanation} ${sourceText} Closed sockets stay in TIME_WAIT for about 60 s and hold their ports.`,
  };
}

function fileCapacity(): { openFileLimit: number; maxChargers: number; explanation: string } {
  let soft = NaN;
  let hard = NaN;
  try {
    const limits = readFileSync('/proc/self/limits', 'utf8');
    const line = limits.split('\n').find((l) => l.startsWith('Max open files'));
    const m = line?.match(/^Max open files\s+(\S+)\s+(\S+)/);
    if (m) {
      soft = m[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(m[1]);
      hard = m[2] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(m[2]);
    }
  } catch {
    // not Linux: fall through
  }
  if (!Number.isFinite(soft)) {
    const guess = 1024;
    return {
      openFileLimit: guess,
      maxChargers: guess - RESERVED_FDS,
      explanation: `Could not read /proc/self/limits; assuming ${guess} open files, so about ${guess - RESERVED_FDS} chargers per fleet process. Check 'ulimit -n'.`,
    };
  }
  const maxChargers = Math.max(0, soft - RESERVED_FDS);
  const hardText = Number.isFinite(hard) && hard !== soft ? ` (hard limit ${hard}; raise the soft limit with 'ulimit -n ${hard}')` : '';
  return {
    openFileLimit: soft,
    maxChargers,
    explanation:
      `This process may hold ${soft} open files${hardText}. Each simulated charger keeps one socket open and ` +
      `${RESERVED_FDS} descriptors are kept back for the runtime, so one fleet process can run up to ${maxChargers} chargers. ` +
      `For more, raise the limit, or start one back end (chargebench backend --port 8180 &) and run the fleet as n shard processes ` +
      `against it, each with the same command plus --target ws://127.0.0.1:8180/ocpp --shard i/n --report-dir out/shard-i ` +
      `(i = 1..n, side by side), then merge them: chargebench report merge out/shard-* --report-dir out/merged.`,
  };
}

/** The compiled worker file: next to this module (dist/), else <package root>/dist/sim/ (source run by vitest/tsx). */
export function workerEntryFile(): string {
  const here = fileURLToPath(new URL('./worker-entry.js', import.meta.url));
  if (existsSync(here)) return pathToFileURL(here).href;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) break;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('fleet: cannot find the package root to locate dist/sim/worker-entry.js');
    dir = up;
  }
  const built = path.join(dir, 'dist', 'sim', 'worker-entry.js');
  if (!existsSync(built)) throw new Error(`fleet: ${built} is missing; build first with 'npm run build'`);
  return pathToFileURL(built).href;
}

/**
 * Default fleet worker threads: one per CPU against a remote CSMS; half the CPUs (at least one)
 * when the CSMS runs on this machine (a loopback target, the embedded back end included), since
 * it needs the rest. Measured on 2 cores at 1,000 tx/s: one worker spends 57-60 µs of CPU per
 * call where two spend 71-73, and the back end's latency improves with the freed core.
 */
export function defaultWorkers(targetUrl: string, cpus = os.availableParallelism()): number {
  return isLoopbackTarget(targetUrl) ? Math.max(1, Math.floor(cpus / 2)) : Math.max(1, cpus);
}

function isLoopbackTarget(targetUrl: string): boolean {
  const host = hostOf(targetUrl);
  return isIpv4Loopback(host) || host === 'localhost' || host === '[::1]';
}

function loopbackSources(targetUrl: string, spread: boolean | undefined): boolean {
  return spread !== false && isIpv4Loopback(hostOf(targetUrl));
}

function isIpv4Loopback(host: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
}

function checkConfig(config: FleetConfig): void {
  const problems: string[] = [];
  if (!/^wss?:\/\//.test(config.targetUrl)) problems.push(`targetUrl must start with ws:// or wss://, got '${config.targetUrl}'`);
  if (!(config.speed > 0)) problems.push('speed must be > 0');
  if (!(config.durationSimSec > 0)) problems.push('durationSimSec must be > 0');
  if (!Number.isFinite(Date.parse(config.simStart))) problems.push(`simStart is not an ISO instant: '${config.simStart}'`);
  if (!(config.meterValueSampleIntervalSec >= 1)) problems.push('meterValueSampleIntervalSec must be >= 1');
  if (!(config.callTimeoutMs > 0)) problems.push('callTimeoutMs must be > 0');
  const ids = new Set<string>();
  for (const c of config.chargers) {
    if (ids.has(c.id)) problems.push(`duplicate charger id '${c.id}'`);
    ids.add(c.id);
    if (!(c.connectors >= 1)) problems.push(`charger '${c.id}' needs at least one connector`);
  }
  if (problems.length > 0) throw new Error(`invalid fleet config: ${problems.join('; ')}`);
}

export async function runFleet(config: FleetConfig, opts: RunFleetOptions = {}): Promise<FleetResult> {
  checkConfig(config);
  const cpuStart = process.cpuUsage();
  opts.onPhase?.('fleet-start');
  const fleetStart = wallNow();
  const chargers = config.chargers;
  const cap = fleetCapacity(config.targetUrl);
  if (chargers.length > cap.maxChargers) throw new Error(`too many chargers for one process: ${chargers.length}. ${cap.explanation}`);
  const workers = Math.max(1, Math.min(config.workers ?? defaultWorkers(config.targetUrl), Math.max(1, chargers.length)));
  const spread = loopbackSources(config.targetUrl, config.spreadLoopbackSources);
  // Give workers time to start and chargers time to connect (at the connect rate) and boot before sim time starts.
  const connectRate = config.connectRatePerSec ?? DEFAULT_CONNECT_RATE;
  const leadMs = config.startLeadMs ?? defaultLeadMs(chargers.length, connectRate);
  // Provisional: sim start is fixed when every worker is up (see onReady).
  let startWallMs = fleetStart + leadMs;
  const drainTimeoutMs = Math.max(2000, config.callTimeoutMs * 2);

  await initHistograms();
  const pool = new Piscina({
    filename: workerEntryFile(),
    minThreads: workers,
    maxThreads: workers,
    concurrentTasksPerWorker: 1,
    atomics: 'disabled',
    idleTimeout: 60_000,
  });

  const ports: Array<import('node:worker_threads').MessagePort> = [];
  // Memory baseline: workers are up (runtime, schemas, histograms) but hold no charger yet.
  let readyLeft = workers;
  let rssBaseline = process.memoryUsage.rss();
  const onReady = (): void => {
    if (--readyLeft > 0) return;
    rssBaseline = process.memoryUsage.rss();
    startWallMs = wallNow() + leadMs;
    for (const p of ports) p.postMessage({ type: 'go', startWallMs });
  };
  // Sim time starts when every worker's chargers have connected and booted: on the planned
  // lead if they made it, else a moment after the last one (a slow target cannot eat the start).
  let bootedLeft = workers;
  const onBooted = (): void => {
    if (--bootedLeft > 0) return;
    startWallMs = Math.max(startWallMs, wallNow() + START_MARGIN_MS);
    planPhases();
    for (const p of ports) p.postMessage({ type: 'start', startWallMs });
  };
  // Most chargers connected at once: the sum of every worker's latest count.
  const connectedByWorker = new Array<number>(workers).fill(0);
  let connectedNow = 0;
  let connectedMax = 0;
  const onWorkerProgress = (p: FleetProgress): void => {
    connectedNow += p.counters.chargersConnected - connectedByWorker[p.workerId];
    connectedByWorker[p.workerId] = p.counters.chargersConnected;
    if (connectedNow > connectedMax) connectedMax = connectedNow;
    opts.onProgress?.(p);
  };
  // The steady window on the main thread: process CPU (all threads) and RSS at its edges.
  const warmUpMs = Math.max(0, config.warmUpMs ?? 0);
  const arrivalsMs = (config.durationSimSec * 1000) / config.speed;
  let cpuAtSteadyStart: NodeJS.CpuUsage | null = null;
  let cpuAtSteadyEnd: NodeJS.CpuUsage | null = null;
  let rssLoaded: number | null = null;
  const phaseTimers: NodeJS.Timeout[] = [];
  const planPhases = (): void => {
    if (warmUpMs < arrivalsMs) {
      phaseTimers.push(
        setTimeout(
          () => {
            cpuAtSteadyStart = process.cpuUsage();
            opts.onPhase?.('steady-start');
          },
          Math.max(0, startWallMs + warmUpMs - wallNow()),
        ),
      );
    }
    phaseTimers.push(setTimeout(endSteady, Math.max(0, startWallMs + arrivalsMs - wallNow())));
  };
  const endSteady = (): void => {
    for (const t of phaseTimers) clearTimeout(t);
    if (cpuAtSteadyEnd || !cpuAtSteadyStart) return;
    cpuAtSteadyEnd = process.cpuUsage();
    rssLoaded = process.memoryUsage.rss();
    opts.onPhase?.('steady-end');
  };
  const onAbort = (): void => {
    endSteady();
    for (const p of ports) p.postMessage({ type: 'stop' });
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  try {
    const runs: Array<Promise<WorkerFleetResult>> = [];
    const drained: Array<Promise<void>> = [];
    for (let w = 0; w < workers; w++) {
      const slice = [];
      const addrs: Array<string | undefined> = [];
      for (let k = w; k < chargers.length; k += workers) {
        slice.push(chargers[k]);
        addrs.push(spread ? `127.0.0.${1 + (k % LOOPBACK_SOURCES)}` : undefined);
      }
      const { port1, port2 } = new MessageChannel();
      ports.push(port1);
      drained.push(
        new Promise<void>((resolve) => {
          port1.on('message', (m: WorkerFleetMessage) => {
            if (m.type === 'progress') onWorkerProgress(m.progress);
            else if (m.type === 'ready') onReady();
            else if (m.type === 'booted') onBooted();
            else if (m.type === 'done') resolve();
          });
          port1.once('close', () => resolve());
        }),
      );
      const task: WorkerFleetTask = {
        workerId: w,
        config: { ...config, chargers: slice },
        localAddresses: addrs,
        startWallMs,
        fleetStartWallMs: fleetStart,
        drainTimeoutMs,
        port: port2,
        workers,
        connectRatePerSec: connectRate / workers,
        awaitGo: true,
      };
      runs.push(pool.run(task, { transferList: [port2] }) as Promise<WorkerFleetResult>);
    }
    if (opts.signal?.aborted) onAbort();
    const results = await Promise.all(runs);
    // The last progress travels on the port, not with the result: wait for it (briefly).
    await Promise.race([Promise.all(drained), new Promise((r) => setTimeout(r, 2000).unref())]);

    const counters = emptyCounters();
    const errors: Record<string, number> = {};
    const truth: TruthSession[] = [];
    for (const r of results) {
      addCounters(counters, r.counters);
      for (const [k, n] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + n;
      for (const t of r.truth) truth.push(t);
    }
    truth.sort(compareTruth);
    endSteady();
    const cpu = process.cpuUsage(cpuStart);
    opts.onPhase?.('fleet-end');
    const steady = steadyWindow(results, cpuAtSteadyStart, cpuAtSteadyEnd, {
      fromMs: startWallMs + warmUpMs - fleetStart,
      toMs: startWallMs + arrivalsMs - fleetStart,
    });
    return {
      workers,
      wallMs: Math.round(wallNow() - fleetStart),
      counters,
      latency: mergeEncoded(results.map((r) => r.latency)),
      serviceTime: mergeEncoded(results.map((r) => r.serviceTime)),
      truth,
      cpuMicros: cpu.user + cpu.system,
      errors,
      steady,
      rss: { baselineBytes: rssBaseline, loadedBytes: rssLoaded },
      chargersConnectedMax: connectedMax,
    };
  } finally {
    for (const t of phaseTimers) clearTimeout(t);
    opts.signal?.removeEventListener('abort', onAbort);
    for (const p of ports) p.close();
    await pool.destroy();
  }
}

/** Lead time before sim start: connect at the connect rate, plus about a millisecond per charger to boot. */
export function defaultLeadMs(chargers: number, connectRatePerSec: number = DEFAULT_CONNECT_RATE): number {
  return Math.round(1000 + chargers * (1 + 1000 / Math.max(1, connectRatePerSec)));
}

function steadyWindow(
  results: WorkerFleetResult[],
  cpuStart: NodeJS.CpuUsage | null,
  cpuEnd: NodeJS.CpuUsage | null,
  span: { fromMs: number; toMs: number },
): SteadyWindow | undefined {
  if (!cpuStart || !cpuEnd || results.some((r) => !r.steadyStart || !r.steadyEnd)) return undefined;
  const delta = (k: keyof FleetCounters): number => results.reduce((n, r) => n + ((r.steadyEnd![k] ?? 0) - (r.steadyStart![k] ?? 0)), 0);
  const start = cpuStart as NodeJS.CpuUsage;
  const end = cpuEnd as NodeJS.CpuUsage;
  return {
    fromMs: Math.round(span.fromMs),
    toMs: Math.round(span.toMs),
    calls: delta('calls'),
    transactions: delta('transactions'),
    sessionsDone: delta('sessionsDone'),
    dropped: delta('dropped'),
    turnedAway: delta('turnedAway'),
    cpuMicros: end.user - start.user + (end.system - start.system),
  };
}

function compareTruth(a: TruthSession, b: TruthSession): number {
  if (a.chargerId !== b.chargerId) return a.chargerId < b.chargerId ? -1 : 1;
  if (a.connectorId !== b.connectorId) return a.connectorId - b.connectorId;
  return a.startAt < b.startAt ? -1 : a.startAt > b.startAt ? 1 : 0;
}
