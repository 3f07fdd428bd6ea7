// The fleet: a piscina pool with one long-lived shard task per worker thread.

import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { initHistograms, mergeEncoded } from './histograms.js';
import type { ShardMessage, ShardResult, ShardTask } from './shard.js';
import { wallNow } from './sim-clock.js';
import type { FleetConfig, FleetProgress, FleetResult, TruthSession } from './types.js';
import { addCounters, emptyCounters } from './worker-metrics.js';

export interface RunFleetOptions {
  onProgress?: (p: FleetProgress) => void;
  signal?: AbortSignal;
}

/** Descriptors kept back for the runtime, worker threads, files and the report writers. */
const RESERVED_FDS = 256;
/** Source addresses used for loopback targets (each gives ~28,000 ephemeral ports). */
const LOOPBACK_SOURCES = 16;

export function fleetCapacity(): { openFileLimit: number; maxChargers: number; explanation: string } {
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
      `For more, run several shards (--shard i/n) or raise the limit.`,
  };
}

/** The compiled worker file: next to this module (dist/), else <package root>/dist/sim/ (source run by vitest/tsx). */
export function shardWorkerFile(): string {
  const here = fileURLToPath(new URL('./shard-worker.js', import.meta.url));
  if (existsSync(here)) return pathToFileURL(here).href;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) break;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('fleet: cannot find the package root to locate dist/sim/shard-worker.js');
    dir = up;
  }
  const built = path.join(dir, 'dist', 'sim', 'shard-worker.js');
  if (!existsSync(built)) throw new Error(`fleet: ${built} is missing; build first with 'npm run build'`);
  return pathToFileURL(built).href;
}

function loopbackSources(targetUrl: string, spread: boolean | undefined): boolean {
  if (spread === false) return false;
  try {
    return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(new URL(targetUrl).hostname);
  } catch {
    return false;
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
  const fleetStart = wallNow();
  const chargers = config.chargers;
  const cap = fleetCapacity();
  if (chargers.length > cap.maxChargers) throw new Error(`too many chargers for one process: ${chargers.length}. ${cap.explanation}`);
  const workers = Math.max(1, Math.min(config.workers ?? os.availableParallelism(), Math.max(1, chargers.length)));
  const spread = loopbackSources(config.targetUrl, config.spreadLoopbackSources);
  // Give workers time to start and chargers time to connect and boot before sim time starts.
  const leadMs = config.startLeadMs ?? Math.min(10_000, 1000 + chargers.length);
  const startWallMs = fleetStart + leadMs;
  const drainTimeoutMs = Math.max(2000, config.callTimeoutMs * 2);

  await initHistograms();
  const pool = new Piscina({
    filename: shardWorkerFile(),
    minThreads: workers,
    maxThreads: workers,
    concurrentTasksPerWorker: 1,
    atomics: 'disabled',
    idleTimeout: 60_000,
  });

  const ports: Array<import('node:worker_threads').MessagePort> = [];
  const onAbort = (): void => {
    for (const p of ports) p.postMessage({ type: 'stop' });
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  try {
    const runs: Array<Promise<ShardResult>> = [];
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
          port1.on('message', (m: ShardMessage) => {
            if (m.type === 'progress') opts.onProgress?.(m.progress);
            else if (m.type === 'done') resolve();
          });
          port1.once('close', () => resolve());
        }),
      );
      const task: ShardTask = {
        workerId: w,
        config: { ...config, chargers: slice },
        localAddresses: addrs,
        startWallMs,
        fleetStartWallMs: fleetStart,
        drainTimeoutMs,
        port: port2,
      };
      runs.push(pool.run(task, { transferList: [port2] }) as Promise<ShardResult>);
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
    const cpu = process.cpuUsage(cpuStart);
    return {
      workers,
      wallMs: Math.round(wallNow() - fleetStart),
      counters,
      latency: mergeEncoded(results.map((r) => r.latency)),
      serviceTime: mergeEncoded(results.map((r) => r.serviceTime)),
      truth,
      cpuMicros: cpu.user + cpu.system,
      errors,
    };
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    for (const p of ports) p.close();
    await pool.destroy();
  }
}

function compareTruth(a: TruthSession, b: TruthSession): number {
  if (a.chargerId !== b.chargerId) return a.chargerId < b.chargerId ? -1 : 1;
  if (a.connectorId !== b.connectorId) return a.connectorId - b.connectorId;
  return a.startAt < b.startAt ? -1 : a.startAt > b.startAt ? 1 : 0;
}
