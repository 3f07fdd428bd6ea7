// One worker fleet: the chargers one worker thread hosts, run as ONE long-lived task.
// Progress (counters + latency deltas) goes out over a MessagePort every wall second; the
// result (truth + final histograms) is the task's return value.

import type { MessagePort } from 'node:worker_threads';
import { Charger } from './charger/index.js';
import { DeadlineSweeper } from './deadline-sweeper.js';
import { dialectFor } from './dialects.js';
import { faultPlanFor } from './faults/index.js';
import { initHistograms, usingWasm } from './histograms.js';
import { loadDriverFor, type LoadDriver } from './load-driver.js';
import { schemaValidator } from '../ocpp-j/index.js';
import { Scheduler } from './scheduler.js';
import { SimClock, wallNow } from './sim-clock.js';
import type { ChargerSpec, FleetConfig, FleetCounters, FleetProgress, TruthSession } from './types.js';
import { WorkerMetrics } from './worker-metrics.js';

export interface WorkerFleetTask {
  workerId: number;
  /** The fleet configuration; `chargers` holds only this worker fleet's chargers. */
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
  /** Number of worker fleets in the fleet (open-model arrivals are dealt round-robin over them). Default 1. */
  workers?: number;
  /** New connections per wall second for this worker fleet; default: all at once. */
  connectRatePerSec?: number;
  /**
   * Post { type: 'ready' } once set up and wait for { type: 'go', startWallMs } before creating
   * chargers (memory baseline; a provisional sim start). Once the chargers have connected and
   * booted, post { type: 'booted' } and wait for { type: 'start', startWallMs }: the sim start.
   */
  awaitGo?: boolean;
}

export interface WorkerFleetResult {
  workerId: number;
  counters: FleetCounters;
  latency: Record<string, string>;
  serviceTime: Record<string, string>;
  truth: TruthSession[];
  errors: Record<string, number>;
  wasmHistograms: boolean;
  /** Counters when the warm-up ended and when arrivals ended (absent if the window never opened). */
  steadyStart?: FleetCounters;
  steadyEnd?: FleetCounters;
}

/** Worker -> main over the task's port; 'done' follows the last progress. */
export type WorkerFleetMessage = { type: 'progress'; progress: FleetProgress } | { type: 'done' } | { type: 'ready' } | { type: 'booted' };

const SETTLE_POLL_MS = 20;
const SOCKET_CLOSE_WAIT_MS = 1000;
const CONNECT_BATCH_MS = 20;

export async function runWorkerFleet(task: WorkerFleetTask): Promise<WorkerFleetResult> {
  await initHistograms();
  const { config } = task;
  // The main thread may set sim start only once every worker is up, so worker start-up does not eat the lead time.
  const twoPhase = task.awaitGo === true && task.port !== undefined;
  const provisionalStartWallMs = twoPhase ? await readyAndWaitForGo(task.port!, task.startWallMs) : task.startWallMs;
  const scheduler = new Scheduler();
  const clock = new SimClock(config.simStart, config.speed, provisionalStartWallMs);
  // Sim time waits until every charger of the fleet has connected and booted (see awaitStart).
  if (twoPhase) clock.hold();
  const metrics = new WorkerMetrics();
  const sweeper = new DeadlineSweeper(config.callTimeoutMs);
  const simEndSec = Math.floor((clock.startSimMs + config.durationSimSec * 1000) / 1000);
  const truth: TruthSession[] = [];
  scheduler.onError = (err) => {
    metrics.error('internal');
    metrics.error(`internal:${err instanceof Error ? err.message.slice(0, 80) : String(err)}`);
  };

  // One plan per worker fleet, from the seed: the same faults whatever the split over workers.
  const faults = faultPlanFor(config.seed, config.faults);
  let driver: LoadDriver | null = null;
  const workerFleetLoad = config.load !== undefined && config.load.kind !== 'per-connector-poisson';
  const chargers = config.chargers.map((spec: ChargerSpec, i: number) => {
    const dialect = dialectFor(spec.ocppVersion);
    return new Charger(spec, {
      config,
      scheduler,
      clock,
      metrics,
      sweeper,
      validator: schemaValidator(dialect.protocol),
      dialect,
      simEndSec,
      gracefulStop: workerFleetLoad,
      onTruth: (t) => truth.push(t),
      onConnectorFree: workerFleetLoad ? (ch, c, sec) => driver?.onConnectorFree(ch, c, sec) : undefined,
      localAddress: task.localAddresses[i],
      faults,
    });
  });

  const port = task.port;
  const progress = progressReporter(task, clock, metrics, simEndSec);
  const stop: StopRequest = { requested: false, wake: null };
  port?.on('message', (m: { type?: string }) => {
    if (m && m.type === 'stop') {
      stop.requested = true;
      stop.wake?.();
    }
  });
  const progressTimer = setInterval(progress, task.progressIntervalMs ?? 1000);

  // The driver exists before the chargers connect: it hears of every connector that boots free.
  driver = loadDriverFor({ config, scheduler, clock, metrics, simEndSec, workerId: task.workerId, workers: task.workers ?? 1, chargers });
  const connectTimer = startRamp(chargers, task.connectRatePerSec);
  if (twoPhase) {
    const agreedStartWallMs = await awaitStart(task.port!, chargers, provisionalStartWallMs, () => stop.requested);
    const shiftMs = agreedStartWallMs - clock.startWallMs;
    clock.startAt(agreedStartWallMs);
    // What was planned on the provisional start (heartbeats, boot retries) moves with it.
    scheduler.shift(shiftMs);
  }
  const startWallMs = clock.startWallMs;
  for (const c of chargers) c.begin();
  driver?.start();

  const steady = new SteadyWindowRecorder(metrics, startWallMs, Math.max(0, config.warmUpMs ?? 0));
  await runUntilDrained(chargers, clock, simEndSec, task.drainTimeoutMs, () => steady.end(), stop);

  clearTimeout(connectTimer.timer ?? undefined);
  connectTimer.stopped = true;
  steady.end();
  for (const c of chargers) if (!c.settled) metrics.error('unsettledAtDrainTimeout');
  scheduler.stop();
  sweeper.stop();
  const sockets = chargers.map((c) => c.connection.socket).filter((s) => s !== null);
  for (const c of chargers) c.stop();
  await waitForSockets(sockets, SOCKET_CLOSE_WAIT_MS);
  clearInterval(progressTimer);
  progress();

  const finals = metrics.finalHistograms();
  const result: WorkerFleetResult = {
    workerId: task.workerId,
    counters: { ...metrics.counters },
    latency: finals.latency,
    serviceTime: finals.serviceTime,
    truth,
    errors: { ...metrics.errors },
    wasmHistograms: usingWasm(),
    steadyStart: steady.endCounters ? steady.startCounters : undefined,
    steadyEnd: steady.endCounters,
  };
  metrics.dispose();
  port?.postMessage({ type: 'done' } satisfies WorkerFleetMessage);
  return result;
}

/** Posts this worker fleet's progress (counters and latency deltas since the last one) on the task's port. */
function progressReporter(task: WorkerFleetTask, clock: SimClock, metrics: WorkerMetrics, simEndSec: number): () => void {
  const port = task.port;
  return (): void => {
    if (!port) return;
    const p: FleetProgress = {
      workerId: task.workerId,
      wallMs: Math.round(wallNow() - task.fleetStartWallMs),
      simTime: SimClock.iso(Math.floor(Math.min(clock.nowSim(), simEndSec * 1000))),
      counters: { ...metrics.counters },
      latencyDelta: metrics.takeLatencyDeltas(),
    };
    port.postMessage({ type: 'progress', progress: p } satisfies WorkerFleetMessage);
  };
}

/** The steady window: counters from the end of the warm-up to the end of arrivals. */
class SteadyWindowRecorder {
  startCounters: FleetCounters | undefined;
  endCounters: FleetCounters | undefined;
  private readonly warmUpTimer: NodeJS.Timeout;

  constructor(
    private readonly metrics: WorkerMetrics,
    startWallMs: number,
    warmUpMs: number,
  ) {
    this.warmUpTimer = setTimeout(
      () => {
        if (warmUpMs > 0) metrics.discardTotals();
        this.startCounters = { ...metrics.counters };
      },
      Math.max(0, startWallMs + warmUpMs - wallNow()),
    );
  }

  /** Arrivals ended (or the run did): the window closes, if it opened. */
  end(): void {
    clearTimeout(this.warmUpTimer);
    if (this.startCounters && !this.endCounters) this.endCounters = { ...this.metrics.counters };
  }
}

/** An early end asked for by the main thread; `wake` is set while the run waits for its end. */
interface StopRequest {
  requested: boolean;
  wake: (() => void) | null;
}

/**
 * Sleeps until the planned end, then until everything is answered (or the drain timeout).
 * An abort ends the plan at the current instant: drivers stop and unplug, then the same drain.
 */
function runUntilDrained(
  chargers: Charger[],
  clock: SimClock,
  simEndSec: number,
  drainTimeoutMs: number,
  endSteady: () => void,
  stop: StopRequest,
): Promise<void> {
  let endWall = clock.wallAt(simEndSec * 1000);
  let drainDeadline = endWall + drainTimeoutMs;
  let drainFromDepartures = false;
  return new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | null = null;
    const check = (): void => {
      timer = null;
      const now = wallNow();
      if (now >= endWall) endSteady();
      if (now >= endWall && !drainFromDepartures) {
        // No driver arrives any more: the drain lasts until the last planned departure (graceful stop).
        drainFromDepartures = true;
        const last = chargers.reduce((m, c) => Math.max(m, c.lastPlannedDepartureSec()), -Infinity);
        if (Number.isFinite(last)) drainDeadline = Math.max(drainDeadline, clock.wallAt(last * 1000) + drainTimeoutMs);
      }
      if (now >= drainDeadline || (now >= endWall && chargers.every((c) => c.settled))) {
        stop.wake = null;
        resolve();
        return;
      }
      timer = setTimeout(check, now < endWall ? Math.min(endWall - now + 1, 250) : SETTLE_POLL_MS);
    };
    stop.wake = () => {
      const now = wallNow();
      if (now < endWall) {
        const sec = Math.ceil(clock.simAt(now) / 1000);
        for (const c of chargers) c.endNow(sec);
        endWall = now;
        drainDeadline = now + drainTimeoutMs;
      }
      if (timer) clearTimeout(timer);
      check();
    };
    if (stop.requested) stop.wake();
    else check();
  });
}

/** Says 'ready' and resolves with the sim start the main thread sends with 'go' (or `fallback` on 'stop'). */
function readyAndWaitForGo(port: MessagePort, fallback: number): Promise<number> {
  return new Promise<number>((resolve) => {
    const onGo = (m: { type?: string; startWallMs?: number }): void => {
      if (!m || (m.type !== 'go' && m.type !== 'stop')) return;
      port.off('message', onGo);
      resolve(m.type === 'go' && typeof m.startWallMs === 'number' ? m.startWallMs : fallback);
    };
    port.on('message', onGo);
    port.postMessage({ type: 'ready' } satisfies WorkerFleetMessage);
  });
}

/** Longest wait for chargers to connect and boot after the provisional start before sim time starts anyway. */
const CONNECT_WAIT_MAX_MS = 30_000;

/**
 * Says 'booted' once every charger's first connection came to something (booted, refused or
 * failed), or at the latest CONNECT_WAIT_MAX_MS after the provisional start, then waits for the
 * start the main thread picks for the whole fleet ('start'; 'stop' starts at once).
 */
async function awaitStart(port: MessagePort, chargers: Charger[], provisionalStartWallMs: number, stopped: () => boolean): Promise<number> {
  const deadline = provisionalStartWallMs + CONNECT_WAIT_MAX_MS;
  while (!stopped() && wallNow() < deadline && !chargers.every((c) => c.connectSettled)) {
    await new Promise((r) => setTimeout(r, SETTLE_POLL_MS));
  }
  if (stopped()) return wallNow();
  return new Promise<number>((resolve) => {
    const onStart = (m: { type?: string; startWallMs?: number }): void => {
      if (!m || (m.type !== 'start' && m.type !== 'stop')) return;
      port.off('message', onStart);
      resolve(m.type === 'start' && typeof m.startWallMs === 'number' ? m.startWallMs : wallNow());
    };
    port.on('message', onStart);
    port.postMessage({ type: 'booted' } satisfies WorkerFleetMessage);
  });
}

/**
 * Starts (connects) the chargers at `ratePerSec`, a batch every few ms, so that thousands of
 * sockets do not hit the target's accept queue at once. Paced on elapsed time, not timer count.
 */
function startRamp(chargers: Charger[], ratePerSec: number | undefined): { timer: NodeJS.Timeout | null; stopped: boolean } {
  const ramp = { timer: null as NodeJS.Timeout | null, stopped: false };
  if (!(ratePerSec !== undefined && ratePerSec > 0 && Number.isFinite(ratePerSec))) {
    for (const c of chargers) c.connect();
    return ramp;
  }
  const t0 = wallNow();
  const perBatch = Math.max(1, Math.ceil((ratePerSec * CONNECT_BATCH_MS) / 1000));
  let next = 0;
  const step = (): void => {
    ramp.timer = null;
    if (ramp.stopped) return;
    const due = Math.min(chargers.length, Math.max(next + 1, Math.floor(((wallNow() - t0) / 1000) * ratePerSec) + perBatch));
    while (next < due) chargers[next++].connect();
    if (next < chargers.length) ramp.timer = setTimeout(step, CONNECT_BATCH_MS);
  };
  step();
  return ramp;
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
