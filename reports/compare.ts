// Two runs side by side (`chargebench report compare A B`): A is the baseline, B the candidate.

import type { Summary } from './model.js';
import { formatNumber, textTable } from './format.js';
import { memoryText } from './memory.js';

export type Direction = 'higher-is-better' | 'lower-is-better' | 'no-increase';

export interface ComparisonRow {
  metric: string;
  /** Baseline value; null when A does not have it (e.g. an action only B called). */
  a: number | null;
  b: number | null;
  /** b / a; null when either is missing; Infinity when a is 0 and b is not; 1 when both are 0. */
  ratio: number | null;
  regression: boolean;
  direction: Direction;
}

export interface ComparisonResult {
  rows: ComparisonRow[];
  /** Ways the two runs differ that make their figures hard to compare (load, fleet, transaction shape). */
  notes: string[];
  /** Set when one run's machine was much shorter of CPU than the other's (threads waiting for a core). */
  cpuWait: string | null;
  /** The fleet's memory per connected charger of both runs, when either has one (a figure, never a regression). */
  memory?: string;
  regressions: number;
  tolerance: number;
  labels: { a: string; b: string };
}

export interface CompareOptions {
  /** Relative change allowed before a change counts as a regression, e.g. 0.10 for 10%. */
  tolerance: number;
  /** Latency changes smaller than this many ms are never regressions (noise floor). Default 0. */
  latencyFloorMs?: number;
  /** Column titles; default the scenario names ("A"/"B" when equal). */
  labels?: { a: string; b: string };
}

const LATENCY_FIELDS = ['p50', 'p90', 'p99', 'max'] as const;

function ratioOf(a: number | null, b: number | null): number | null {
  if (a === null || b === null) return null;
  if (a === 0) return b === 0 ? 1 : Infinity;
  return b / a;
}

function isRegression(dir: Direction, a: number | null, b: number | null, tol: number, floor = 0): boolean {
  if (a === null || b === null) return false;
  switch (dir) {
    case 'higher-is-better':
      return b < a * (1 - tol);
    case 'lower-is-better':
      return b > a * (1 + tol) && b - a > floor;
    case 'no-increase':
      return b > a;
  }
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/**
 * Compares throughput (higher is better), latency p50/p90/p99/max per action (lower is better),
 * sessions mismatched/missing/duplicate/unexpected (any increase is a regression), CPU per call
 * of fleet and back end and the back end's disk writes per transaction (lower is better). Rows
 * whose value is missing on one side are shown but never count as regressions.
 */
export function compareSummaries(a: Summary, b: Summary, opts: CompareOptions): ComparisonResult {
  const tol = opts.tolerance;
  if (!(tol >= 0)) throw new Error(`compareSummaries: tolerance must be a number >= 0 (e.g. 0.10 for 10%), got ${tol}`);
  const rows: ComparisonRow[] = [];
  const push = (metric: string, av: number | null, bv: number | null, direction: Direction, floor = 0) => {
    rows.push({ metric, a: av, b: bv, ratio: ratioOf(av, bv), regression: isRegression(direction, av, bv, tol, floor), direction });
  };

  push('throughput.callsPerSec', num(a.throughput?.callsPerSec), num(b.throughput?.callsPerSec), 'higher-is-better');
  push('throughput.transactionsPerSec', num(a.throughput?.transactionsPerSec), num(b.throughput?.transactionsPerSec), 'higher-is-better');

  const actions = [...new Set([...Object.keys(a.latencyMs ?? {}), ...Object.keys(b.latencyMs ?? {})])].sort();
  for (const action of actions) {
    const la = a.latencyMs?.[action];
    const lb = b.latencyMs?.[action];
    for (const f of LATENCY_FIELDS) {
      push(`latency.${action}.${f}`, num(la?.[f]), num(lb?.[f]), 'lower-is-better', opts.latencyFloorMs ?? 0);
    }
  }

  for (const k of ['mismatched', 'missing', 'duplicate', 'unexpected'] as const) {
    push(`sessions.${k}`, num(a.sessions?.[k]), num(b.sessions?.[k]), 'no-increase');
  }

  push('cpu.fleetMicrosPerCall', num(a.resources?.fleetCpuMicrosPerCall), num(b.resources?.fleetCpuMicrosPerCall), 'lower-is-better');
  push('cpu.backendMicrosPerCall', num(a.resources?.backendCpuMicrosPerCall), num(b.resources?.backendCpuMicrosPerCall), 'lower-is-better');
  // Only runs against the embedded back end know their disk writes, and a database on tmpfs
  // writes none: its 0 counts as unknown, so it is never compared with a run on disk.
  const diskOf = (s: Summary) => {
    const v = num(s.resources?.backendDiskBytesPerTransaction);
    return v === 0 ? null : v;
  };
  const diskA = diskOf(a);
  const diskB = diskOf(b);
  if (diskA !== null || diskB !== null) push('disk.backendBytesPerTransaction', diskA, diskB, 'lower-is-better');

  const labels = opts.labels ?? (a.scenario && b.scenario && a.scenario !== b.scenario ? { a: a.scenario, b: b.scenario } : { a: 'A', b: 'B' });
  const memory = memoryNote(a, b, labels);
  return {
    rows,
    notes: differences(a, b),
    cpuWait: cpuWaitNote(a, b),
    ...(memory !== null ? { memory } : {}),
    regressions: rows.filter((r) => r.regression).length,
    tolerance: tol,
    labels,
  };
}

/** RSS growth per charger is too noisy to judge a run by; it is said side by side, or why it cannot be measured. */
function memoryNote(a: Summary, b: Summary, labels: { a: string; b: string }): string | null {
  const ma = memoryText(a.resources);
  const mb = memoryText(b.resources);
  if (ma === null && mb === null) return null;
  return `fleet memory: ${labels.a} ${ma ?? 'not recorded'}; ${labels.b} ${mb ?? 'not recorded'}`;
}

/**
 * Threads waiting for a core are not a property of the code under test but of how busy the
 * machine was, so they are no row; a large difference is said, since it moves latency and
 * CPU per call by itself.
 */
function cpuWaitNote(a: Summary, b: Summary): string | null {
  const parts: string[] = [];
  for (const [who, x, y] of [
    ['fleet', a.resources?.fleetThreadsWaitingForCpu, b.resources?.fleetThreadsWaitingForCpu],
    ['back end', a.resources?.backendThreadsWaitingForCpu, b.resources?.backendThreadsWaitingForCpu],
  ] as const) {
    if (typeof x !== 'number' || typeof y !== 'number') continue;
    const [lo, hi] = x < y ? [x, y] : [y, x];
    if (hi - lo >= CPU_WAIT_DIFFERENCE && hi >= lo * 1.5) parts.push(`${who} A ${formatNumber(x, 2)}, B ${formatNumber(y, 2)}`);
  }
  return parts.length
    ? `threads waiting for a core differ (${parts.join('; ')}): the machine was busier in one run, which moves latency and CPU per call by itself`
    : null;
}
/** Average threads waiting for a core: smaller differences are not called out. */
const CPU_WAIT_DIFFERENCE = 0.1;

/** Settings that change what a call or a transaction is: per-call and per-transaction figures then differ by design. */
function differences(a: Summary, b: Summary): string[] {
  const notes: string[] = [];
  const differ = (what: string, x: unknown, y: unknown) => {
    if (x !== undefined && y !== undefined && JSON.stringify(x) !== JSON.stringify(y))
      notes.push(`the runs differ in ${what} (A ${JSON.stringify(x)}, B ${JSON.stringify(y)})`);
  };
  differ('transaction messages', a.transactionMessages, b.transactionMessages);
  differ('cost display', a.costDisplay, b.costDisplay);
  differ('meter sample interval (s)', a.meterValueSampleIntervalSec, b.meterValueSampleIntervalSec);
  differ('chargers', a.chargers, b.chargers);
  differ('load', a.load, b.load);
  differ('fleet workers', a.workers, b.workers);
  return notes;
}

function cell(v: number | null): string {
  if (v === null) return '—';
  const abs = Math.abs(v);
  return formatNumber(v, abs >= 100 ? 0 : abs >= 1 ? 2 : 3);
}

function ratioCell(r: number | null): string {
  if (r === null) return '—';
  if (r === Infinity) return '∞';
  return `${r.toFixed(2)}x`;
}

const DIRECTION_HINT: Record<Direction, string> = {
  'higher-is-better': '↑',
  'lower-is-better': '↓',
  'no-increase': '=',
};

/** Side-by-side table; the last line says how many regressions at which tolerance. */
export function formatComparison(result: ComparisonResult): string {
  const rows = result.rows.map((r) => [
    `${r.metric} ${DIRECTION_HINT[r.direction]}`,
    cell(r.a),
    cell(r.b),
    ratioCell(r.ratio),
    r.a === null || r.b === null ? 'n/a' : r.regression ? '✗ regression' : '✓',
  ]);
  const lines = textTable(['metric', result.labels.a, result.labels.b, 'B/A', ''], rows, ['l', 'r', 'r', 'r', 'l']);
  const pct = `${formatNumber(result.tolerance * 100, 2)}%`;
  lines.push('');
  for (const n of result.notes) lines.push(`note: ${n}, so they measured different work`);
  if (result.cpuWait) lines.push(`note: ${result.cpuWait}`);
  if (result.memory) lines.push(`note: ${result.memory}`);
  lines.push('↑ higher is better, ↓ lower is better, = any increase is a regression');
  lines.push(
    result.regressions === 0
      ? `no regressions (tolerance ${pct})`
      : `${result.regressions} regression${result.regressions === 1 ? '' : 's'} (tolerance ${pct})`,
  );
  return lines.join('\n');
}
