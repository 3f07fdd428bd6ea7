// Runs one scenario end to end: back end (embedded process or --target), provisioning,
// the fleet, reconciliation against the oracle, thresholds, reports.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFleet, fleetCapacity, defaultLeadMs, DEFAULT_CONNECT_RATE, type FleetPhase } from '../sim/fleet.js';
import type { ChargerSpec, FleetConfig, FleetResult, LoadModel } from '../sim/types.js';
import type { CheckPlan, RunReport, ShardSpec, Summary } from '../reports/model.js';
import { latencyStatsByAction, percentileDistributionByAction } from '../reports/histograms.js';
import { buildMetricSource, checkThresholdSpec, evaluateThresholds, mergeThresholdSpecs, type ThresholdSpec } from '../reports/thresholds.js';
import { ProgressDisplay } from '../reports/terminal.js';
import { checkInputOf, runChecks } from '../reports/run-checks.js';
import { memoryPerCharger } from '../reports/memory.js';
import { ScenarioError, type Scenario, type ScenarioLoad } from './api.js';
import { parseDuration } from './durations.js';
import { backendUsage, startBackendProcess, usageBetween, type BackendProcess, type BackendUsage } from './backend-process.js';
import { averageWaiting, processRunQueueWaitMicros, waitBetween } from './cpu-wait.js';
import { BackendClient } from './backend-client.js';
import { LiveTimeline } from './live-timeline.js';
import { reconcile } from './reconcile.js';
import { billedByDimension } from './billed-dimensions.js';
import { tariffResolver, tokenGroups } from './memberships.js';
import { checkDisplayedCosts } from './display-check.js';
import { shardLabel, shardProblem, sliceForShard, WHOLE_FLEET } from './sharding.js';

export interface RunOptions {
  /** OCPP endpoint of a CSMS that is already running, e.g. ws://127.0.0.1:8180/ocpp. */
  target?: string;
  seed?: number;
  /** Extra thresholds from the command line, merged with the scenario's. */
  thresholds?: ThresholdSpec;
  workers?: number;
  /** Live progress on stderr. */
  progress?: boolean;
  /** Called with each line of diagnostics (start-up, capacity). */
  log?: (line: string) => void;
  /** Add the check "all chargers connected" (every charger connected at once at some point). */
  requireAllConnected?: boolean;
  /** Heartbeat interval the embedded back end gives chargers, sim seconds (default: the back end's). */
  backendHeartbeatSec?: number;
  /** Run only this shard's slice of the fleet (needs `target`); default: the whole fleet. */
  shard?: ShardSpec;
}

/** The run itself broke (target unreachable, back end died): exit code 3. */
export class RunBrokenError extends Error {}

export function chargerIds(scenario: Scenario): ChargerSpec[] {
  const { count, connectors, maxPowerKw, idPrefix } = scenario.chargers;
  const width = Math.max(4, String(count).length);
  return Array.from({ length: count }, (_, i) => ({
    id: `${idPrefix}-${String(i + 1).padStart(width, '0')}`,
    connectors,
    maxPowerW: Math.round(maxPowerKw * 1000),
    vendor: 'chargebench',
    model: 'sim-ac',
  }));
}

export function tokenIds(scenario: Scenario): string[] {
  const { count, prefix } = scenario.tokens;
  const width = Math.max(5, String(count).length);
  return Array.from({ length: count }, (_, i) => `${prefix}-${String(i + 1).padStart(width, '0')}`);
}

export function fleetConfigFor(scenario: Scenario, targetUrl: string, opts: { seed?: number; workers?: number; shard?: ShardSpec } = {}): FleetConfig {
  const kw = (r: [number, number]): [number, number] => [Math.round(r[0] * 1000), Math.round(r[1] * 1000)];
  const shard = opts.shard ?? WHOLE_FLEET;
  return {
    targetUrl,
    chargers: sliceForShard(chargerIds(scenario), shard),
    tokens: tokenIds(scenario),
    seed: opts.seed ?? scenario.seed,
    simStart: new Date(scenario.sim.start).toISOString(),
    speed: scenario.sim.speed,
    durationSimSec: Math.round(scenario.sim.durationMinutes * 60),
    ev: {
      capacityWh: kw(scenario.ev.capacityKwh),
      initialSocPct: scenario.ev.initialSocPct,
      targetSocPct: scenario.ev.targetSocPct,
      maxPowerW: kw(scenario.ev.maxPowerKw),
    },
    drivers: { arrivalsPerConnectorPerHour: scenario.drivers.arrivalsPerConnectorPerHour, dwellMinutes: sessionDwell(scenario) },
    meterValueSampleIntervalSec: scenario.meterValueSampleIntervalSec,
    transactionMessages: scenario.chargers.transactionMessages,
    costDisplay: scenario.chargers.costDisplay,
    ...(scenario.chargers.behaviour ? { chargerBehaviour: scenario.chargers.behaviour } : {}),
    callTimeoutMs: scenario.callTimeoutMs,
    workers: opts.workers ?? scenario.workers,
    ...(scenario.load ? { load: loadModelOf(scenario.load), warmUpMs: warmUpMsOf(scenario) } : {}),
    ...(shard.count > 1 ? { arrivalSlice: { index: shard.index - 1, count: shard.count } } : {}),
  };
}

/** Session length of the shard-level load models when the scenario does not give one: short, so a transaction is cheap. */
export const DEFAULT_SESSION_MINUTES = 1;

function sessionDwell(scenario: Scenario): [number, number] {
  const load = scenario.load;
  if (!load || load.model === 'per-connector-poisson') return scenario.drivers.dwellMinutes;
  const m = load.sessionMinutes ?? DEFAULT_SESSION_MINUTES;
  return typeof m === 'number' ? [m, m] : m;
}

export function warmUpMsOf(scenario: Scenario): number {
  return scenario.load?.warmUp ? (parseDuration(scenario.load.warmUp) ?? 0) : 0;
}

function loadModelOf(load: ScenarioLoad): LoadModel {
  switch (load.model) {
    case 'per-connector-poisson':
      return { kind: 'per-connector-poisson' };
    case 'constant-arrival-rate':
      return { kind: 'constant-arrival-rate', rate: load.rate };
    case 'ramping-arrival-rate':
      return {
        kind: 'ramping-arrival-rate',
        startRate: load.startRate,
        stages: load.stages.map((st) => ({ durationSec: (parseDuration(st.duration) ?? 0) / 1000, target: st.target })),
      };
    case 'closed':
      return { kind: 'closed', connectorsBusyShare: load.connectorsBusyShare, thinkTimeSec: load.thinkTimeSec };
  }
}

/** Whether the load model plans any transaction at all (an idle fleet does not). */
function expectsSessions(config: FleetConfig): boolean {
  const load = config.load;
  if (!load || load.kind === 'per-connector-poisson') return config.drivers.arrivalsPerConnectorPerHour > 0;
  if (load.kind === 'constant-arrival-rate') return load.rate > 0;
  if (load.kind === 'ramping-arrival-rate') return load.startRate > 0 || load.stages.some((st) => st.target > 0);
  return (load.connectorsBusyShare ?? 1) > 0;
}

/** The REST base of a reference back end, from its OCPP URL (ws://h:p/ocpp -> http://h:p). */
export function httpBaseFor(ocppUrl: string): string {
  const url = new URL(ocppUrl);
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
  return url.origin;
}

export async function runScenario(scenario: Scenario, opts: RunOptions = {}): Promise<{ report: RunReport; passed: boolean }> {
  const log = opts.log ?? (() => {});
  const thresholds = mergeThresholdSpecs(scenario.thresholds, opts.thresholds);
  try {
    checkThresholdSpec(thresholds);
  } catch (err) {
    throw new ScenarioError(`bad thresholds in scenario ${scenario.name}: ${(err as Error).message}`);
  }
  const shard = opts.shard ?? WHOLE_FLEET;
  const sharded = shard.count > 1;
  const problem = shardProblem(shard, opts.target, scenario.chargers.count);
  if (problem) throw new ScenarioError(problem);
  const ownChargers = sliceForShard(chargerIds(scenario), shard);
  const capacity = fleetCapacity();
  if (ownChargers.length > capacity.maxChargers) {
    const asked = sharded
      ? `${shardLabel(shard)} of scenario ${scenario.name} holds ${ownChargers.length} chargers`
      : `scenario ${scenario.name} asks for ${ownChargers.length} chargers`;
    throw new ScenarioError(`${asked}. ${capacity.explanation}`);
  }

  const startedAt = new Date();
  let backend: BackendProcess | null = null;
  let scratch: string | null = null;
  try {
    let ocppUrl = opts.target;
    if (!ocppUrl) {
      scratch = await mkdtemp(join(tmpdir(), 'chargebench-'));
      backend = await startBackendProcess(join(scratch, 'chargebench.db'), { heartbeatIntervalSec: opts.backendHeartbeatSec }).catch((err: Error) => {
        throw new RunBrokenError(`cannot start the embedded back end: ${err.message}`);
      });
      ocppUrl = backend.ocppUrl;
      log(`back end started (pid ${backend.pid}) at ${backend.httpUrl}`);
    }
    const api = new BackendClient(httpBaseFor(ocppUrl));
    await provision(api, scenario, ownChargers).catch((err: Error) => {
      throw new RunBrokenError(`cannot provision the back end at ${api.baseUrl}: ${err.message}`);
    });

    const config = fleetConfigFor(scenario, ocppUrl, { ...opts, shard });
    const wallStart = performance.now();
    const timeline = new LiveTimeline(wallStart);
    const leadMs = config.startLeadMs ?? defaultLeadMs(config.chargers.length, config.connectRatePerSec ?? DEFAULT_CONNECT_RATE);
    const display = opts.progress ? new ProgressDisplay({ totalMs: leadMs + (config.durationSimSec / config.speed) * 1000, title: scenario.name }) : null;
    const tick = () => {
      const point = timeline.tick(performance.now());
      display?.update(point);
    };
    const ticker = setInterval(tick, 1000);
    // At the edges where the fleet reads its CPU (the run, and the steady window from the end of
    // warm-up to the end of arrivals): the back end's CPU, disk writes and run-queue wait, and this
    // process's run-queue wait (it is the fleet; its workers are up at every edge).
    const backendAt: Partial<Record<FleetPhase, BackendUsage>> = {};
    const fleetWaitAt: Partial<Record<FleetPhase, number | null>> = {};
    const onPhase = (phase: FleetPhase): void => {
      fleetWaitAt[phase] = processRunQueueWaitMicros(process.pid);
      if (!backend) return;
      try {
        backendAt[phase] = backendUsage(backend);
      } catch {
        // the back end is gone; the run will say so
      }
    };
    let fleet: FleetResult;
    try {
      fleet = await runFleet(config, { onProgress: (p) => timeline.record(p), onPhase });
    } catch (err) {
      throw new RunBrokenError(`the fleet failed: ${(err as Error).message}`);
    } finally {
      clearInterval(ticker);
      tick();
      display?.finish();
    }
    const backendBetween = (from: FleetPhase, to: FleetPhase) => {
      const a = backendAt[from];
      const b = backendAt[to];
      return a && b ? usageBetween(a, b) : null;
    };
    const fleetWaitBetween = (from: FleetPhase, to: FleetPhase) => waitBetween(fleetWaitAt[from] ?? null, fleetWaitAt[to] ?? null);

    const allBilled = await api.completedSessions().catch((err: Error) => {
      throw new RunBrokenError(`cannot fetch billed sessions from ${api.baseUrl}: ${err.message}${backend ? `\n${backend.output()}` : ''}`);
    });
    // A shard answers for its own chargers only; the other shards' sessions are theirs to reconcile.
    const ownIds = new Set(ownChargers.map((c) => c.id));
    const billed = sharded ? allBilled.filter((b) => ownIds.has(b.chargerId)) : allBilled;
    const recon = reconcile(fleet.truth, billed, scenario.tariff, scenario.location.timeZone, tariffResolver(scenario, tokenIds(scenario)));

    const summary = buildSummary(scenario, config, fleet, recon, {
      target: opts.target ?? 'embedded',
      startedAt,
      wallMs: Math.round(performance.now() - wallStart),
      backendRun: backendBetween('fleet-start', 'fleet-end'),
      backendSteady: backendBetween('steady-start', 'steady-end'),
      fleetRunQueueWaitMicros: { run: fleetWaitBetween('fleet-start', 'fleet-end'), steady: fleetWaitBetween('steady-start', 'steady-end') },
    });
    summary.billing.byDimension = billedByDimension(billed);
    // Only the embedded back end is known to send FinalCost; a foreign CSMS need not.
    const checkPlan: CheckPlan = {
      requireAllConnected: opts.requireAllConnected ?? false,
      expectSessions: expectsSessions(config),
      finalCostRequired: backend !== null,
    };
    // Chargers without a cost display show nothing, so there is nothing to check on it.
    const shown = config.costDisplay === false ? null : checkDisplayedCosts(fleet.truth, billed, checkPlan.finalCostRequired);
    if (shown) summary.display = shown.counts;
    summary.checks = runChecks(checkInputOf(summary, fleet.counters), checkPlan, shown?.examples);
    if (sharded) {
      // Thresholds speak of the whole fleet: `chargebench report merge` judges them on the merged result.
      summary.shard = shard;
      log(`${shardLabel(shard)}: thresholds are judged on the merged result (chargebench report merge)`);
    } else {
      summary.thresholds = evaluateThresholds(thresholds, buildMetricSource({ summary, latency: fleet.latency, serviceTime: fleet.serviceTime }));
    }
    summary.passed = summary.checks.every((c) => c.passed) && summary.thresholds.every((t) => t.passed);
    const report: RunReport = {
      summary,
      timeline: timeline.points,
      latencyDistribution: percentileDistributionByAction(fleet.latency),
      errorsByKind: fleet.errors,
      reconciliation: recon.rows,
      mergeInputs: {
        shard,
        fleetChargers: scenario.chargers.count,
        latency: fleet.latency,
        serviceTime: fleet.serviceTime,
        counters: { ...fleet.counters },
        intervalLatency: timeline.intervalLatency,
        thresholds,
        checkPlan,
      },
    };
    return { report, passed: summary.passed };
  } finally {
    await backend?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * Idempotent, so shards may provision one back end side by side: the tariff, memberships and
 * every token (drivers pick from all of them) are the same for every shard; each posts its own chargers.
 */
async function provision(api: BackendClient, scenario: Scenario, chargers: ChargerSpec[]): Promise<void> {
  await api.postTariff(scenario.tariff, true);
  for (const membership of scenario.memberships ?? []) {
    await api.postTariff(membership.tariff, false);
    await api.postTariffAssignment({ tariffId: membership.tariff.id, scope: 'group', group: membership.group });
  }
  const groups = tokenGroups(scenario, tokenIds(scenario));
  await api.postTokens(
    tokenIds(scenario).map((idTag) => {
      const group = groups.get(idTag);
      return group === undefined ? { idTag, status: 'Accepted' } : { idTag, status: 'Accepted', group };
    }),
  );
  await api.postChargers(chargers.map((c) => ({ id: c.id, connectors: c.connectors, timeZone: scenario.location.timeZone, tariffId: scenario.tariff.id })));
}

function loadFields(load: LoadModel): Record<string, unknown> {
  const { kind: _kind, ...rest } = load;
  return rest;
}

function buildSummary(
  scenario: Scenario,
  config: FleetConfig,
  fleet: FleetResult,
  recon: ReturnType<typeof reconcile>,
  run: {
    target: string;
    startedAt: Date;
    wallMs: number;
    backendRun: BackendUsage | null;
    backendSteady: BackendUsage | null;
    /** The fleet process's run-queue wait over the whole run and over the steady window. */
    fleetRunQueueWaitMicros: { run: number | null; steady: number | null };
  },
): Summary {
  const c = fleet.counters;
  // With a load model or a warm-up, throughput and CPU per call are judged on the steady window only.
  const steady = fleet.steady && (config.load || (config.warmUpMs ?? 0) > 0) ? fleet.steady : undefined;
  const seconds = steady ? Math.max(0.001, (steady.toMs - steady.fromMs) / 1000) : Math.max(0.001, fleet.wallMs / 1000);
  const calls = steady ? steady.calls : c.calls;
  const transactions = steady ? steady.transactions : c.transactions;
  const perCall = (micros: number) => (calls ? Math.round((micros / calls) * 10) / 10 : 0);
  const fleetCpu = steady ? steady.cpuMicros : fleet.cpuMicros;
  const backendWindow = steady ? run.backendSteady : run.backendRun;
  const backendCpu = backendWindow?.cpuMicros ?? null;
  const backendDisk = backendWindow?.diskWriteBytes ?? null;
  const windowMs = seconds * 1000;
  const fleetWaiting = averageWaiting(steady ? run.fleetRunQueueWaitMicros.steady : run.fleetRunQueueWaitMicros.run, windowMs);
  const backendWaiting = averageWaiting(backendWindow?.runQueueWaitMicros ?? null, windowMs);
  const steadySimFrom = Date.parse(config.simStart) + (config.warmUpMs ?? 0) * config.speed;
  const steadySimTo = Date.parse(config.simStart) + config.durationSimSec * 1000;
  const billedInWindow = recon.rows.filter((r) => {
    if (r.status !== 'matched' && r.status !== 'mismatched') return false;
    const t = Date.parse(r.startAt);
    return t >= steadySimFrom && t < steadySimTo;
  }).length;
  const connectedMax = fleet.chargersConnectedMax ?? 0;
  const rss = fleet.rss;
  const r1 = (n: number) => Math.round(n * 10) / 10;
  return {
    scenario: scenario.name,
    seed: config.seed,
    passed: false,
    target: run.target,
    startedAt: run.startedAt.toISOString(),
    wallMs: run.wallMs,
    simStart: config.simStart,
    simSpeed: config.speed,
    chargers: config.chargers.length,
    connectors: config.chargers.reduce((n, ch) => n + ch.connectors, 0),
    workers: fleet.workers,
    sessions: recon.counts,
    billing: { currency: recon.currency, expectedTotal: recon.expectedTotal, billedTotal: recon.billedTotal, maxAbsError: recon.maxAbsError },
    throughput: {
      transactionsPerSec: r1(transactions / seconds),
      callsPerSec: r1(calls / seconds),
      calls,
      transactions,
    },
    latencyMs: latencyStatsByAction(fleet.latency),
    serviceTimeMs: latencyStatsByAction(fleet.serviceTime),
    counters: { callErrors: c.callErrors, timeouts: c.timeouts, dropped: c.dropped, reconnects: c.reconnects, turnedAway: c.turnedAway ?? 0 },
    resources: {
      fleetCpuMicros: fleetCpu,
      fleetCpuMicrosPerCall: perCall(fleetCpu),
      backendCpuMicros: backendCpu,
      backendCpuMicrosPerCall: backendCpu === null ? null : perCall(backendCpu),
      backendDiskWriteBytes: backendDisk,
      backendDiskBytesPerTransaction: backendDisk !== null && transactions > 0 ? Math.round(backendDisk / transactions) : null,
      fleetThreadsWaitingForCpu: fleetWaiting,
      backendThreadsWaitingForCpu: backendWaiting,
      cpuWindow: steady ? 'steady' : 'run',
      fleetRssBaselineBytes: rss?.baselineBytes,
      fleetRssBytes: rss?.loadedBytes ?? undefined,
      ...memoryPerCharger(rss?.baselineBytes, rss?.loadedBytes ?? undefined, connectedMax),
    },
    ...(config.load ? { load: { model: config.load.kind, ...loadFields(config.load) } } : {}),
    transactionMessages: config.transactionMessages ?? 'full',
    meterValueSampleIntervalSec: config.meterValueSampleIntervalSec,
    costDisplay: config.costDisplay !== false,
    warmUpMs: config.warmUpMs ?? 0,
    chargersConnectedMax: connectedMax,
    ...(steady
      ? {
          steady: {
            fromMs: steady.fromMs,
            toMs: steady.toMs,
            calls: steady.calls,
            callsPerSec: r1(steady.calls / seconds),
            transactions: steady.transactions,
            transactionsPerSec: r1(steady.transactions / seconds),
            billedTransactions: billedInWindow,
            billedTransactionsPerSec: r1(billedInWindow / seconds),
            dropped: steady.dropped,
            turnedAway: steady.turnedAway,
          },
        }
      : {}),
    checks: [],
    thresholds: [],
  };
}
