// result.json: everything a run knows that a merge of shard results needs, kept exactly
// (histograms encoded, all reconciliation rows, decimal money as text). summary.json stays the
// small contract; result.json is for `chargebench report merge`.

import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { CheckPlan, ReconciliationRow, RunReport, ShardSpec, Summary, TimelinePoint } from './model.js';

export const RESULT_FILE = 'result.json';
export const RESULT_FORMAT = 'chargebench-result';
export const RESULT_VERSION = 1;

/** One timeline second with its latency histogram (µs over all actions, compressed base64) when it had calls. */
export type ResultTimelinePoint = TimelinePoint & { latencyHistogram?: string };

export interface RunResult {
  format: typeof RESULT_FORMAT;
  version: typeof RESULT_VERSION;
  /** Which slice of the fleet this result holds ({ index: 1, count: 1 }: the whole fleet). */
  shard: ShardSpec;
  /** Chargers of the whole fleet, over all shards. */
  fleetChargers: number;
  summary: Summary;
  /** Per OCPP action, hdr-histogram-js encodeIntoCompressedBase64 of values in µs. */
  histograms: { unit: 'us'; latency: Record<string, string>; serviceTime: Record<string, string> };
  /** The fleet's counters at the end of the run. */
  counters: Record<string, number>;
  timeline: ResultTimelinePoint[];
  errorsByKind: Record<string, number>;
  /** Every session, not only the worst shown in report.html. */
  reconciliation: ReconciliationRow[];
  thresholds: Record<string, string[]>;
  checkPlan: CheckPlan;
}

/** A problem with the results given to a merge (exit code 2). */
export class ResultError extends Error {}

/** The result.json of a report, or null when the report lacks what a merge needs. */
export function toRunResult(report: RunReport): RunResult | null {
  const m = report.mergeInputs;
  if (!m) return null;
  return {
    format: RESULT_FORMAT,
    version: RESULT_VERSION,
    shard: m.shard,
    fleetChargers: m.fleetChargers,
    summary: report.summary,
    histograms: { unit: 'us', latency: m.latency, serviceTime: m.serviceTime },
    counters: m.counters,
    timeline: report.timeline.map((p, i) => {
      const h = m.intervalLatency[i];
      return h ? { ...p, latencyHistogram: h } : { ...p };
    }),
    errorsByKind: report.errorsByKind,
    reconciliation: report.reconciliation,
    thresholds: m.thresholds,
    checkPlan: m.checkPlan,
  };
}

/** result.json as written to disk: compact (it can hold many sessions), with a trailing newline. */
export function resultJson(result: RunResult): string {
  return `${JSON.stringify(result)}\n`;
}

/** Reads a result.json, or DIR/result.json when given a report folder. */
export async function readRunResult(pathOrDir: string): Promise<{ path: string; result: RunResult }> {
  let path = pathOrDir;
  try {
    if ((await stat(pathOrDir)).isDirectory()) path = join(pathOrDir, RESULT_FILE);
  } catch {
    throw new ResultError(`${pathOrDir} does not exist: give the --report-dir of each shard run, or its result.json`);
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new ResultError(`${path} is missing: every run writes a result.json into its --report-dir; give those folders or files`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ResultError(`${path} is not JSON (${(err as Error).message}); give the result.json a run wrote`);
  }
  return { path, result: checkRunResult(parsed, path) };
}

function checkRunResult(value: unknown, path: string): RunResult {
  const r = value as Partial<RunResult> | null;
  if (!r || typeof r !== 'object' || r.format !== RESULT_FORMAT) {
    throw new ResultError(`${path} is not a chargebench result.json (summary.json will not do: give result.json or its folder)`);
  }
  if (r.version !== RESULT_VERSION) {
    throw new ResultError(`${path} has result format version ${String(r.version)}; this chargebench reads version ${RESULT_VERSION}`);
  }
  const missing = (['shard', 'summary', 'histograms', 'counters', 'timeline', 'errorsByKind', 'reconciliation', 'thresholds', 'checkPlan'] as const).filter(
    (k) => r[k] === undefined || r[k] === null,
  );
  if (missing.length > 0) throw new ResultError(`${path} lacks ${missing.join(', ')}; it is not a complete result.json`);
  const s = r.shard!;
  if (!Number.isInteger(s.index) || !Number.isInteger(s.count) || s.index < 1 || s.index > s.count) {
    throw new ResultError(`${path} has an invalid shard ${JSON.stringify(s)}`);
  }
  return r as RunResult;
}
