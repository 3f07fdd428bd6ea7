import { describe, expect, it } from 'vitest';
import { build } from 'hdr-histogram-js';
import {
  decodeHistogram,
  encodeHistogram,
  latencyStats,
  latencyStatsByAction,
  mergeEncodedMaps,
  mergeHistogramMaps,
  mergeHistograms,
  percentileDistribution,
} from '../reports/histograms.js';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

/** Latencies in µs: mostly ~1-5 ms with a tail up to ~2 s. */
function sampleValues(n: number, seed: number): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => {
    const base = 800 + Math.floor(r() * 4000);
    return r() < 0.01 ? base * (20 + Math.floor(r() * 400)) : base;
  });
}

const PERCENTILES = [0, 1, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 100];

describe('histograms', () => {
  it('a merge of encoded shards equals one histogram of all the data', () => {
    const values = sampleValues(30_000, 42);
    const single = build();
    for (const v of values) single.recordValue(v);

    // Split unevenly over 5 "workers", ship each as compressed base64, merge.
    const shards = Array.from({ length: 5 }, () => build());
    values.forEach((v, i) => shards[(i * 7 + (i % 3)) % 5].recordValue(v));
    const merged = mergeHistograms(shards.map(encodeHistogram));
    const reference = decodeHistogram(encodeHistogram(single));

    expect(merged.totalCount).toBe(values.length);
    expect(merged.totalCount).toBe(reference.totalCount);
    for (const p of PERCENTILES) expect(merged.getValueAtPercentile(p)).toBe(reference.getValueAtPercentile(p));
    expect(merged.maxValue).toBe(reference.maxValue);
    expect(merged.minNonZeroValue).toBe(reference.minNonZeroValue);
    expect(merged.mean).toBeCloseTo(reference.mean, 6);
    expect(latencyStats(merged)).toEqual(latencyStats(reference));
  });

  it('merging is associative: shards of shards give the same result', () => {
    const values = sampleValues(5000, 7);
    const parts = [0, 1, 2, 3].map((k) => {
      const h = build();
      values.filter((_, i) => i % 4 === k).forEach((v) => h.recordValue(v));
      return encodeHistogram(h);
    });
    const flat = mergeHistograms(parts);
    const nested = mergeHistograms([encodeHistogram(mergeHistograms(parts.slice(0, 2))), encodeHistogram(mergeHistograms(parts.slice(2)))]);
    for (const p of PERCENTILES) expect(nested.getValueAtPercentile(p)).toBe(flat.getValueAtPercentile(p));
    expect(nested.totalCount).toBe(flat.totalCount);
  });

  it('merges per-action maps from several workers, actions may be missing on some', () => {
    const mk = (vals: number[]) => {
      const h = build();
      vals.forEach((v) => h.recordValue(v));
      return encodeHistogram(h);
    };
    const w1 = { Heartbeat: mk([1000, 2000]), StartTransaction: mk([5000]) };
    const w2 = { Heartbeat: mk([3000]), MeterValues: mk([1500, 1500, 1500]) };
    const merged = mergeHistogramMaps([w1, w2]);
    expect(Object.keys(merged)).toEqual(['Heartbeat', 'MeterValues', 'StartTransaction']);
    expect(merged.Heartbeat.totalCount).toBe(3);
    const stats = latencyStatsByAction(mergeEncodedMaps([w1, w2]));
    expect(stats.MeterValues.count).toBe(3);
    expect(stats.MeterValues.p50).toBeCloseTo(1.5, 2);
    expect(stats.StartTransaction.max).toBeCloseTo(5, 2);
  });

  it('latencyStats reports milliseconds from microsecond histograms', () => {
    const h = build();
    for (let i = 1; i <= 1000; i++) h.recordValue(i * 1000); // 1..1000 ms
    const s = latencyStats(h);
    expect(s.count).toBe(1000);
    expect(s.p50).toBeCloseTo(500, 0);
    expect(s.p90).toBeCloseTo(900, 0);
    expect(s.p99).toBeCloseTo(990, 0);
    expect(s.p999).toBeCloseTo(999, 0);
    expect(s.max).toBeCloseTo(1000, 0);
    expect(s.mean).toBeCloseTo(500.5, 0);
  });

  it('handles empty histograms', () => {
    const empty = build();
    expect(latencyStats(empty)).toEqual({ count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 });
    expect(percentileDistribution(empty)).toEqual([]);
    expect(mergeHistograms([]).totalCount).toBe(0);
  });

  it('gives a percentile distribution dense towards the tail, up to 99.999', () => {
    const h = build();
    for (const v of sampleValues(10_000, 3)) h.recordValue(v);
    const d = percentileDistribution(h);
    expect(d[0][0]).toBe(0);
    expect(d[d.length - 1][0]).toBe(99.999);
    for (let i = 1; i < d.length; i++) {
      expect(d[i][0]).toBeGreaterThan(d[i - 1][0]);
      expect(d[i][1]).toBeGreaterThanOrEqual(d[i - 1][1]);
    }
    expect(d.filter(([p]) => p >= 99).length).toBeGreaterThan(10);
  });

  it('names the problem when a string is not a histogram', () => {
    expect(() => decodeHistogram('not base64 at all')).toThrow(/not an hdr-histogram-js compressed base64 histogram/);
    expect(() => decodeHistogram('')).toThrow(/empty/);
  });
});

describe('histograms from the WASM build', () => {
  it('decode and merge exactly like JS ones (workers may record with WASM)', async () => {
    const hdr = await import('hdr-histogram-js');
    await hdr.initWebAssembly();
    const values = sampleValues(8000, 99);
    const wasmShards = [0, 1, 2].map(() => hdr.build({ useWebAssembly: true, autoResize: true }));
    const js = build();
    try {
      values.forEach((v, i) => {
        wasmShards[i % 3].recordValue(v);
        js.recordValue(v);
      });
      const merged = mergeHistograms(wasmShards.map((h) => hdr.encodeIntoCompressedBase64(h)));
      expect(merged.totalCount).toBe(values.length);
      for (const p of PERCENTILES) expect(merged.getValueAtPercentile(p)).toBe(js.getValueAtPercentile(p));
      expect(latencyStats(merged)).toEqual(latencyStats(encodeHistogram(js)));
    } finally {
      for (const h of wasmShards) h.destroy();
    }
  });
});
