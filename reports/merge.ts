// Merges the results of the shards of one run into the result of the whole run, exactly:
// histograms add, counters and session counts sum, money adds as decimals, reconciliation rows
// concatenate (worst first again), timelines align by elapsed second; then the checks and the
// thresholds are judged again on the merged figures.

import { Decimal } from 'decimal.js';
import { latencyStatsByAction, mergeEncodedMaps, percentileDistributionByAction } from './histograms.js';
import type { RunReport, SessionCounts, SteadyFigures, Summary } from './model.js';
import { memoryPerCharger } from './memory.js';
import { sortWorstFirst } from './reconciliation.js';
import { checkInputOf, runChecks } from './run-checks.js';
import { ResultError, type RunResult } from './run-result.js';
import { buildMetricSource, evaluateThresholds } from './thresholds.js';
import { mergeTimelines } from './timeline-merge.js';

export interface ShardInput {
  /** Where the result came from, for messages. */
  path: string;
  result: RunResult;
}

export function mergeRunResults(inputs: readonly ShardInput[]): RunReport {
  if (inputs.length === 0) throw new ResultError('nothing to merge: give the result.json (or report folder) of every shard');
  checkSameRun(inputs);
  const ordered = checkShardSet(inputs).map((i) => i.result);
  const first = ordered[0];

  const latency = mergeEncodedMaps(ordered.map((r) => r.histograms.latency));
  const serviceTime = mergeEncodedMaps(ordered.map((r) => r.histograms.serviceTime));
  const counters = sumRecords(ordered.map((r) => r.counters));
  const timeline = mergeTimelines(ordered.map((r) => r.timeline));
  const summary = mergeSummaries(ordered.map((r) => r.summary));
  summary.latencyMs = latencyStatsByAction(latency);
  summary.serviceTimeMs = latencyStatsByAction(serviceTime);
  summary.checks = runChecks(
    checkInputOf(summary, { calls: counters.calls ?? 0, callErrors: counters.callErrors ?? 0, timeouts: counters.timeouts ?? 0 }),
    first.checkPlan,
  );
  summary.thresholds = evaluateThresholds(first.thresholds, buildMetricSource({ summary, latency, serviceTime }));
  summary.passed = summary.checks.every((c) => c.passed) && summary.thresholds.every((t) => t.passed);

  return {
    summary,
    timeline: timeline.points,
    latencyDistribution: percentileDistributionByAction(latency),
    errorsByKind: sumRecords(ordered.map((r) => r.errorsByKind)),
    reconciliation: sortWorstFirst(ordered.flatMap((r) => r.reconciliation)),
    mergeInputs: {
      shard: { index: 1, count: 1 },
      fleetChargers: first.fleetChargers,
      latency,
      serviceTime,
      counters,
      intervalLatency: timeline.intervalLatency,
      thresholds: first.thresholds,
      checkPlan: first.checkPlan,
    },
  };
}

/** Shards of one run agree on everything that defines the run; anything else is a mix-up. */
function checkSameRun(inputs: readonly ShardInput[]): void {
  const facets: Array<[string, (r: RunResult) => unknown]> = [
    ['scenario', (r) => r.summary.scenario],
    ['seed', (r) => r.summary.seed],
    ['shard count', (r) => r.shard.count],
    ['fleet size (chargers over all shards)', (r) => r.fleetChargers],
    ['target', (r) => r.summary.target],
    ['sim start', (r) => r.summary.simStart],
    ['sim speed', (r) => r.summary.simSpeed],
    ['load model', (r) => r.summary.load ?? null],
    ['transaction shape', (r) => r.summary.transactionMessages ?? null],
    ['meter sample interval', (r) => r.summary.meterValueSampleIntervalSec ?? null],
    ['warm-up', (r) => r.summary.warmUpMs ?? 0],
    ['currency', (r) => r.summary.billing.currency],
    ['thresholds', (r) => sortedKeys(r.thresholds)],
    ['checks', (r) => r.checkPlan],
  ];
  const [a, ...rest] = inputs;
  for (const [name, of] of facets) {
    const va = JSON.stringify(of(a.result));
    const other = rest.find((b) => JSON.stringify(of(b.result)) !== va);
    if (other) {
      throw new ResultError(
        `cannot merge results of different runs: ${name} differs (${a.path}: ${va}; ${other.path}: ${JSON.stringify(of(other.result))}). ` +
          'Merge the shards of one sharded run: same scenario, seed, --shard i/n count and --target.',
      );
    }
  }
}

/** Exactly one result per shard 1..n, returned in shard order. */
function checkShardSet(inputs: readonly ShardInput[]): ShardInput[] {
  const n = inputs[0].result.shard.count;
  const byIndex = new Map<number, ShardInput>();
  for (const input of inputs) {
    const i = input.result.shard.index;
    const seen = byIndex.get(i);
    if (seen) throw new ResultError(`shard ${i}/${n} is given twice (${seen.path} and ${input.path}): give each shard's result once`);
    byIndex.set(i, input);
  }
  const missing = Array.from({ length: n }, (_, k) => k + 1).filter((i) => !byIndex.has(i));
  if (missing.length > 0) {
    throw new ResultError(
      `${missing.map((i) => `shard ${i}/${n}`).join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing: ` +
        `a merge needs the result of every shard 1..${n} (got ${[...byIndex.keys()].sort((x, y) => x - y).join(', ')})`,
    );
  }
  return [...byIndex.entries()].sort(([x], [y]) => x - y).map(([, input]) => input);
}

function mergeSummaries(all: Summary[]): Summary {
  const first = all[0];
  const sum = (f: (s: Summary) => number) => all.reduce((n, s) => n + f(s), 0);
  const sumOrNull = (f: (s: Summary) => number | null | undefined) =>
    all.every((s) => typeof f(s) === 'number') ? all.reduce((n, s) => n + (f(s) as number), 0) : null;
  const calls = sum((s) => s.throughput.calls);
  const fleetCpu = sum((s) => s.resources.fleetCpuMicros);
  const backendCpu = sumOrNull((s) => s.resources.backendCpuMicros);
  const backendDisk = sumOrNull((s) => s.resources.backendDiskWriteBytes);
  // Shards may run on different machines: the most starved one says whether CPU was short
  // (for shards sharing one machine the sum would be its figure).
  const mostWaiting = (f: (s: Summary) => number | null | undefined) =>
    all.every((s) => typeof f(s) === 'number') ? Math.max(...all.map((s) => f(s) as number)) : null;
  const transactions = sum((s) => s.throughput.transactions);
  const perCall = (micros: number) => (calls ? Math.round((micros / calls) * 10) / 10 : 0);
  const connectedMax = sum((s) => s.chargersConnectedMax ?? 0);
  const rssBaseline = sumOrNull((s) => s.resources.fleetRssBaselineBytes);
  const rssLoaded = sumOrNull((s) => s.resources.fleetRssBytes);
  const merged: Summary = {
    scenario: first.scenario,
    seed: first.seed,
    passed: false,
    target: first.target,
    startedAt: all.map((s) => s.startedAt).sort()[0],
    wallMs: Math.max(...all.map((s) => s.wallMs)),
    simStart: first.simStart,
    simSpeed: first.simSpeed,
    chargers: sum((s) => s.chargers),
    connectors: sum((s) => s.connectors),
    // Shards of one run share the scenario, so its transaction shape.
    transactionMessages: first.transactionMessages,
    meterValueSampleIntervalSec: first.meterValueSampleIntervalSec,
    costDisplay: first.costDisplay,
    workers: sum((s) => s.workers),
    sessions: sumSessions(all.map((s) => s.sessions)),
    billing: {
      currency: first.billing.currency,
      expectedTotal: sumDecimals(all.map((s) => s.billing.expectedTotal)).toFixed(2),
      billedTotal: sumDecimals(all.map((s) => s.billing.billedTotal)).toFixed(2),
      maxAbsError: Decimal.max(...all.map((s) => new Decimal(s.billing.maxAbsError))).toFixed(2),
      ...(all.some((s) => s.billing.byDimension) ? { byDimension: mergeByDimension(all) } : {}),
    },
    // Shards run side by side, so their rates add.
    throughput: {
      transactionsPerSec: round1(sum((s) => s.throughput.transactionsPerSec)),
      callsPerSec: round1(sum((s) => s.throughput.callsPerSec)),
      calls,
      transactions,
    },
    latencyMs: {},
    serviceTimeMs: {},
    counters: {
      callErrors: sum((s) => s.counters.callErrors),
      timeouts: sum((s) => s.counters.timeouts),
      dropped: sum((s) => s.counters.dropped),
      reconnects: sum((s) => s.counters.reconnects),
      // Older shard summaries count no drivers turned away apart: they add none.
      ...(all.some((s) => typeof s.counters.turnedAway === 'number') ? { turnedAway: sum((s) => s.counters.turnedAway ?? 0) } : {}),
    },
    resources: {
      fleetCpuMicros: fleetCpu,
      fleetCpuMicrosPerCall: perCall(fleetCpu),
      backendCpuMicros: backendCpu,
      backendCpuMicrosPerCall: backendCpu === null ? null : perCall(backendCpu),
      backendDiskWriteBytes: backendDisk,
      backendDiskBytesPerTransaction: backendDisk !== null && transactions > 0 ? Math.round(backendDisk / transactions) : null,
      fleetThreadsWaitingForCpu: mostWaiting((s) => s.resources.fleetThreadsWaitingForCpu),
      backendThreadsWaitingForCpu: mostWaiting((s) => s.resources.backendThreadsWaitingForCpu),
      cpuWindow: first.resources.cpuWindow,
      ...(rssBaseline !== null ? { fleetRssBaselineBytes: rssBaseline } : {}),
      ...(rssLoaded !== null ? { fleetRssBytes: rssLoaded } : {}),
      ...memoryPerCharger(rssBaseline ?? undefined, rssLoaded ?? undefined, connectedMax),
    },
    checks: [],
    thresholds: [],
    ...(first.load ? { load: first.load } : {}),
    warmUpMs: first.warmUpMs ?? 0,
    // The sum of the shards' peaks: every shard had all its chargers connected iff this equals `chargers`.
    chargersConnectedMax: connectedMax,
    ...(all.every((s) => s.steady) ? { steady: mergeSteady(all.map((s) => s.steady!)) } : {}),
    ...(all.some((s) => s.display) ? { display: sumRecords(all.map((s) => s.display ?? {})) as unknown as Summary['display'] } : {}),
    shards: all.length,
  };
  return merged;
}

function sumSessions(all: SessionCounts[]): SessionCounts {
  return sumRecords(all as unknown as Array<Record<string, number>>) as unknown as SessionCounts;
}

function mergeSteady(all: SteadyFigures[]): SteadyFigures {
  const sum = (k: Exclude<keyof SteadyFigures, 'turnedAway'>) => all.reduce((n, s) => n + s[k], 0);
  return {
    fromMs: Math.min(...all.map((s) => s.fromMs)),
    toMs: Math.max(...all.map((s) => s.toMs)),
    calls: sum('calls'),
    callsPerSec: round1(sum('callsPerSec')),
    transactions: sum('transactions'),
    transactionsPerSec: round1(sum('transactionsPerSec')),
    billedTransactions: sum('billedTransactions'),
    billedTransactionsPerSec: round1(sum('billedTransactionsPerSec')),
    dropped: sum('dropped'),
    ...(all.some((s) => typeof s.turnedAway === 'number') ? { turnedAway: all.reduce((n, s) => n + (s.turnedAway ?? 0), 0) } : {}),
  };
}

type ByDimension = NonNullable<Summary['billing']['byDimension']>;

function mergeByDimension(all: Summary[]): ByDimension {
  const out: ByDimension = {};
  for (const s of all) {
    for (const [dim, v] of Object.entries(s.billing.byDimension ?? {}) as Array<[keyof ByDimension, ByDimension[keyof ByDimension]]>) {
      if (!v) continue;
      const seen = out[dim];
      out[dim] = seen
        ? {
            exclVat: new Decimal(seen.exclVat).plus(v.exclVat).toFixed(4),
            quantity: new Decimal(seen.quantity).plus(v.quantity).toFixed(),
            sessions: seen.sessions + v.sessions,
          }
        : { ...v };
    }
  }
  return out;
}

function sumDecimals(values: string[]): Decimal {
  return values.reduce((acc, v) => acc.plus(v), new Decimal(0));
}

/** Key-wise sum; keys missing from some records count as 0. */
function sumRecords(records: ReadonlyArray<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of records) for (const [k, v] of Object.entries(r)) out[k] = (out[k] ?? 0) + v;
  return out;
}

function sortedKeys(spec: Record<string, string[]>): Array<[string, string[]]> {
  return Object.keys(spec)
    .sort()
    .map((k) => [k, spec[k]]);
}

const round1 = (n: number) => Math.round(n * 10) / 10;
