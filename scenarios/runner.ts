// Runs one scenario end to end: back end (embedded process or --target), provisioning,
// the fleet, reconciliation against the oracle, thresholds, reports.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFleet, fleetCapacity } from '../sim/fleet.js';
import type { ChargerSpec, FleetConfig, FleetResult } from '../sim/types.js';
import type { CheckResult, RunReport, Summary } from '../reports/model.js';
import { latencyStatsByAction, percentileDistributionByAction } from '../reports/histograms.js';
import { buildMetricSource, checkThresholdSpec, evaluateThresholds, mergeThresholdSpecs, type ThresholdSpec } from '../reports/thresholds.js';
import { ProgressDisplay } from '../reports/terminal.js';
import { ScenarioError, type Scenario } from './api.js';
import { startBackendProcess, type BackendProcess } from './backend-process.js';
import { BackendClient } from './backend-client.js';
import { LiveTimeline } from './live-timeline.js';
import { reconcile } from './reconcile.js';

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
    drivers: { arrivalsPerConnectorPerHour: scenario.drivers.arrivalsPerConnectorPerHour, dwellMinutes: scenario.drivers.dwellMinutes },
    meterValueSampleIntervalSec: scenario.meterValueSampleIntervalSec,
    callTimeoutMs: scenario.callTimeoutMs,
    workers: opts.workers ?? scenario.workers,
  };
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
      backend = await startBackendProcess(join(scratch, 'chargebench.db')).catch((err: Error) => {
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
    const display = opts.progress ? new ProgressDisplay({ totalMs: (config.durationSimSec / config.speed) * 1000, title: scenario.name }) : null;
    const tick = () => {
      const point = timeline.tick(performance.now());
      display?.update(point);
    };
    const ticker = setInterval(tick, 1000);
    const backendCpuBefore = backend?.cpuMicros() ?? null;
    let fleet: FleetResult;
    try {
      fleet = await runFleet(config, { onProgress: (p) => timeline.record(p) });
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
    const recon = reconcile(fleet.truth, billed, scenario.tariff, scenario.location.timeZone);

    const summary = buildSummary(scenario, config, fleet, recon, {
      target: opts.target ?? 'embedded',
      startedAt,
      wallMs: Math.round(performance.now() - wallStart),
      backendCpu,
    });
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
  await api.postTokens(tokenIds(scenario).map((idTag) => ({ idTag, status: 'Accepted' })));
  await api.postChargers(chargerIds(scenario).map((c) => ({ id: c.id, connectors: c.connectors, timeZone: scenario.location.timeZone, tariffId: scenario.tariff.id })));
}

function buildSummary(
  scenario: Scenario,
  config: FleetConfig,
  fleet: FleetResult,
  recon: ReturnType<typeof reconcile>,
  run: { target: string; startedAt: Date; wallMs: number; backendCpu: number | null },
): Summary {
  const seconds = Math.max(0.001, fleet.wallMs / 1000);
  const c = fleet.counters;
  const perCall = (micros: number) => (c.calls ? Math.round((micros / c.calls) * 10) / 10 : 0);
  const checks: CheckResult[] = [
    { name: 'sessions happened', passed: recon.counts.truth > 0, detail: `${recon.counts.truth} sessions lived by the fleet` },
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
  ];
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
      transactionsPerSec: Math.round((c.transactions / seconds) * 10) / 10,
      callsPerSec: Math.round((c.calls / seconds) * 10) / 10,
      calls: c.calls,
      transactions: c.transactions,
    },
    latencyMs: latencyStatsByAction(fleet.latency),
    serviceTimeMs: latencyStatsByAction(fleet.serviceTime),
    counters: { callErrors: c.callErrors, timeouts: c.timeouts, dropped: c.dropped, reconnects: c.reconnects },
    resources: {
      fleetCpuMicros: fleet.cpuMicros,
      fleetCpuMicrosPerCall: perCall(fleet.cpuMicros),
      backendCpuMicros: run.backendCpu,
      backendCpuMicrosPerCall: run.backendCpu === null ? null : perCall(run.backendCpu),
    },
    checks,
    thresholds: [],
  };
}
