import { describe, expect, it } from 'vitest';
import { compareSummaries, formatComparison } from '../reports/compare.js';
import { buildSampleRunReport } from '../reports/sample-report.js';
import type { Summary } from '../reports/model.js';

function base(): Summary {
  const s = buildSampleRunReport({ durationSec: 3, sessions: 10, thresholds: {} }).summary;
  return {
    ...s,
    scenario: 'bench',
    throughput: { callsPerSec: 1000, transactionsPerSec: 50, calls: 60000, transactions: 3000 },
    latencyMs: {
      StartTransaction: { count: 3000, p50: 4, p90: 8, p99: 20, p999: 40, max: 100, mean: 5 },
      Heartbeat: { count: 1000, p50: 1, p90: 2, p99: 3, p999: 4, max: 5, mean: 1.2 },
    },
    sessions: { truth: 3000, billed: 3000, matched: 3000, mismatched: 0, missing: 0, duplicate: 0, unexpected: 0 },
    resources: { fleetCpuMicrosPerCall: 25, backendCpuMicrosPerCall: 90, fleetCpuMicros: 1, backendCpuMicros: 1 },
  };
}

function clone(s: Summary): Summary {
  return JSON.parse(JSON.stringify(s)) as Summary;
}

describe('compareSummaries', () => {
  it('finds no regression between equal runs', () => {
    const r = compareSummaries(base(), base(), { tolerance: 0.1 });
    expect(r.regressions).toBe(0);
    expect(r.rows.every((x) => x.ratio === 1)).toBe(true);
    const metrics = r.rows.map((x) => x.metric);
    expect(metrics).toContain('throughput.callsPerSec');
    expect(metrics).toContain('latency.StartTransaction.p99');
    expect(metrics).toContain('latency.Heartbeat.max');
    expect(metrics).toContain('sessions.mismatched');
    expect(metrics).toContain('cpu.backendMicrosPerCall');
  });

  it('flags lower throughput, higher latency and CPU beyond tolerance, and any new mismatch', () => {
    const a = base();
    const b = clone(a);
    b.throughput.callsPerSec = 850; // -15%: regression
    b.throughput.transactionsPerSec = 47; // -6%: within tolerance
    b.latencyMs.StartTransaction.p99 = 23; // +15%: regression
    b.latencyMs.StartTransaction.p50 = 4.3; // +7.5%: fine
    b.latencyMs.Heartbeat.max = 2; // better
    b.sessions.mismatched = 1; // any increase
    b.resources.fleetCpuMicrosPerCall = 30; // +20%: regression
    const r = compareSummaries(a, b, { tolerance: 0.1 });
    const reg = r.rows.filter((x) => x.regression).map((x) => x.metric);
    expect(reg.sort()).toEqual(['cpu.fleetMicrosPerCall', 'latency.StartTransaction.p99', 'sessions.mismatched', 'throughput.callsPerSec']);
    expect(r.regressions).toBe(4);
    expect(r.rows.find((x) => x.metric === 'throughput.callsPerSec')!.ratio).toBeCloseTo(0.85, 6);
    expect(r.rows.find((x) => x.metric === 'sessions.mismatched')!.ratio).toBe(Infinity);
  });

  it('flags more back-end disk writes per transaction, and shows them missing without flagging', () => {
    const a = base();
    a.resources.backendDiskBytesPerTransaction = 40_000;
    const more = clone(a);
    more.resources.backendDiskBytesPerTransaction = 60_000;
    const r = compareSummaries(a, more, { tolerance: 0.1 });
    expect(r.rows.filter((x) => x.regression).map((x) => x.metric)).toEqual(['disk.backendBytesPerTransaction']);
    expect(r.rows.find((x) => x.metric === 'disk.backendBytesPerTransaction')!.ratio).toBeCloseTo(1.5, 6);
    const remote = clone(a);
    remote.resources.backendDiskBytesPerTransaction = null;
    expect(compareSummaries(a, remote, { tolerance: 0.1 }).regressions).toBe(0);
    // A database on tmpfs writes nothing to disk: no ratio against a run on disk.
    const tmpfs = clone(a);
    tmpfs.resources.backendDiskBytesPerTransaction = 0;
    expect(compareSummaries(tmpfs, a, { tolerance: 0.1 }).regressions).toBe(0);
  });

  it('improvements are never regressions', () => {
    const a = base();
    const b = clone(a);
    b.throughput.callsPerSec = 2000;
    b.latencyMs.StartTransaction.p99 = 5;
    b.resources.backendCpuMicrosPerCall = 40;
    expect(compareSummaries(a, b, { tolerance: 0 }).regressions).toBe(0);
  });

  it('shows actions present on one side only and missing back-end CPU without flagging them', () => {
    const a = base();
    const b = clone(a);
    delete (b.latencyMs as Record<string, unknown>).Heartbeat;
    b.latencyMs.Authorize = { count: 5, p50: 1, p90: 1, p99: 1, p999: 1, max: 1, mean: 1 };
    b.resources.backendCpuMicrosPerCall = null;
    const r = compareSummaries(a, b, { tolerance: 0.1 });
    expect(r.regressions).toBe(0);
    expect(r.rows.find((x) => x.metric === 'latency.Heartbeat.p99')).toMatchObject({ a: 3, b: null, ratio: null });
    expect(r.rows.find((x) => x.metric === 'latency.Authorize.p99')).toMatchObject({ a: null, b: 1 });
    expect(r.rows.find((x) => x.metric === 'cpu.backendMicrosPerCall')!.b).toBeNull();
  });

  it('a latency floor ignores sub-floor noise', () => {
    const a = base();
    const b = clone(a);
    b.latencyMs.Heartbeat.p50 = 1.3; // +30% but only 0.3 ms
    expect(compareSummaries(a, b, { tolerance: 0.1 }).regressions).toBe(1);
    expect(compareSummaries(a, b, { tolerance: 0.1, latencyFloorMs: 0.5 }).regressions).toBe(0);
  });

  it('notes when the runs measured different work (transaction shape, fleet, load)', () => {
    const a = { ...base(), transactionMessages: 'full' as const, costDisplay: true };
    const b = { ...clone(a), transactionMessages: 'minimal' as const, costDisplay: false };
    expect(compareSummaries(a, clone(a), { tolerance: 0.1 }).notes).toEqual([]);
    const r = compareSummaries(a, b, { tolerance: 0.1 });
    expect(r.notes).toEqual(['the runs differ in transaction messages (A "full", B "minimal")', 'the runs differ in cost display (A true, B false)']);
    expect(formatComparison(r)).toMatch(/note: the runs differ in transaction messages \(A "full", B "minimal"\), so they measured different work/);
    // An older summary without the fields is not a difference.
    const { transactionMessages: _t, ...older } = a;
    expect(compareSummaries(older as Summary, b, { tolerance: 0.1 }).notes).toEqual(['the runs differ in cost display (A true, B false)']);
    // The sample interval sets how many MeterValues a transaction sends.
    expect(compareSummaries({ ...a, meterValueSampleIntervalSec: 30 }, { ...clone(a), meterValueSampleIntervalSec: 300 }, { tolerance: 0.1 }).notes).toEqual([
      'the runs differ in meter sample interval (s) (A 30, B 300)',
    ]);
    // Fleet workers change the fleet's CPU per call.
    expect(compareSummaries(a, { ...clone(a), workers: a.workers + 1 }, { tolerance: 0.1 }).notes).toEqual([
      `the runs differ in fleet workers (A ${a.workers}, B ${a.workers + 1})`,
    ]);
  });

  it('says when one run waited much longer for a core than the other, without making it a row', () => {
    const a = base();
    a.resources.fleetThreadsWaitingForCpu = 0.2;
    a.resources.backendThreadsWaitingForCpu = 0.15;
    const busier = clone(a);
    busier.resources.backendThreadsWaitingForCpu = 0.45;
    const r = compareSummaries(a, busier, { tolerance: 0.1 });
    expect(r.cpuWait).toBe(
      'threads waiting for a core differ (back end A 0.15, B 0.45): the machine was busier in one run, which moves latency and CPU per call by itself',
    );
    expect(r.rows.some((x) => x.metric.includes('wait'))).toBe(false);
    expect(formatComparison(r)).toContain('note: threads waiting for a core differ (back end A 0.15, B 0.45)');
    // Close figures, a small difference, or a run without them: nothing to say.
    const close = clone(a);
    close.resources.backendThreadsWaitingForCpu = 0.2;
    expect(compareSummaries(a, close, { tolerance: 0.1 }).cpuWait).toBeNull();
    const older = clone(a);
    delete older.resources.backendThreadsWaitingForCpu;
    delete older.resources.fleetThreadsWaitingForCpu;
    expect(compareSummaries(older, busier, { tolerance: 0.1 }).cpuWait).toBeNull();
  });

  it('rejects a bad tolerance', () => {
    expect(() => compareSummaries(base(), base(), { tolerance: Number.NaN })).toThrow(/tolerance/);
  });

  it('formats a side-by-side table with ratios and a verdict line', () => {
    const a = base();
    const b = clone(a);
    b.throughput.callsPerSec = 500;
    const text = formatComparison(compareSummaries(a, b, { tolerance: 0.1, labels: { a: 'main', b: 'pr-42' } }));
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^metric\s+main\s+pr-42\s+B\/A/);
    const row = lines.find((l) => l.startsWith('throughput.callsPerSec'))!;
    expect(row).toMatch(/1,000\s+500\s+0\.50x\s+✗ regression/);
    expect(lines.at(-1)).toBe('1 regression (tolerance 10%)');
    expect(formatComparison(compareSummaries(a, a, { tolerance: 0.05 }))).toMatch(/no regressions \(tolerance 5%\)$/);
  });
});
