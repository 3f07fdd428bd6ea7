// Runs one scenario end to end: back end (embedded process or --target), provisioning,
// the fleet, reconciliation against the oracle, thresholds, reports.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFleet, fleetCapacity, defaultLeadMs, DEFAULT_CONNECT_RATE } from '../sim/fleet.js';
import type { ChargerSpec, FleetConfig, FleetResult, LoadModel } from '../sim/types.js';
import type { CheckResult, RunReport, Summary } from '../reports/model.js';
import { latencyStatsByAction, percentileDistributionByAction } from '../reports/histograms.js';
import { buildMetricSource, checkThresholdSpec, evaluateThresholds, mergeThresholdSpecs, type ThresholdSpec } from '../reports/thresholds.js';
import { ProgressDisplay } from '../reports/terminal.js';
import { ScenarioError, type Scenario, type ScenarioLoad } from './api.js';
import { parseDuration } from './durations.js';
import { startBackendProcess, type BackendProcess } from './backend-process.js';
import { BackendClient } from './backend-client.js';
import { LiveTimeline } from './live-timeline.js';
import { reconcile } from './reconcile.js';
import { billedByDimension } from './billed-dimensions.js';
import { tariffResolver, tokenGroups } from './memberships.js';
import { checkDisplayedCosts } from './display-check.js';

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

export function fleetConfigFor(scenario: Scenario, targetUrl: string, opts: { seed?: number; workers?: number } = {}): FleetConfig {
  const kw = (r: [number, number]): [number, number] => [Math.round(r[0] * 1000), Math.round(r[1] * 1000)];
  return {
    targetUrl,
    chargers: chargerIds(scenario),
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
    callTimeoutMs: scenario.callTimeoutMs,
    workers: opts.workers ?? scenario.workers,
    ...(scenario.load ? { load: loadModelOf(scenario.load), warmUpMs: warmUpMsOf(scenario) } : {}),
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
  const capacity = fleetCapacity();
  if (scenario.chargers.count > capacity.maxChargers) {
    throw new ScenarioError(`scenario ${scenario.name} asks for ${scenario.chargers.count} chargers. ${capacity.explanation}`);
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
    await provision(api, scenario).catch((err: Error) => {
      throw new RunBrokenError(`cannot provision the back end at ${api.baseUrl}: ${err.message}`);
    });

    const config = fleetConfigFor(scenario, ocppUrl, opts);
    const wallStart = performance.now();
    const timeline = new LiveTimeline(wallStart);
    const leadMs = config.startLeadMs ?? defaultLeadMs(config.chargers.length, config.connectRatePerSec ?? DEFAULT_CONNECT_RATE);
    const display = opts.progress ? new ProgressDisplay({ totalMs: leadMs + (config.durationSimSec / config.speed) * 1000, title: scenario.name }) : null;
    const tick = () => {
      const point = timeline.tick(performance.now());
      display?.update(point);
    };
    const ticker = setInterval(tick, 1000);
    const backendCpuBefore = backend?.cpuMicros() ?? null;
    // Back-end CPU at the edges of the steady window (end of warm-up .. end of arrivals).
    const backendSteady: { start: number | null; end: number | null } = { start: null, end: null };
    const onPhase = (phase: 'steady-start' | 'steady-end'): void => {
      if (!backend) return;
      try {
        if (phase === 'steady-start') backendSteady.start = backend.cpuMicros();
        else backendSteady.end = backend.cpuMicros();
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
    const backendCpu = backend && backendCpuBefore !== null ? backend.cpuMicros() - backendCpuBefore : null;

    const billed = await api.completedSessions().catch((err: Error) => {
      throw new RunBrokenError(`cannot fetch billed sessions from ${api.baseUrl}: ${err.message}${backend ? `\n${backend.output()}` : ''}`);
    });
    const recon = reconcile(fleet.truth, billed, scenario.tariff, scenario.location.timeZone, tariffResolver(scenario, tokenIds(scenario)));

    const summary = buildSummary(scenario, config, fleet, recon, {
      target: opts.target ?? 'embedded',
      startedAt,
      wallMs: Math.round(performance.now() - wallStart),
      backendCpu,
      backendSteadyCpu: backendSteady.start !== null && backendSteady.end !== null ? backendSteady.end - backendSteady.start : null,
      requireAllConnected: opts.requireAllConnected ?? false,
    });
    summary.billing.byDimension = billedByDimension(billed);
    // Only the embedded back end is known to send FinalCost; a foreign CSMS need not.
    const shown = checkDisplayedCosts(fleet.truth, billed, backend !== null);
    summary.checks.push(...shown.checks);
    summary.display = shown.counts;
    summary.thresholds = evaluateThresholds(thresholds, buildMetricSource({ summary, latency: fleet.latency, serviceTime: fleet.serviceTime }));
    summary.passed = summary.checks.every((c) => c.passed) && summary.thresholds.every((t) => t.passed);
    const report: RunReport = {
      summary,
      timeline: timeline.points,
      latencyDistribution: percentileDistributionByAction(fleet.latency),
      errorsByKind: fleet.errors,
      reconciliation: recon.rows,
    };
    return { report, passed: summary.passed };
  } finally {
    await backend?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}

async function provision(api: BackendClient, scenario: Scenario): Promise<void> {
  await api.postTariff(scenario.tariff, true);
  for (const membership of scenario.memberships ?? []) {
    await api.postTariff(membership.tariff, false);
    await api.postTariffAssignment({ tariffId: membership.tariff.id, scope: 'group', group: membership.group });
  }
  const groups = tokenGroups(scenario, tokenIds(scenario));
  await api.postTokens(tokenIds(scenario).map((idTag) => {
    const group = groups.get(idTag);
    return group === undefined ? { idTag, status: 'Accepted' } : { idTag, status: 'Accepted', group };
  }));
  await api.postChargers(chargerIds(scenario).map((c) => ({ id: c.id, connectors: c.connectors, timeZone: scenario.location.timeZone, tariffId: scenario.tariff.id })));
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
  run: { target: string; startedAt: Date; wallMs: number; backendCpu: number | null; backendSteadyCpu: number | null; requireAllConnected: boolean },
): Summary {
  const c = fleet.counters;
  // With a load model or a warm-up, throughput and CPU per call are judged on the steady window only.
  const steady = fleet.steady && (config.load || (config.warmUpMs ?? 0) > 0) ? fleet.steady : undefined;
  const seconds = steady ? Math.max(0.001, (steady.toMs - steady.fromMs) / 1000) : Math.max(0.001, fleet.wallMs / 1000);
  const calls = steady ? steady.calls : c.calls;
  const transactions = steady ? steady.transactions : c.transactions;
  const perCall = (micros: number) => (calls ? Math.round((micros / calls) * 10) / 10 : 0);
  const fleetCpu = steady ? steady.cpuMicros : fleet.cpuMicros;
  const backendCpu = steady ? run.backendSteadyCpu : run.backendCpu;
  const steadySimFrom = Date.parse(config.simStart) + (config.warmUpMs ?? 0) * config.speed;
  const steadySimTo = Date.parse(config.simStart) + config.durationSimSec * 1000;
  const billedInWindow = recon.rows.filter((r) => {
    if (r.status !== 'matched' && r.status !== 'mismatched') return false;
    const t = Date.parse(r.startAt);
    return t >= steadySimFrom && t < steadySimTo;
  }).length;
  const connectedMax = fleet.chargersConnectedMax ?? 0;
  const rss = fleet.rss;
  const rssDelta = rss && rss.loadedBytes !== null ? rss.loadedBytes - rss.baselineBytes : null;
  const checks: CheckResult[] = [];
  if (run.requireAllConnected) {
    checks.push({
      name: 'all chargers connected',
      passed: connectedMax === config.chargers.length,
      detail: `at most ${connectedMax} of ${config.chargers.length} chargers were connected at once`,
    });
  }
  if (expectsSessions(config)) {
    checks.push({ name: 'sessions happened', passed: recon.counts.truth > 0, detail: `${recon.counts.truth} sessions lived by the fleet` });
  }
  checks.push(
    {
      name: 'every session billed once',
      passed: recon.counts.missing === 0 && recon.counts.duplicate === 0,
      detail: `${recon.counts.missing} missing, ${recon.counts.duplicate} billed more than once`,
    },
    {
      name: 'every bill matches the oracle',
      passed: recon.counts.mismatched === 0,
      detail: `${recon.counts.mismatched} of ${recon.counts.truth} differ; largest error ${recon.maxAbsError} ${recon.currency}`,
    },
    { name: 'no unexpected sessions', passed: recon.counts.unexpected === 0, detail: `${recon.counts.unexpected} billed sessions the fleet never lived` },
    {
      name: 'every call answered',
      passed: c.callErrors === 0 && c.timeouts === 0,
      detail: `${c.calls} calls, ${c.callErrors} CALLERROR answers, ${c.timeouts} timeouts`,
    },
  );
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
    counters: { callErrors: c.callErrors, timeouts: c.timeouts, dropped: c.dropped, reconnects: c.reconnects },
    resources: {
      fleetCpuMicros: fleetCpu,
      fleetCpuMicrosPerCall: perCall(fleetCpu),
      backendCpuMicros: backendCpu,
      backendCpuMicrosPerCall: backendCpu === null ? null : perCall(backendCpu),
      cpuWindow: steady ? 'steady' : 'run',
      fleetRssBaselineBytes: rss?.baselineBytes,
      fleetRssBytes: rss?.loadedBytes ?? undefined,
      fleetBytesPerCharger: rssDelta !== null && connectedMax > 0 ? Math.round(rssDelta / connectedMax) : undefined,
    },
    ...(config.load ? { load: { model: config.load.kind, ...loadFields(config.load) } } : {}),
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
          },
        }
      : {}),
    checks,
    thresholds: [],
  };
}
