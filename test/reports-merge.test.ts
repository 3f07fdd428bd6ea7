// Merging shard results without a fleet: refusals, exact histogram and money sums, checks and
// thresholds judged again, timelines aligned by elapsed second.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { encodeHistogram, latencyStats, mergeHistograms } from '../reports/histograms.js';
import { mergeRunResults, type ShardInput } from '../reports/merge.js';
import type { ReconciliationRow, Summary } from '../reports/model.js';
import { readRunResult, ResultError, RESULT_FORMAT, RESULT_VERSION, type ResultTimelinePoint, type RunResult } from '../reports/run-result.js';
import { mergeTimelines } from '../reports/timeline-merge.js';
import { parseShard, shardFromOptions, shardProblem, sliceForShard } from '../scenarios/sharding.js';

function histogramOf(values: number[]): string {
  const h = build({ numberOfSignificantValueDigits: 3, useWebAssembly: false });
  for (const v of values) h.recordValue(v);
  return encodeHistogram(h);
}

function summaryOf(over: Partial<Summary> = {}): Summary {
  return {
    scenario: 'unit',
    seed: 1,
    passed: true,
    target: 'ws://127.0.0.1:8180/ocpp',
    startedAt: '2026-03-02T08:00:00.000Z',
    wallMs: 10_000,
    simStart: '2026-03-02T08:00:00.000Z',
    simSpeed: 60,
    chargers: 5,
    connectors: 10,
    workers: 1,
    sessions: { truth: 3, billed: 3, matched: 3, mismatched: 0, missing: 0, duplicate: 0, unexpected: 0 },
    billing: { currency: 'EUR', expectedTotal: '10.00', billedTotal: '10.00', maxAbsError: '0.00' },
    throughput: { transactionsPerSec: 0.3, callsPerSec: 10, calls: 100, transactions: 3 },
    latencyMs: {},
    serviceTimeMs: {},
    counters: { callErrors: 0, timeouts: 0, dropped: 0, reconnects: 0 },
    resources: { fleetCpuMicrosPerCall: 10, backendCpuMicrosPerCall: null, fleetCpuMicros: 1000, backendCpuMicros: null },
    checks: [],
    thresholds: [],
    chargersConnectedMax: 5,
    ...over,
  };
}

function row(chargerId: string, absError = '0', status: ReconciliationRow['status'] = 'matched'): ReconciliationRow {
  return { chargerId, connectorId: 1, startAt: '2026-03-02T08:01:00.000Z', status, expectedTotal: '1.00', billedTotal: '1.00', absError, detail: '' };
}

function shard(index: number, count: number, over: Omit<Partial<RunResult>, 'summary'> & { summary?: Partial<Summary>; values?: number[] } = {}): ShardInput {
  const { summary, values, ...rest } = over;
  const result: RunResult = {
    format: RESULT_FORMAT,
    version: RESULT_VERSION,
    shard: { index, count },
    fleetChargers: 5 * count,
    summary: summaryOf({ ...summary, shard: { index, count } }),
    histograms: {
      unit: 'us',
      latency: { StartTransaction: histogramOf(values ?? [1000 * index]) },
      serviceTime: { StartTransaction: histogramOf(values ?? [500]) },
    },
    counters: { calls: 100, callErrors: 0, timeouts: 0, transactions: 3 },
    timeline: [],
    errorsByKind: {},
    reconciliation: [row(`C-${index}`)],
    thresholds: { 'sessions.mismatched': ['count==0'] },
    checkPlan: { requireAllConnected: true, expectSessions: true, finalCostRequired: false },
    ...rest,
  };
  return { path: `shard-${index}/result.json`, result };
}

describe('report merge refuses what is not one sharded run', () => {
  it('different scenarios, seeds, shard counts or targets', () => {
    expect(() => mergeRunResults([shard(1, 2), shard(2, 2, { summary: { scenario: 'other' } })])).toThrow(/different runs: scenario differs/);
    expect(() => mergeRunResults([shard(1, 2), shard(2, 2, { summary: { seed: 2 } })])).toThrow(/seed differs.*shard-2\/result\.json: 2/);
    expect(() => mergeRunResults([shard(1, 2), shard(2, 3)])).toThrow(/shard count differs/);
    expect(() => mergeRunResults([shard(1, 2), shard(2, 2, { summary: { target: 'ws://elsewhere/ocpp' } })])).toThrow(/target differs/);
    expect(() => mergeRunResults([shard(1, 2), shard(2, 2, { summary: { meterValueSampleIntervalSec: 30 } })])).toThrow(/meter sample interval differs/);
    expect(() => mergeRunResults([shard(1, 2), shard(2, 2, { summary: { transactionMessages: 'minimal' } })])).toThrow(/transaction shape differs/);
    expect(() => mergeRunResults([shard(1, 2), shard(2, 2, { thresholds: {} })])).toThrow(ResultError);
  });

  it('a missing or duplicate shard index, or nothing at all', () => {
    expect(() => mergeRunResults([shard(1, 3), shard(3, 3)])).toThrow(/shard 2\/3 is missing: a merge needs the result of every shard 1\.\.3 \(got 1, 3\)/);
    expect(() => mergeRunResults([shard(1, 2), shard(1, 2)])).toThrow(/shard 1\/2 is given twice/);
    expect(() => mergeRunResults([])).toThrow(/nothing to merge/);
  });

  it('a summary.json instead of a result.json, or a folder without one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cb-merge-'));
    await writeFile(join(dir, 'summary.json'), JSON.stringify(summaryOf()));
    await expect(readRunResult(join(dir, 'summary.json'))).rejects.toThrow(/not a chargebench result\.json/);
    await expect(readRunResult(dir)).rejects.toThrow(/result\.json is missing/);
  });
});

describe('report merge', () => {
  it('adds histograms exactly, sums counts and money as decimals, re-judges checks and thresholds', () => {
    const a = [1200, 1500, 90_000, 2_000_000];
    const b = [800, 1300, 1300, 40_000, 700_000];
    const merged = mergeRunResults([
      shard(2, 2, {
        values: b,
        summary: {
          billing: { currency: 'EUR', expectedTotal: '1234567890123.45', billedTotal: '1234567890123.40', maxAbsError: '0.05' },
          sessions: { truth: 2, billed: 2, matched: 1, mismatched: 1, missing: 0, duplicate: 0, unexpected: 0 },
        },
        reconciliation: [row('C-2', '0.05', 'mismatched'), row('C-4')],
      }),
      shard(1, 2, { values: a, summary: { billing: { currency: 'EUR', expectedTotal: '0.10', billedTotal: '0.10', maxAbsError: '0.00' } } }),
    ]);
    const s = merged.summary;
    const whole = latencyStats(mergeHistograms([histogramOf([...a, ...b])]));
    expect(s.latencyMs.StartTransaction).toEqual(whole);
    expect(s.latencyMs.StartTransaction.count).toBe(9);
    expect(s.billing).toMatchObject({ expectedTotal: '1234567890123.55', billedTotal: '1234567890123.50', maxAbsError: '0.05' });
    expect(s.sessions).toEqual({ truth: 5, billed: 5, matched: 4, mismatched: 1, missing: 0, duplicate: 0, unexpected: 0 });
    expect(s).toMatchObject({ chargers: 10, connectors: 20, shards: 2, chargersConnectedMax: 10 });
    expect(s.shard).toBeUndefined();
    expect(s.throughput).toMatchObject({ calls: 200, transactions: 6, callsPerSec: 20 });
    expect(merged.reconciliation.map((r) => r.chargerId)).toEqual(['C-2', 'C-1', 'C-4']);
    expect(s.checks.find((c) => c.name === 'every bill matches the oracle')).toMatchObject({ passed: false, detail: expect.stringMatching(/^1 of 5 differ/) });
    expect(s.checks.find((c) => c.name === 'all chargers connected')?.passed).toBe(true);
    expect(s.thresholds).toEqual([expect.objectContaining({ metric: 'sessions.mismatched', passed: false, actual: 1 })]);
    expect(s.passed).toBe(false);
    expect(merged.mergeInputs?.shard).toEqual({ index: 1, count: 1 });
  });

  it('takes the most starved shard for threads waiting for a core (shards may run on different machines)', () => {
    const res = (fleet: number, backend: number | null) => ({
      resources: {
        fleetCpuMicrosPerCall: 10,
        backendCpuMicrosPerCall: null,
        fleetCpuMicros: 1000,
        backendCpuMicros: null,
        fleetThreadsWaitingForCpu: fleet,
        backendThreadsWaitingForCpu: backend,
      },
    });
    const s = mergeRunResults([shard(1, 2, { summary: res(0.12, null) }), shard(2, 2, { summary: res(0.41, null) })]).summary;
    expect(s.resources.fleetThreadsWaitingForCpu).toBe(0.41);
    expect(s.resources.backendThreadsWaitingForCpu).toBeNull();
  });

  it('passes when every shard is clean, and a single whole-fleet result merges to itself', () => {
    expect(mergeRunResults([shard(1, 2), shard(2, 2)]).summary.passed).toBe(true);
    const one = mergeRunResults([shard(1, 1, { values: [1000, 2000] })]);
    expect(one.summary).toMatchObject({ chargers: 5, passed: true, shards: 1 });
    expect(one.summary.latencyMs.StartTransaction.count).toBe(2);
  });
});

describe('timeline merge', () => {
  const point = (wallMs: number, over: Partial<ResultTimelinePoint> = {}): ResultTimelinePoint => ({
    wallMs,
    simTime: `2026-03-02T08:00:0${Math.round(wallMs / 1000)}.000Z`,
    callsPerSec: 10,
    transactionsPerSec: 1,
    chargersConnected: 5,
    sessionsActive: 2,
    sessionsDone: 0,
    errors: 0,
    dropped: 0,
    p50: 0,
    p90: 0,
    p99: 0,
    ...over,
  });

  it('aligns by elapsed second, sums rates and gauges, carries cumulative counts, and takes percentiles from summed histograms', () => {
    const a1 = [1000, 1100, 1200];
    const b1 = [50_000, 60_000, 70_000, 80_000];
    const a = [point(1003, { latencyHistogram: histogramOf(a1) }), point(2001, { sessionsDone: 3 }), point(3002, { sessionsDone: 5 })];
    const b = [point(998, { latencyHistogram: histogramOf(b1) }), point(1996, { sessionsDone: 4, dropped: 1 })];
    const { points, intervalLatency } = mergeTimelines([a, b]);
    expect(points.map((p) => p.wallMs)).toEqual([1000, 2000, 3000]);
    expect(points[0]).toMatchObject({ callsPerSec: 20, chargersConnected: 10, sessionsActive: 4 });
    expect(points[1]).toMatchObject({ sessionsDone: 7, dropped: 1 });
    // Shard b has ended: its rates and gauges no longer count, its totals still do.
    expect(points[2]).toMatchObject({ callsPerSec: 10, chargersConnected: 5, sessionsDone: 9, dropped: 1 });
    const whole = latencyStats(histogramOf([...a1, ...b1]));
    expect([points[0].p50, points[0].p99]).toEqual([whole.p50, whole.p99]);
    expect(intervalLatency[0]).not.toBeNull();
    expect(intervalLatency[1]).toBeNull();
    expect(points[1]).toMatchObject({ p50: 0, p99: 0 });
  });
});

describe('shard options', () => {
  it('parses i/n with 1 <= i <= n and says how to write it otherwise', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    for (const bad of ['0/2', '3/2', '1', 'a/b', '1/0', '-1/2']) expect(() => parseShard(bad)).toThrow(/write i\/n with 1 <= i <= n/);
    expect(shardFromOptions(undefined, { CHARGEBENCH_SHARD: '3/5' })).toEqual({ index: 3, count: 5 });
    expect(shardFromOptions('1/2', { CHARGEBENCH_SHARD: '3/5' })).toEqual({ index: 1, count: 2 });
    expect(shardFromOptions(undefined, {})).toEqual({ index: 1, count: 1 });
    expect(() => shardFromOptions(undefined, { CHARGEBENCH_SHARD: '9/5' })).toThrow(/CHARGEBENCH_SHARD/);
  });

  it('needs --target for more than one shard, and no more shards than chargers', () => {
    expect(shardProblem({ index: 1, count: 2 }, undefined)).toMatch(/needs --target: all shards must drive the same CSMS/);
    expect(shardProblem({ index: 1, count: 2 }, 'ws://127.0.0.1:8180/ocpp')).toBeNull();
    expect(shardProblem({ index: 1, count: 1 }, undefined)).toBeNull();
    expect(shardProblem({ index: 1, count: 8 }, 'ws://x/ocpp', 5)).toMatch(/only 5 chargers; use at most 5 shards/);
  });

  it('deals chargers round-robin: every charger in exactly one shard', () => {
    const ids = Array.from({ length: 10 }, (_, k) => k);
    const slices = [1, 2, 3].map((index) => sliceForShard(ids, { index, count: 3 }));
    expect(slices).toEqual([
      [0, 3, 6, 9],
      [1, 4, 7],
      [2, 5, 8],
    ]);
  });
});
