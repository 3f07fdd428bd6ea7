// A realistic, deterministic RunReport built from real HDR histograms, for tests, previews of the
// report pages, and documentation. It goes through the same encode -> merge -> stats path as a run.

import { build } from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';
import type { ReconciliationRow, RunReport, Summary, TimelinePoint } from './model.js';
import { buildMetricSource, evaluateThresholds, type ThresholdSpec } from './thresholds.js';
import { encodeHistogram, latencyStatsByAction, mergeAllActions, mergeHistogramMaps, percentileDistributionByAction, percentileMs } from './histograms.js';

export interface SampleReportOptions {
  seed?: number;
  /** Seconds of timeline. Default 60. */
  durationSec?: number;
  workers?: number;
  chargers?: number;
  /** Number of reconciliation rows (sessions). Default 260. */
  sessions?: number;
  scenario?: string;
  /** Thresholds evaluated on the sample; default SAMPLE_THRESHOLDS. */
  thresholds?: ThresholdSpec;
}

export const SAMPLE_THRESHOLDS: ThresholdSpec = {
  'latency.StartTransaction': ['p(99)<200', 'p(99.9)<=500', 'max<2000'],
  'latency.MeterValues': ['p(95)<20', 'med<5'],
  'sessions.mismatched': ['count==0'],
  checks: ['rate>0.99'],
  'billing.maxAbsError': ['value<=0.01'],
};

/** mulberry32: small deterministic PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Log-normal-ish latency in µs with an occasional slow tail. */
function latencyMicros(rand: () => number, medianUs: number): number {
  const u = Math.max(1e-9, rand());
  const v = rand();
  const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  let us = medianUs * Math.exp(0.45 * normal);
  if (rand() < 0.005) us *= 8 + 20 * rand();
  return Math.max(50, Math.round(us));
}

const ACTIONS: Record<string, { medianUs: number; perSecPerCharger: number }> = {
  BootNotification: { medianUs: 2500, perSecPerCharger: 0.01 },
  Heartbeat: { medianUs: 700, perSecPerCharger: 0.03 },
  StatusNotification: { medianUs: 1100, perSecPerCharger: 0.05 },
  Authorize: { medianUs: 1500, perSecPerCharger: 0.02 },
  StartTransaction: { medianUs: 4200, perSecPerCharger: 0.02 },
  MeterValues: { medianUs: 1800, perSecPerCharger: 0.3 },
  StopTransaction: { medianUs: 5200, perSecPerCharger: 0.018 },
};

function newHist(): Histogram {
  return build({ bitBucketSize: 32, numberOfSignificantValueDigits: 3 });
}

/**
 * Simulates per-worker progress messages (latency deltas as compressed base64, as the fleet ships
 * them), merges them like the runner would, and returns a complete RunReport.
 */
export function buildSampleRunReport(opts: SampleReportOptions = {}): RunReport {
  const rand = prng(opts.seed ?? 7);
  const duration = opts.durationSec ?? 60;
  const workers = opts.workers ?? 2;
  const chargers = opts.chargers ?? 400;
  const sessionCount = opts.sessions ?? 260;
  const scenario = opts.scenario ?? 'sample-benchmark';

  const perWorkerTotals: Array<Record<string, string>> = [];
  const workerHists: Array<Record<string, Histogram>> = Array.from({ length: workers }, () => ({}));
  const timeline: TimelinePoint[] = [];
  let calls = 0;
  let transactions = 0;
  let sessionsDone = 0;
  let errors = 0;
  let dropped = 0;
  const simStartMs = Date.parse('2025-03-30T00:30:00Z');
  const speed = 60;

  for (let sec = 1; sec <= duration; sec++) {
    const ramp = Math.min(1, sec / (duration * 0.2));
    const connected = Math.round(chargers * ramp);
    const intervalDeltas: Array<Record<string, string>> = [];
    let intervalCalls = 0;
    let intervalTx = 0;
    for (let w = 0; w < workers; w++) {
      const delta: Record<string, string> = {};
      for (const [action, spec] of Object.entries(ACTIONS)) {
        const n = Math.round(
          (connected / workers) * spec.perSecPerCharger * (0.8 + 0.4 * rand()) * (action === 'BootNotification' && sec > duration * 0.25 ? 0.05 : 1),
        );
        if (n === 0) continue;
        const h = newHist();
        // A slow stretch in the middle of the run, to give the charts something to show.
        const slow = sec > duration * 0.55 && sec < duration * 0.65 ? 2.5 : 1;
        for (let i = 0; i < n; i++) h.recordValue(latencyMicros(rand, spec.medianUs * slow));
        delta[action] = encodeHistogram(h);
        (workerHists[w][action] ??= newHist()).add(h);
        intervalCalls += n;
        if (action === 'StartTransaction') intervalTx += n;
      }
      intervalDeltas.push(delta);
    }
    const merged = mergeAllActions(mergeHistogramMaps(intervalDeltas));
    calls += intervalCalls;
    transactions += intervalTx;
    sessionsDone += Math.round(intervalTx * 0.9);
    if (rand() < 0.15) errors += 1 + Math.floor(rand() * 3);
    if (sec > duration * 0.55 && sec < duration * 0.65) dropped += Math.floor(rand() * 4);
    timeline.push({
      wallMs: sec * 1000,
      simTime: new Date(simStartMs + sec * 1000 * speed).toISOString(),
      callsPerSec: intervalCalls,
      transactionsPerSec: intervalTx,
      chargersConnected: connected,
      sessionsActive: Math.round(connected * 0.6 * (0.9 + 0.2 * rand())),
      sessionsDone,
      errors,
      dropped,
      p50: percentileMs(merged, 50),
      p90: percentileMs(merged, 90),
      p99: percentileMs(merged, 99),
    });
  }
  for (const wh of workerHists) {
    const enc: Record<string, string> = {};
    for (const [a, h] of Object.entries(wh)) enc[a] = encodeHistogram(h);
    perWorkerTotals.push(enc);
  }
  const latency = mergeHistogramMaps(perWorkerTotals);

  // Service time: slightly below latency (no scheduling wait).
  const serviceStats = latencyStatsByAction(latency);
  for (const s of Object.values(serviceStats)) {
    for (const k of ['p50', 'p90', 'p99', 'p999', 'max', 'mean'] as const) s[k] = Math.round(s[k] * 900) / 1000;
  }

  const reconciliation: ReconciliationRow[] = [];
  let mismatched = 0;
  let missing = 0;
  let duplicate = 0;
  let expectedCents = 0;
  let billedCents = 0;
  let maxErrCents = 0;
  for (let i = 0; i < sessionCount; i++) {
    const expected = 200 + Math.floor(rand() * 4000);
    const r = rand();
    let status: ReconciliationRow['status'] = 'matched';
    let billed: number | null = expected;
    let detail = '';
    if (r < 0.02) {
      status = 'missing';
      billed = null;
      detail = 'no CDR for this session';
      missing++;
    } else if (r < 0.03) {
      status = 'duplicate';
      billed = expected * 2;
      detail = 'billed twice (2 CDRs)';
      duplicate++;
    } else if (r < 0.07) {
      status = 'mismatched';
      const off = 1 + Math.floor(rand() * 150);
      billed = expected - off;
      detail = `ENERGY expected ${(expected / 100).toFixed(4)} billed ${((expected - off) / 100).toFixed(4)}; TIME & <tariff> "peak"`;
      mismatched++;
    }
    const err = billed === null ? expected : Math.abs(expected - billed);
    expectedCents += expected;
    billedCents += billed ?? 0;
    if (status !== 'matched') maxErrCents = Math.max(maxErrCents, err);
    reconciliation.push({
      chargerId: `CB-${String(Math.floor(rand() * chargers)).padStart(5, '0')}`,
      connectorId: 1 + Math.floor(rand() * 2),
      startAt: new Date(simStartMs + Math.floor(rand() * duration * 1000 * speed)).toISOString(),
      status,
      expectedTotal: (expected / 100).toFixed(2),
      billedTotal: billed === null ? null : (billed / 100).toFixed(2),
      absError: (err / 100).toFixed(2),
      detail,
    });
  }
  const matched = sessionCount - mismatched - missing - duplicate;

  const errorsByKind: Record<string, number> = {
    'CALLERROR InternalError': Math.ceil(errors * 0.5),
    'CALLERROR FormationViolation': Math.floor(errors * 0.2),
    timeout: Math.floor(errors * 0.3),
    'socket closed <1006>': 2,
  };

  const summary: Summary = {
    scenario,
    seed: opts.seed ?? 7,
    passed: mismatched + missing + duplicate === 0,
    target: 'embedded',
    startedAt: '2025-11-21T12:00:00.000Z',
    wallMs: duration * 1000,
    simStart: new Date(simStartMs).toISOString(),
    simSpeed: speed,
    chargers,
    connectors: chargers * 2,
    workers,
    sessions: { truth: sessionCount, billed: sessionCount - missing + duplicate, matched, mismatched, missing, duplicate, unexpected: 0 },
    billing: {
      currency: 'EUR',
      expectedTotal: (expectedCents / 100).toFixed(2),
      billedTotal: (billedCents / 100).toFixed(2),
      maxAbsError: (maxErrCents / 100).toFixed(2),
    },
    throughput: { transactionsPerSec: transactions / duration, callsPerSec: calls / duration, calls, transactions },
    latencyMs: latencyStatsByAction(latency),
    serviceTimeMs: serviceStats,
    counters: { callErrors: Math.ceil(errors * 0.7), timeouts: Math.floor(errors * 0.3), dropped, reconnects: 3 },
    resources: { fleetCpuMicrosPerCall: 24.5, backendCpuMicrosPerCall: 91.2, fleetCpuMicros: calls * 24.5, backendCpuMicros: calls * 91.2 },
    checks: [
      { name: 'every session billed once', passed: duplicate === 0 && missing === 0, detail: `${missing} missing, ${duplicate} duplicate` },
      {
        name: 'bills match the oracle to the cent',
        passed: mismatched === 0,
        detail: `${mismatched} mismatched; worst <${(maxErrCents / 100).toFixed(2)} EUR> & more`,
      },
      { name: 'no unexpected sessions', passed: true, detail: '' },
    ],
    thresholds: [],
  };
  summary.thresholds = evaluateThresholds(opts.thresholds ?? SAMPLE_THRESHOLDS, buildMetricSource({ summary, latency }));
  summary.passed = summary.passed && summary.thresholds.every((t) => t.passed);
  return {
    summary,
    timeline,
    latencyDistribution: percentileDistributionByAction(latency),
    errorsByKind,
    reconciliation,
  };
}

/** The merged per-action histograms behind a sample report, encoded (for threshold tests). */
export function sampleLatencyHistograms(seed = 7, perAction = 2000): Record<string, string> {
  const rand = prng(seed);
  const out: Record<string, string> = {};
  for (const [action, spec] of Object.entries(ACTIONS)) {
    const h = newHist();
    for (let i = 0; i < perAction; i++) h.recordValue(latencyMicros(rand, spec.medianUs));
    out[action] = encodeHistogram(h);
  }
  return out;
}
