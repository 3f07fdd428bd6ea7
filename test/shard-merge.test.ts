// The key property of sharding: the merge of shard results equals one run. Two fresh back ends,
// one for the whole fleet and one for its shards (the same seed on one back end would meet the
// first run's sessions), both fleets side by side.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/run-cli.js';
import { decodeHistogram } from '../reports/histograms.js';
import { mergeRunResults } from '../reports/merge.js';
import type { RunReport, Summary } from '../reports/model.js';
import { toRunResult } from '../reports/run-result.js';
import { writeReports } from '../reports/summary-writer.js';
import { startBackendProcess, type BackendProcess } from '../scenarios/backend-process.js';
import { benchScenario } from '../scenarios/bench.js';
import { loadScenario } from '../scenarios/load-scenarios.js';
import { runScenario, type RunOptions } from '../scenarios/runner.js';
import type { Scenario } from '../scenarios/api.js';

const SMALL = join(import.meta.dirname, 'fixtures', 'small-scenario.ts');

const chargebench = (args: string[]) => runCli(args, 30_000);

/** Every reconciliation row in full, in a fixed order. */
const rows = (report: RunReport) => report.reconciliation.map((r) => JSON.stringify(r)).sort();

function latencyCounts(report: RunReport): Record<string, number> {
  return Object.fromEntries(Object.entries(report.mergeInputs!.latency).map(([action, h]) => [action, decodeHistogram(h).totalCount]));
}

describe('sharded runs merge into the whole run', () => {
  let scratch: string;
  const backends: BackendProcess[] = [];
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'cb-shards-'));
  });
  afterAll(async () => {
    await Promise.all(backends.map((b) => b.stop()));
    await rm(scratch, { recursive: true, force: true });
  });

  /** One run of the whole fleet on one fresh back end; shards 1/2 and 2/2 on another; all at once. */
  async function wholeAndShards(scenario: Scenario, name: string, workers: { whole: number; shard: number }) {
    const [wholeBackend, shardBackend] = await Promise.all([
      startBackendProcess(join(scratch, `${name}-whole.db`)),
      startBackendProcess(join(scratch, `${name}-shards.db`)),
    ]);
    backends.push(wholeBackend, shardBackend);
    const opts = (target: string, w: number, shard?: { index: number; count: number }): RunOptions => ({ target, workers: w, shard });
    const [whole, ...shards] = await Promise.all([
      runScenario(scenario, opts(wholeBackend.ocppUrl, workers.whole)),
      runScenario(scenario, opts(shardBackend.ocppUrl, workers.shard, { index: 1, count: 2 })),
      runScenario(scenario, opts(shardBackend.ocppUrl, workers.shard, { index: 2, count: 2 })),
    ]);
    const merged = mergeRunResults(shards.map((s, k) => ({ path: `shard-${k + 1}`, result: toRunResult(s.report)! })));
    return { whole: whole.report, shards: shards.map((s) => s.report), merged, passed: [whole.passed, ...shards.map((s) => s.passed)] };
  }

  it('per-connector arrivals: same sessions, bills, reconciliation rows and call counts; merge exit codes through the CLI', async () => {
    const scenario = await loadScenario(SMALL);
    const { whole, shards, merged, passed } = await wholeAndShards(scenario, 'small', { whole: 2, shard: 1 });
    expect(passed).toEqual([true, true, true]);

    // Each shard held and reconciled only its own chargers.
    expect(shards.map((s) => s.summary.chargers)).toEqual([10, 10]);
    expect(shards.map((s) => s.summary.shard)).toEqual([
      { index: 1, count: 2 },
      { index: 2, count: 2 },
    ]);
    for (const [k, s] of shards.entries()) {
      const own = new Set(s.reconciliation.map((r) => Number(r.chargerId.slice(-4)) % 2));
      expect(own, `shard ${k + 1}`).toEqual(new Set([(k + 1) % 2]));
      expect(s.summary.thresholds).toEqual([]);
      expect(s.summary.sessions.unexpected).toBe(0);
    }

    const w = whole.summary;
    const m = merged.summary;
    expect(w.sessions.truth).toBeGreaterThan(10);
    expect(m.sessions).toEqual(w.sessions);
    expect(m.billing).toEqual(w.billing);
    expect(rows(merged)).toEqual(rows(whole));
    expect(m.chargers).toBe(w.chargers);
    expect([m.transactionMessages, m.costDisplay]).toEqual([w.transactionMessages, w.costDisplay]);
    expect(w.transactionMessages).toBe('full');
    expect(m.checks.map((c) => [c.name, c.passed])).toEqual(w.checks.map((c) => [c.name, c.passed]));
    expect(m.thresholds).toEqual(w.thresholds);
    expect(m.passed).toBe(true);

    // Histograms add exactly. Heartbeats follow the wall clock of each process, so only their sum is checked.
    const wholeCounts = latencyCounts(whole);
    const mergedCounts = latencyCounts(merged);
    const shardCounts = shards.map(latencyCounts);
    for (const action of Object.keys(mergedCounts)) {
      expect(mergedCounts[action], action).toBe(shardCounts.reduce((n, c) => n + (c[action] ?? 0), 0));
      expect(m.latencyMs[action].count, action).toBe(mergedCounts[action]);
      if (action !== 'Heartbeat') expect(mergedCounts[action], action).toBe(wholeCounts[action]);
    }
    expect(merged.timeline.length).toBeGreaterThan(3);

    // Through the command line: 0 for a passing merge, 1 when a threshold fails on the whole, 2 when a shard is missing.
    const dirs = [join(scratch, 's1'), join(scratch, 's2')];
    await Promise.all(shards.map((s, k) => writeReports(dirs[k], s)));
    const out = join(scratch, 'merged');
    const ok = await chargebench(['report', 'merge', ...dirs, '--report-dir', out]);
    expect(ok.code, ok.stderr).toBe(0);
    const written = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8')) as Summary;
    expect(written.sessions).toEqual(w.sessions);
    expect(written.billing).toEqual(w.billing);
    expect(JSON.parse(await readFile(join(out, 'result.json'), 'utf8')).reconciliation).toHaveLength(whole.reconciliation.length);

    const strict = shards.map((s) => ({ ...s, mergeInputs: { ...s.mergeInputs!, thresholds: { 'sessions.truth': ['count<1'] } } }));
    const strictDirs = [join(scratch, 't1'), join(scratch, 't2')];
    await Promise.all(strict.map((s, k) => writeReports(strictDirs[k], s)));
    const failed = await chargebench(['report', 'merge', ...strictDirs, '--report-dir', join(scratch, 'merged-strict')]);
    expect(failed.code, failed.stderr).toBe(1);

    const missing = await chargebench(['report', 'merge', dirs[0], '--report-dir', join(scratch, 'merged-missing')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/shard 2\/2 is missing/);
  }, 90_000);

  it('arrival-rate load: two shards of one worker live the arrivals of one run with two workers', async () => {
    const scenario = benchScenario({ chargers: 16, connectors: 2, rate: 12, durationMs: 4000, seed: 3 });
    const { whole, merged, passed } = await wholeAndShards(scenario, 'open', { whole: 2, shard: 1 });
    expect(passed).toEqual([true, true, true]);
    expect(whole.summary.sessions.truth).toBeGreaterThan(20);
    expect(merged.summary.sessions).toEqual(whole.summary.sessions);
    expect(merged.summary.billing).toEqual(whole.summary.billing);
    expect(merged.summary.counters.dropped).toBe(whole.summary.counters.dropped);
    expect(rows(merged)).toEqual(rows(whole));
  }, 90_000);
});
