// One shard of the fleet: the chargers one worker thread hosts, run as ONE long-lived task.
// Progress (counters + latency deltas) goes out over a MessagePort every wall second; the
// result (truth + final histograms) is the task's return value.

import type { MessagePort } from 'node:worker_threads';
import { Charger } from './charger.js';
import { DeadlineSweeper } from './deadline-sweeper.js';
import { ocpp16 } from './dialect-ocpp16.js';
import { initHistograms, usingWasm } from './histograms.js';
import { schemaValidator } from './ocpp-schemas.js';
import { Scheduler } from './scheduler.js';
import { SimClock, wallNow } from './sim-clock.js';
import type { ChargerSpec, FleetConfig, FleetCounters, FleetProgress, TruthSession } from './types.js';
import { WorkerMetrics } from './worker-metrics.js';

export interface ShardTask {
  workerId: number;
  /** The fleet configuration; `chargers` holds only this shard's chargers. */
  config: FleetConfig;
  /** Source address per charger (same order as config.chargers); undefined = let the OS choose. */
  localAddresses: Array<string | undefined>;
  /** Absolute wall ms (performance.timeOrigin + performance.now()) at which sim time starts. */
  startWallMs: number;
  /** Absolute wall ms the fleet started (for FleetProgress.wallMs). */
  fleetStartWallMs: number;
  /** After the last planned instant, wait at most this long for answers before closing. */
  drainTimeoutMs: number;
  /** Progress goes out here; a { type: 'stop' } message ends the run early. */
  port?: MessagePort;
  progressIntervalMs?: number;
}

export interface ShardResult {
  workerId: number;
  counters: FleetCounters;
  latency: Record<string, string>;
  serviceTime: Record<string, string>;
  truth: TruthSession[];
  errors: Record<string, number>;
  wasmHistograms: boolean;
}

/** Worker -> main over the task's port; 'done' follows the last progress. */
export type ShardMessage = { type: 'progress'; progress: FleetProgress } | { type: 'done' };

const SETTLE_POLL_MS = 20;
const SOCKET_CLOSE_WAIT_MS = 1000;

export async function runShard(task: ShardTask): Promise<ShardResult> {
  await initHistograms();
  const { config } = task;
  const scheduler = new Scheduler();
  const clock = new SimClock(config.simStart, config.speed, task.startWallMs);
  const metrics = new WorkerMetrics();
  const sweeper = new DeadlineSweeper(config.callTimeoutMs);
  const validator = schemaValidator(ocpp16.protocol);
  const simEndSec = Math.floor((clock.startSimMs + config.durationSimSec * 1000) / 1000);
  const truth: TruthSession[] = [];
  scheduler.onError = (err) => {
    metrics.error('internal');
    metrics.error(`internal:${err instanceof Error ? err.message.slice(0, 80) : String(err)}`);
  };

  const chargers = config.chargers.map(
    (spec: ChargerSpec, i: number) =>
      new Charger(spec, {
        config,
        scheduler,
        clock,
        metrics,
        sweeper,
        validator,
        dialect: ocpp16,
        simEndSec,
        onTruth: (t) => truth.push(t),
        localAddress: task.localAddresses[i],
      }),
  );

  let wake: (() => void) | null = null;
  const port = task.port;
  const progress = (): void => {
    if (!port) return;
    const p: FleetProgress = {
      workerId: task.workerId,
      wallMs: Math.round(wallNow() - task.fleetStartWallMs),
      simTime: SimClock.iso(Math.floor(Math.min(clock.nowSim(), simEndSec * 1000))),
      counters: { ...metrics.counters },
      latencyDelta: metrics.takeLatencyDeltas(),
    };
    port.postMessage({ type: 'progress', progress: p } satisfies ShardMessage);
  };
  port?.on('message', (m: { type?: string }) => {
    if (m && m.type === 'stop') wake?.();
  });
  const progressTimer = setInterval(progress, task.progressIntervalMs ?? 1000);

  for (const c of chargers) c.start();

  // Sleep until the planned end, then until everything is answered (or the drain timeout).
  // An abort ends the plan at the current instant: drivers stop and unplug, then the same drain.
  let endWall = clock.wallAt(simEndSec * 1000);
  let drainDeadline = endWall + task.drainTimeoutMs;
  await new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | null = null;
    const check = (): void => {
      timer = null;
      const now = wallNow();
      if (now >= drainDeadline || (now >= endWall && chargers.every((c) => c.settled))) {
        wake = null;
        resolve();
        return;
      }
      timer = setTimeout(check, now < endWall ? Math.min(endWall - now + 1, 250) : SETTLE_POLL_MS);
    };
    wake = () => {
      const now = wallNow();
      if (now < endWall) {
        const sec = Math.ceil(clock.simAt(now) / 1000);
        for (const c of chargers) c.endNow(sec);
        endWall = now;
        drainDeadline = now + task.drainTimeoutMs;
      }
      if (timer) clearTimeout(timer);
      check();
    };
    check();
  });

  for (const c of chargers) if (!c.settled) metrics.error('unsettledAtDrainTimeout');
  scheduler.stop();
  sweeper.stop();
  const sockets = chargers.map((c) => c.connection.socket).filter((s) => s !== null);
  for (const c of chargers) c.stop();
  await waitForSockets(sockets, SOCKET_CLOSE_WAIT_MS);
  clearInterval(progressTimer);
  progress();

  const finals = metrics.finalHistograms();
  const result: ShardResult = {
    workerId: task.workerId,
    counters: { ...metrics.counters },
    latency: finals.latency,
    serviceTime: finals.serviceTime,
    truth,
    errors: { ...metrics.errors },
    wasmHistograms: usingWasm(),
  };
  metrics.dispose();
  port?.postMessage({ type: 'done' } satisfies ShardMessage);
  return result;
}

async function waitForSockets(sockets: Array<import('ws').WebSocket>, maxMs: number): Promise<void> {
  const open = sockets.filter((s) => s.readyState !== s.CLOSED);
  if (open.length === 0) return;
  await new Promise<void>((resolve) => {
    let left = open.length;
    const timer = setTimeout(() => {
      for (const s of open) if (s.readyState !== s.CLOSED) s.terminate();
      resolve();
    }, maxMs);
    for (const s of open)
      s.once('close', () => {
        if (--left === 0) {
          clearTimeout(timer);
          resolve();
        }
      });
  });
}
