import { describe, expect, it } from 'vitest';
import { build } from 'hdr-histogram-js';
import { encodeHistogram } from '../reports/histograms.js';
import {
  buildMetricSource,
  checkThresholdSpec,
  evaluateThresholds,
  mergeThresholdSpecs,
  parseThresholdArg,
  parseThresholdArgs,
  parseThresholds,
  ThresholdSyntaxError,
  UnknownMetricError,
  UnsupportedAggregationError,
  type MetricSource,
} from '../reports/thresholds.js';
import { buildSampleRunReport } from '../reports/sample-report.js';
import type { Summary } from '../reports/model.js';

function histogramMs(valuesMs: number[]): string {
  const h = build();
  for (const v of valuesMs) h.recordValue(Math.round(v * 1000));
  return encodeHistogram(h);
}

function baseSummary(): Summary {
  const s = buildSampleRunReport({ durationSec: 3, sessions: 10, thresholds: {} }).summary;
  return {
    ...s,
    sessions: { truth: 100, billed: 100, matched: 99, mismatched: 1, missing: 0, duplicate: 0, unexpected: 0 },
    counters: { callErrors: 3, timeouts: 0, dropped: 0, reconnects: 1 },
    billing: { currency: 'EUR', expectedTotal: '100.00', billedTotal: '100.01', maxAbsError: '0.01' },
    checks: [
      { name: 'a', passed: true, detail: '' },
      { name: 'b', passed: true, detail: '' },
      { name: 'c', passed: true, detail: '' },
      { name: 'd', passed: false, detail: 'x' },
    ],
  };
}

function source(): MetricSource {
  // 1..1000 ms uniformly: p(99) ~ 990, max ~ 1000, avg ~ 500.5
  const start = histogramMs(Array.from({ length: 1000 }, (_, i) => i + 1));
  const heartbeat = histogramMs([1, 2, 3]);
  return buildMetricSource({
    summary: baseSummary(),
    latency: { StartTransaction: start, Heartbeat: heartbeat },
    serviceTime: { StartTransaction: histogramMs([5, 6, 7]) },
  });
}

describe('parseThresholds', () => {
  it('accepts the k6 forms', () => {
    const parsed = parseThresholds({
      'latency.StartTransaction': ['p(99)<200', 'p(99.9)<=500', 'max<2000', 'min>0', 'avg<100', 'med < 50', 'count>=1'],
      'sessions.mismatched': ['count==0', 'value===0'],
      'calls.errors': ['count<10'],
      checks: ['rate>0.99'],
      'billing.maxAbsError': ['value<=0.01', 'value!=1e3'],
    });
    expect(parsed).toHaveLength(13);
    expect(parsed[1]).toMatchObject({ aggregation: { kind: 'p', percentile: 99.9 }, operator: '<=', limit: '500' });
    expect(parsed[5]).toMatchObject({ expression: 'med < 50', aggregation: { kind: 'med' }, operator: '<' });
    expect(parsed[8]).toMatchObject({ operator: '==' });
  });

  it('rejects bad syntax with an error naming each bad expression and how to write it', () => {
    let err: unknown;
    try {
      parseThresholds({ 'latency.StartTransaction': ['p99<200', 'p(99)<', 'p(101)<5', 'count=0', 'mean<5', 'max 200', 'p(x)<1'] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ThresholdSyntaxError);
    const e = err as ThresholdSyntaxError;
    expect(e.problems.map((p) => p.expression)).toEqual(['p99<200', 'p(99)<', 'p(101)<5', 'count=0', 'mean<5', 'max 200', 'p(x)<1']);
    expect(e.message).toContain('"p99<200"');
    expect(e.message).toContain('write percentiles as p(N)');
    expect(e.message).toContain('use "==" to compare');
    expect(e.message).toContain('outside 0..100');
    expect(e.message).toContain('unknown aggregation "mean"');
    expect(e.message).toContain('Write a threshold as <aggregation><operator><number>');
  });

  it('rejects a non-array value and an odd metric name', () => {
    expect(() => parseThresholds({ 'latency.X': [42 as unknown as string] })).toThrow(ThresholdSyntaxError);
    expect(() => parseThresholds({ 'latency X': ['max<1'] })).toThrow(/not a metric name/);
    expect(parseThresholds({ dropped: 'count==0' as unknown as string[] })).toHaveLength(1);
  });

  it('parses the command-line form', () => {
    expect(parseThresholdArg('latency.StartTransaction:p(99)<200')).toEqual({ 'latency.StartTransaction': ['p(99)<200'] });
    expect(parseThresholdArg('latency.Heartbeat:p(99)<50, max<500')).toEqual({ 'latency.Heartbeat': ['p(99)<50', 'max<500'] });
    expect(parseThresholdArgs(['dropped:count==0', 'dropped:count==0', 'checks:rate>0.99'])).toEqual({
      dropped: ['count==0'],
      checks: ['rate>0.99'],
    });
    expect(() => parseThresholdArg('p(99)<200')).toThrow(/<metric>:<expression>/);
    expect(() => parseThresholdArg('latency.X:p99<1')).toThrow(ThresholdSyntaxError);
    expect(mergeThresholdSpecs({ a: ['count==0'] }, undefined, { a: ['count<1'] })).toEqual({ a: ['count==0', 'count<1'] });
  });

  it('checks metric names statically before a run', () => {
    expect(checkThresholdSpec({ 'latency.Anything': ['p(99)<1'], 'sessions.missing': ['count==0'] })).toHaveLength(2);
    expect(() => checkThresholdSpec({ 'session.missing': ['count==0'] })).toThrow(UnknownMetricError);
  });
});

describe('evaluateThresholds', () => {
  it('passes and fails on the merged histograms', () => {
    const results = evaluateThresholds(
      {
        'latency.StartTransaction': ['p(99)<995', 'p(99)<900', 'max<2000', 'avg<400', 'med<=501', 'min>=1', 'count==1000'],
        'service_time.StartTransaction': ['max<10'],
        latency: ['count==1003'],
      },
      source(),
    );
    const byExpr = Object.fromEntries(results.map((r) => [`${r.metric} ${r.expression}`, r]));
    expect(byExpr['latency.StartTransaction p(99)<995'].passed).toBe(true);
    expect(byExpr['latency.StartTransaction p(99)<995'].actual).toBeCloseTo(990, -1);
    expect(byExpr['latency.StartTransaction p(99)<900'].passed).toBe(false);
    expect(byExpr['latency.StartTransaction max<2000'].passed).toBe(true);
    expect(byExpr['latency.StartTransaction avg<400'].passed).toBe(false);
    expect(byExpr['latency.StartTransaction med<=501'].passed).toBe(true);
    expect(byExpr['latency.StartTransaction min>=1'].passed).toBe(true);
    expect(byExpr['latency.StartTransaction count==1000'].passed).toBe(true);
    expect(byExpr['service_time.StartTransaction max<10'].passed).toBe(true);
    expect(byExpr['latency count==1003'].passed).toBe(true);
  });

  it('judges counters, rates and exact money gauges', () => {
    const results = evaluateThresholds(
      {
        'sessions.mismatched': ['count==0'],
        'sessions.missing': ['count==0'],
        'sessions.truth': ['value>=100'],
        'calls.errors': ['count<10'],
        'calls.timeouts': ['count==0'],
        dropped: ['count==0'],
        checks: ['rate>0.99', 'rate>=0.75'],
        'billing.maxAbsError': ['value<=0.01', 'value<0.01'],
      },
      source(),
    );
    expect(results.map((r) => r.passed)).toEqual([false, true, true, true, true, true, false, true, true, false]);
    expect(results.find((r) => r.expression === 'rate>0.99')!.actual).toBe(0.75);
    expect(results.find((r) => r.expression === 'value<=0.01')!.actual).toBe(0.01);
  });

  it('an unknown metric is an error listing the known metrics, never a pass', () => {
    let err: unknown;
    try {
      evaluateThresholds({ 'latency.StartTransacton': ['p(99)<200'], 'sessions.mismatched': ['count==0'] }, source());
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnknownMetricError);
    const e = err as UnknownMetricError;
    expect(e.unknown).toEqual(['latency.StartTransacton']);
    expect(e.known).toContain('latency.StartTransaction');
    expect(e.known).toContain('sessions.mismatched');
    expect(e.message).toContain('"latency.StartTransacton"');
    expect(e.message).toContain('latency.Heartbeat');
  });

  it('an aggregation that does not fit the metric is an error', () => {
    expect(() => evaluateThresholds({ 'sessions.mismatched': ['p(99)<1'] }, source())).toThrow(UnsupportedAggregationError);
    expect(() => evaluateThresholds({ checks: ['count==0'] }, source())).toThrow(/rate metric; use rate/);
    expect(() => evaluateThresholds({ 'latency.Heartbeat': ['rate>1'] }, source())).toThrow(UnsupportedAggregationError);
  });

  it('syntax errors come before anything is evaluated', () => {
    expect(() => evaluateThresholds({ 'latency.Heartbeat': ['p99<1'] }, source())).toThrow(ThresholdSyntaxError);
  });

  it('works from summary stats alone for the percentiles they carry', () => {
    const summary = baseSummary();
    summary.latencyMs = { StartTransaction: { count: 10, p50: 5, p90: 9, p99: 12, p999: 20, max: 21, mean: 6 } };
    const m = buildMetricSource({ summary });
    const r = evaluateThresholds({ 'latency.StartTransaction': ['p(99)<15', 'p(99.9)<=20', 'max<20', 'avg<7'] }, m);
    expect(r.map((x) => x.passed)).toEqual([true, true, false, true]);
    expect(() => evaluateThresholds({ 'latency.StartTransaction': ['p(95)<15'] }, m)).toThrow(/not in summary stats/);
  });

  it('a trend without samples fails (except on count) with a note', () => {
    const summary = baseSummary();
    const m = buildMetricSource({ summary, latency: { RemoteStartTransaction: encodeHistogram(build()) } });
    const r = evaluateThresholds({ 'latency.RemoteStartTransaction': ['p(99)<200', 'count==0'] }, m);
    expect(r[0]).toMatchObject({ passed: false, note: 'no samples recorded for this metric' });
    expect(r[1].passed).toBe(true);
  });
});
