// HDR histogram handling for reports: decode the compressed base64 histograms the fleet ships
// (values in MICROSECONDS), merge them exactly with add(), and turn them into millisecond figures.
//
// The plain JS build is used on purpose: merging happens a few times per second on the main
// thread, and JS histograms need no destroy(). Percentiles are never averaged, only histograms added.

import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';
import type { LatencyStats } from './model.js';

export type { Histogram };

/** Histogram values are microseconds; reports speak milliseconds. */
export const MICROS_PER_MS = 1000;

/** Default resolution of merge targets; matches hdr-histogram-js's default. */
const DEFAULT_SIGNIFICANT_DIGITS = 3;

type SignificantDigits = 1 | 2 | 3 | 4 | 5;

/**
 * An empty histogram that can absorb any other with add(): 64-bit counts (no overflow when
 * many shards are merged) and auto-resize (any maximum fits).
 */
export function createMergeTarget(significantDigits: number = DEFAULT_SIGNIFICANT_DIGITS): Histogram {
  return build({
    bitBucketSize: 64,
    autoResize: true,
    numberOfSignificantValueDigits: clampDigits(significantDigits),
    useWebAssembly: false,
  });
}

function clampDigits(d: number): SignificantDigits {
  const n = Math.min(5, Math.max(1, Math.round(d)));
  return n as SignificantDigits;
}

/** Decodes one `encodeIntoCompressedBase64` string. Throws an Error naming the problem if it is not one. */
export function decodeHistogram(encoded: string): Histogram {
  if (typeof encoded !== 'string' || encoded.trim() === '') {
    throw new Error('decodeHistogram: expected a compressed base64 HDR histogram, got an empty value');
  }
  try {
    const h = decodeFromCompressedBase64(encoded, 64, false);
    h.autoResize = true;
    return h;
  } catch (err) {
    const head = encoded.length > 24 ? `${encoded.slice(0, 24)}…` : encoded;
    throw new Error(`decodeHistogram: "${head}" is not an hdr-histogram-js compressed base64 histogram (${(err as Error).message})`, { cause: err });
  }
}

export function encodeHistogram(h: Histogram): string {
  return encodeIntoCompressedBase64(h);
}

/** Adds an encoded or decoded histogram into `target` (exact: counts per bucket are summed). */
export function addInto(target: Histogram, source: Histogram | string): Histogram {
  const h = typeof source === 'string' ? decodeHistogram(source) : source;
  target.add(h);
  return target;
}

/**
 * Merges any number of histograms (encoded or decoded) into a new one. The inputs are not
 * modified. The result uses the finest resolution among the inputs so that nothing is lost.
 */
export function mergeHistograms(sources: Iterable<Histogram | string>): Histogram {
  const decoded = [...sources].map((s) => (typeof s === 'string' ? decodeHistogram(s) : s));
  const digits = decoded.reduce((d, h) => Math.max(d, h.numberOfSignificantValueDigits), 0);
  const target = createMergeTarget(digits || DEFAULT_SIGNIFICANT_DIGITS);
  for (const h of decoded) target.add(h);
  return target;
}

/**
 * Merges per-action maps (one per worker or shard, or one per progress interval) into one
 * histogram per action. Actions missing from some maps are fine.
 */
export function mergeHistogramMaps(maps: Iterable<Record<string, Histogram | string>>): Record<string, Histogram> {
  const byAction = new Map<string, Array<Histogram | string>>();
  for (const map of maps) {
    for (const [action, h] of Object.entries(map)) {
      let list = byAction.get(action);
      if (!list) byAction.set(action, (list = []));
      list.push(h);
    }
  }
  const out: Record<string, Histogram> = {};
  for (const action of [...byAction.keys()].sort()) out[action] = mergeHistograms(byAction.get(action)!);
  return out;
}

/** Same as mergeHistogramMaps but re-encodes the result, e.g. to merge shard results into one FleetResult. */
export function mergeEncodedMaps(maps: Iterable<Record<string, string>>): Record<string, string> {
  const merged = mergeHistogramMaps(maps);
  const out: Record<string, string> = {};
  for (const [action, h] of Object.entries(merged)) out[action] = encodeHistogram(h);
  return out;
}

/** Decodes every entry of a per-action map. */
export function decodeHistogramMap(map: Record<string, string>): Record<string, Histogram> {
  const out: Record<string, Histogram> = {};
  for (const [action, enc] of Object.entries(map)) out[action] = decodeHistogram(enc);
  return out;
}

/** One histogram over all actions (for "latency over time" or an overall p99). */
export function mergeAllActions(map: Record<string, Histogram | string>): Histogram {
  return mergeHistograms(Object.values(map));
}

/** Microseconds to milliseconds with microsecond precision kept (3 decimals). */
export function microsToMs(us: number): number {
  return Math.round(us) / MICROS_PER_MS;
}

/** Value at percentile `p` (0..100) in ms; 0 for an empty histogram. */
export function percentileMs(h: Histogram, p: number): number {
  if (h.totalCount === 0) return 0;
  return microsToMs(h.getValueAtPercentile(p));
}

/** Summary figures in milliseconds. An empty histogram gives all zeros (count 0). */
export function latencyStats(hist: Histogram | string): LatencyStats {
  const h = typeof hist === 'string' ? decodeHistogram(hist) : hist;
  if (h.totalCount === 0) return { count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 };
  return {
    count: h.totalCount,
    p50: microsToMs(h.getValueAtPercentile(50)),
    p90: microsToMs(h.getValueAtPercentile(90)),
    p99: microsToMs(h.getValueAtPercentile(99)),
    p999: microsToMs(h.getValueAtPercentile(99.9)),
    max: microsToMs(h.maxValue),
    mean: Math.round(h.mean) / MICROS_PER_MS,
  };
}

/** Smallest recorded value in ms (0 for an empty histogram). */
export function minMs(h: Histogram): number {
  return percentileMs(h, 0);
}

/** latencyStats for every action of a per-action map, sorted by action name. */
export function latencyStatsByAction(map: Record<string, Histogram | string>): Record<string, LatencyStats> {
  const out: Record<string, LatencyStats> = {};
  for (const action of Object.keys(map).sort()) out[action] = latencyStats(map[action]);
  return out;
}

export interface DistributionOptions {
  /** Points per halving of the distance to 100% (HdrHistogram's "ticks per half distance"). Default 5. */
  ticksPerHalfDistance?: number;
  /** Highest percentile plotted. Default 99.999 (100 would sit at infinity on a 1/(1-p) axis). */
  maxPercentile?: number;
}

/**
 * [percentile, ms] points for a percentile-distribution chart: denser towards the tail, from 0
 * up to `maxPercentile`, so the chart can plot them against 1/(1 - p/100). Empty histogram: [].
 */
export function percentileDistribution(h: Histogram, opts: DistributionOptions = {}): Array<[number, number]> {
  if (h.totalCount === 0) return [];
  const ticks = Math.max(1, Math.floor(opts.ticksPerHalfDistance ?? 5));
  const top = Math.min(opts.maxPercentile ?? 99.999, 99.9999);
  const points: Array<[number, number]> = [];
  for (let k = 0; ; k++) {
    const p = roundPercentile(100 * (1 - Math.pow(2, -k / ticks)));
    if (p >= top) break;
    points.push([p, percentileMs(h, p)]);
  }
  points.push([top, percentileMs(h, top)]);
  return points;
}

function roundPercentile(p: number): number {
  return Math.round(p * 1e6) / 1e6;
}

/** percentileDistribution for every action of a per-action map. */
export function percentileDistributionByAction(
  map: Record<string, Histogram | string>,
  opts: DistributionOptions = {},
): Record<string, Array<[number, number]>> {
  const out: Record<string, Array<[number, number]>> = {};
  for (const action of Object.keys(map).sort()) {
    const v = map[action];
    out[action] = percentileDistribution(typeof v === 'string' ? decodeHistogram(v) : v, opts);
  }
  return out;
}
