// k6-style thresholds: `{ "latency.StartTransaction": ["p(99)<200", "max<2000"] }`, judged on
// the merged result of a run. A bad expression or a metric that does not exist is an error
// (a bad scenario), never a pass.

import { Decimal } from 'decimal.js';
import type { Histogram } from 'hdr-histogram-js';
import { decodeHistogram, mergeAllActions, microsToMs, percentileMs } from './histograms.js';
import type { LatencyStats, Summary, ThresholdResult } from './model.js';

// ---------------------------------------------------------------------------------------------
// Errors

export class ThresholdError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export interface ThresholdProblem {
  metric: string;
  expression: string;
  reason: string;
}

const HOW_TO_WRITE =
  'Write a threshold as <aggregation><operator><number>, e.g. "p(99)<200", "p(99.9)<=500", "max<2000", ' +
  '"count==0", "rate>0.99". Aggregations: p(N) with 0<=N<=100, min, max, avg, med, count, rate, value. ' +
  'Operators: <, <=, >, >=, ==, !=.';

/** One or more threshold expressions could not be parsed. `problems` lists each of them. */
export class ThresholdSyntaxError extends ThresholdError {
  readonly problems: ThresholdProblem[];
  constructor(problems: ThresholdProblem[]) {
    const lines = problems.map((p) => {
      if (p.metric === '' && p.expression === '') return `  - ${p.reason}`;
      if (p.expression === '') return `  - "${p.metric}": ${p.reason}`;
      return `  - "${p.metric}": "${p.expression}": ${p.reason}`;
    });
    super(`Invalid threshold${problems.length > 1 ? 's' : ''}:\n${lines.join('\n')}\n${HOW_TO_WRITE}`);
    this.problems = problems;
  }
}

/** A threshold names a metric the run does not have. */
export class UnknownMetricError extends ThresholdError {
  readonly unknown: string[];
  readonly known: string[];
  constructor(unknown: string[], known: string[]) {
    const list = known.length ? known.join(', ') : '(none)';
    super(
      `Threshold${unknown.length > 1 ? 's name' : ' names'} unknown metric${unknown.length > 1 ? 's' : ''} ` +
        `${unknown.map((u) => `"${u}"`).join(', ')}. Known metrics in this run: ${list}. ` +
        'Latency metrics exist per OCPP action the run called (latency.<Action>, service_time.<Action>); ' +
        'check the spelling and the action name.',
    );
    this.unknown = unknown;
    this.known = known;
  }
}

/** The aggregation does not apply to the metric's kind, e.g. "p(99)" on a counter. */
export class UnsupportedAggregationError extends ThresholdError {
  readonly problems: ThresholdProblem[];
  constructor(problems: ThresholdProblem[]) {
    super(`Threshold aggregation not available for the metric:\n${problems.map((p) => `  - "${p.metric}": "${p.expression}": ${p.reason}`).join('\n')}`);
    this.problems = problems;
  }
}

// ---------------------------------------------------------------------------------------------
// Parsing

export type Aggregation = { kind: 'p'; percentile: number } | { kind: 'min' | 'max' | 'avg' | 'med' | 'count' | 'rate' | 'value' };

export type Operator = '<' | '<=' | '>' | '>=' | '==' | '!=';

export interface ParsedThreshold {
  metric: string;
  /** As written (trimmed). */
  expression: string;
  aggregation: Aggregation;
  operator: Operator;
  /** The number as written, compared exactly (decimal). */
  limit: string;
}

export type ThresholdSpec = Record<string, string[]>;

const SIMPLE_AGGREGATIONS = ['min', 'max', 'avg', 'med', 'count', 'rate', 'value'] as const;
const EXPRESSION_RE = /^([a-z]+)(?:\(\s*([^)]*?)\s*\))?\s*(<=|>=|===|==|!=|<|>)\s*(\S+)$/;
const NUMBER_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const METRIC_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*$/;

function parseExpression(metric: string, raw: string): ParsedThreshold | ThresholdProblem {
  const expression = raw.trim();
  const problem = (reason: string): ThresholdProblem => ({ metric, expression, reason });
  if (expression === '') return problem('the expression is empty');
  const m = EXPRESSION_RE.exec(expression.replace(/\s+(?=[(<>=!])/g, ''));
  if (!m) {
    if (/^p\s*\d/.test(expression)) return problem('write percentiles as p(N), e.g. "p(99)<200" (not "p99<200")');
    if (/^[a-z]+(\(.*\))?\s*=[^=]/.test(expression)) return problem('use "==" to compare for equality, e.g. "count==0"');
    if (!/(<=|>=|==|!=|<|>)/.test(expression)) return problem('no comparison operator found (expected one of <, <=, >, >=, ==, !=)');
    return problem('not of the form <aggregation><operator><number>');
  }
  const [, name, arg, op, num] = m;
  let aggregation: Aggregation;
  if (name === 'p') {
    if (arg === undefined) return problem('a percentile needs its level in parentheses, e.g. "p(99)<200"');
    if (!NUMBER_RE.test(arg)) return problem(`percentile level "${arg}" is not a number; write e.g. p(99) or p(99.9)`);
    const percentile = Number(arg);
    if (!(percentile >= 0 && percentile <= 100)) return problem(`percentile level ${arg} is outside 0..100`);
    aggregation = { kind: 'p', percentile };
  } else if ((SIMPLE_AGGREGATIONS as readonly string[]).includes(name)) {
    if (arg !== undefined) return problem(`"${name}" takes no argument; write e.g. "${name}<100"`);
    aggregation = { kind: name as (typeof SIMPLE_AGGREGATIONS)[number] };
  } else {
    const hint = /^p\d/.test(name) ? ' (write percentiles as p(N), e.g. "p(99)<200")' : '';
    return problem(`unknown aggregation "${name}"${hint}; use one of p(N), ${SIMPLE_AGGREGATIONS.join(', ')}`);
  }
  if (!NUMBER_RE.test(num)) return problem(`"${num}" is not a number`);
  const operator = (op === '===' ? '==' : op) as Operator;
  return { metric, expression, aggregation, operator, limit: num };
}

function isProblem(x: ParsedThreshold | ThresholdProblem): x is ThresholdProblem {
  return (x as ThresholdProblem).reason !== undefined;
}

/**
 * Parses and validates a threshold spec. Throws ThresholdSyntaxError listing every bad
 * expression (not just the first). A single string instead of an array is accepted.
 */
export function parseThresholds(spec: ThresholdSpec | Record<string, string[] | string>): ParsedThreshold[] {
  const out: ParsedThreshold[] = [];
  const problems: ThresholdProblem[] = [];
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    throw new ThresholdSyntaxError([
      { metric: '', expression: '', reason: 'thresholds of a scenario must be an object { "<metric>": ["<expression>", ...] }' },
    ]);
  }
  for (const [metric, value] of Object.entries(spec)) {
    if (!METRIC_NAME_RE.test(metric)) {
      problems.push({ metric, expression: '', reason: `"${metric}" is not a metric name (expected e.g. "latency.StartTransaction")` });
      continue;
    }
    const list = typeof value === 'string' ? [value] : value;
    if (!Array.isArray(list) || list.some((e) => typeof e !== 'string')) {
      problems.push({ metric, expression: String(value), reason: 'expected an array of expression strings, e.g. ["p(99)<200"]' });
      continue;
    }
    for (const raw of list) {
      const r = parseExpression(metric, raw);
      if (isProblem(r)) problems.push(r);
      else out.push(r);
    }
  }
  if (problems.length) throw new ThresholdSyntaxError(problems);
  return out;
}

/**
 * Parses the command-line form `<metric>:<expression>`, e.g. `latency.StartTransaction:p(99)<200`.
 * Several expressions for one metric may be separated by commas: `latency.Heartbeat:p(99)<50,max<500`.
 */
export function parseThresholdArg(arg: string): ThresholdSpec {
  const i = arg.indexOf(':');
  if (i <= 0 || i === arg.length - 1) {
    throw new ThresholdSyntaxError([
      {
        metric: i > 0 ? arg.slice(0, i) : '',
        expression: arg,
        reason: "a --threshold is written <metric>:<expression>, e.g. --threshold 'latency.StartTransaction:p(99)<200'",
      },
    ]);
  }
  const metric = arg.slice(0, i).trim();
  const expressions = arg
    .slice(i + 1)
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  const spec = { [metric]: expressions };
  parseThresholds(spec); // validate now so the error points at the argument
  return spec;
}

/** Parses several --threshold arguments into one spec. */
export function parseThresholdArgs(args: string[]): ThresholdSpec {
  return mergeThresholdSpecs(...args.map(parseThresholdArg));
}

/** Concatenates specs (e.g. the scenario's own plus command-line ones); duplicates are dropped. */
export function mergeThresholdSpecs(...specs: Array<ThresholdSpec | undefined>): ThresholdSpec {
  const out: ThresholdSpec = {};
  for (const spec of specs) {
    if (!spec) continue;
    for (const [metric, list] of Object.entries(spec)) {
      const target = (out[metric] ??= []);
      for (const e of typeof list === 'string' ? [list] : list) if (!target.includes(e)) target.push(e);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Metrics

export type MetricKind = 'trend' | 'counter' | 'rate' | 'gauge';

export type Metric =
  | {
      kind: 'trend';
      count: number;
      /** ms; undefined when the percentile cannot be known (stats without a histogram). */
      percentile(p: number): number | undefined;
      min: number | undefined;
      max: number;
      avg: number;
    }
  | { kind: 'counter'; count: number }
  | { kind: 'rate'; passes: number; total: number }
  /** A decimal string is compared exactly (money). */
  | { kind: 'gauge'; value: number | string };

/** Resolves metric names for evaluateThresholds. */
export interface MetricSource {
  get(name: string): Metric | undefined;
  /** All names this source knows, for error messages. */
  names(): string[];
}

const AGGREGATIONS_BY_KIND: Record<MetricKind, ReadonlyArray<Aggregation['kind']>> = {
  trend: ['p', 'min', 'max', 'avg', 'med', 'count'],
  counter: ['count', 'value'],
  rate: ['rate'],
  gauge: ['value', 'min', 'max'],
};

/** A trend metric from a histogram of MICROSECONDS (values reported in ms). */
export function trendFromHistogram(h: Histogram): Metric {
  const empty = h.totalCount === 0;
  return {
    kind: 'trend',
    count: h.totalCount,
    percentile: (p) => percentileMs(h, p),
    min: empty ? 0 : percentileMs(h, 0),
    max: empty ? 0 : microsToMs(h.maxValue),
    avg: empty ? 0 : Math.round(h.mean) / 1000,
  };
}

/** A trend metric from summary stats only: p50/p90/p99/p99.9 known, other percentiles not. */
export function trendFromStats(s: LatencyStats): Metric {
  const known: Record<string, number> = { '50': s.p50, '90': s.p90, '99': s.p99, '99.9': s.p999, '100': s.max };
  return {
    kind: 'trend',
    count: s.count,
    percentile: (p) => (s.count === 0 ? 0 : known[String(p)]),
    min: s.count === 0 ? 0 : undefined,
    max: s.max,
    avg: s.mean,
  };
}

export interface MetricSourceInput {
  summary: Summary;
  /** Merged latency histograms per action (µs, encoded or decoded). Without them, summary.latencyMs is used. */
  latency?: Record<string, Histogram | string>;
  /** Merged service-time histograms per action (µs). Without them, summary.serviceTimeMs is used. */
  serviceTime?: Record<string, Histogram | string>;
  /** Further metrics a scenario defines itself. */
  extra?: Record<string, Metric>;
}

/**
 * The standard metrics of a run:
 * latency.<Action>, service_time.<Action> (trend, ms), latency and service_time over all actions
 * (only when histograms are given), sessions.{truth,billed,matched,mismatched,missing,duplicate,unexpected},
 * calls.errors, calls.timeouts, calls.total, dropped, turnedAway, reconnects, transactions (counter),
 * checks (rate = passed fraction), billing.maxAbsError (gauge, exact decimal).
 */
export function buildMetricSource(input: MetricSourceInput): MetricSource {
  const { summary } = input;
  const metrics = new Map<string, Metric>();
  const addTrends = (prefix: string, hists: Record<string, Histogram | string> | undefined, stats: Record<string, LatencyStats> | undefined) => {
    if (hists) {
      const decoded: Record<string, Histogram> = {};
      for (const [action, h] of Object.entries(hists)) {
        decoded[action] = typeof h === 'string' ? decodeHistogram(h) : h;
        metrics.set(`${prefix}.${action}`, trendFromHistogram(decoded[action]));
      }
      if (Object.keys(decoded).length) metrics.set(prefix, trendFromHistogram(mergeAllActions(decoded)));
    } else if (stats) {
      for (const [action, s] of Object.entries(stats)) metrics.set(`${prefix}.${action}`, trendFromStats(s));
    }
  };
  addTrends('latency', input.latency, summary.latencyMs);
  addTrends('service_time', input.serviceTime, summary.serviceTimeMs);

  const s = summary.sessions;
  for (const k of ['truth', 'billed', 'matched', 'mismatched', 'missing', 'duplicate', 'unexpected'] as const) {
    if (typeof s?.[k] === 'number') metrics.set(`sessions.${k}`, { kind: 'counter', count: s[k] });
  }
  const c = summary.counters;
  if (c) {
    metrics.set('calls.errors', { kind: 'counter', count: c.callErrors });
    metrics.set('calls.timeouts', { kind: 'counter', count: c.timeouts });
    metrics.set('dropped', { kind: 'counter', count: c.dropped });
    // Summaries from before drivers turned away were counted apart have no such figure.
    if (typeof c.turnedAway === 'number') metrics.set('turnedAway', { kind: 'counter', count: c.turnedAway });
    metrics.set('reconnects', { kind: 'counter', count: c.reconnects });
  }
  if (summary.throughput) {
    metrics.set('calls.total', { kind: 'counter', count: summary.throughput.calls });
    metrics.set('transactions', { kind: 'counter', count: summary.throughput.transactions });
  }
  const checks = summary.checks ?? [];
  metrics.set('checks', { kind: 'rate', passes: checks.filter((x) => x.passed).length, total: checks.length });
  if (summary.billing) metrics.set('billing.maxAbsError', { kind: 'gauge', value: summary.billing.maxAbsError });
  for (const [name, m] of Object.entries(input.extra ?? {})) metrics.set(name, m);

  return {
    get: (name) => metrics.get(name),
    names: () => [...metrics.keys()].sort(),
  };
}

/** Metric families a scenario may name before the run exists (for an early, static check). */
export const STATIC_METRIC_NAMES: readonly string[] = [
  'latency',
  'service_time',
  'sessions.truth',
  'sessions.billed',
  'sessions.matched',
  'sessions.mismatched',
  'sessions.missing',
  'sessions.duplicate',
  'sessions.unexpected',
  'calls.errors',
  'calls.timeouts',
  'calls.total',
  'dropped',
  'turnedAway',
  'reconnects',
  'transactions',
  'checks',
  'billing.maxAbsError',
];

/**
 * Validates a spec before a run: syntax, and that each metric is a standard one or
 * latency.<Action> / service_time.<Action>. Throws ThresholdSyntaxError or UnknownMetricError.
 * Whether the action is actually called is only known after the run (evaluateThresholds).
 */
export function checkThresholdSpec(spec: ThresholdSpec, extraMetrics: string[] = []): ParsedThreshold[] {
  const parsed = parseThresholds(spec);
  const known = new Set([...STATIC_METRIC_NAMES, ...extraMetrics]);
  const unknown = [...new Set(parsed.map((t) => t.metric).filter((m) => !known.has(m) && !/^(latency|service_time)\.[A-Za-z0-9_]+$/.test(m)))];
  if (unknown.length) {
    throw new UnknownMetricError(unknown, [...STATIC_METRIC_NAMES, 'latency.<Action>', 'service_time.<Action>', ...extraMetrics]);
  }
  return parsed;
}

// ---------------------------------------------------------------------------------------------
// Evaluation

function aggregate(metric: Metric, agg: Aggregation): number | string | undefined {
  switch (metric.kind) {
    case 'trend':
      switch (agg.kind) {
        case 'p':
          return metric.percentile(agg.percentile);
        case 'med':
          return metric.percentile(50);
        case 'min':
          return metric.min;
        case 'max':
          return metric.max;
        case 'avg':
          return metric.avg;
        case 'count':
          return metric.count;
      }
      return undefined;
    case 'counter':
      return metric.count;
    case 'rate':
      return metric.total === 0 ? 0 : metric.passes / metric.total;
    case 'gauge':
      return metric.value;
  }
}

function compare(actual: Decimal, op: Operator, limit: Decimal): boolean {
  const c = actual.comparedTo(limit);
  switch (op) {
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
    case '==':
      return c === 0;
    case '!=':
      return c !== 0;
  }
}

/**
 * Evaluates every threshold of `spec` against `metrics`. Throws ThresholdSyntaxError for a bad
 * expression, UnknownMetricError for a metric `metrics` does not know, and
 * UnsupportedAggregationError for e.g. "p(95)" on a counter, or a percentile that summary stats
 * without histograms cannot answer. A trend without samples fails every threshold except on count.
 */
export function evaluateThresholds(spec: ThresholdSpec, metrics: MetricSource): ThresholdResult[] {
  const parsed = parseThresholds(spec);
  const unknown = [...new Set(parsed.map((t) => t.metric).filter((m) => metrics.get(m) === undefined))];
  if (unknown.length) throw new UnknownMetricError(unknown, metrics.names());

  const problems: ThresholdProblem[] = [];
  const results: ThresholdResult[] = [];
  for (const t of parsed) {
    const metric = metrics.get(t.metric)!;
    const allowed = AGGREGATIONS_BY_KIND[metric.kind];
    if (!allowed.includes(t.aggregation.kind)) {
      problems.push({
        metric: t.metric,
        expression: t.expression,
        reason: `"${t.metric}" is a ${metric.kind} metric; use ${allowed.map((a) => (a === 'p' ? 'p(N)' : a)).join(', ')}`,
      });
      continue;
    }
    const actual = aggregate(metric, t.aggregation);
    if (actual === undefined) {
      problems.push({
        metric: t.metric,
        expression: t.expression,
        reason:
          'this value is not in summary stats (only p(50), p(90), p(99), p(99.9), max, avg, count); ' +
          'evaluate with the merged histograms to use any percentile or min',
      });
      continue;
    }
    const noSamples = metric.kind === 'trend' && metric.count === 0 && t.aggregation.kind !== 'count';
    const passed = !noSamples && compare(new Decimal(actual), t.operator, new Decimal(t.limit));
    const result: ThresholdResult = {
      metric: t.metric,
      expression: t.expression,
      passed,
      actual: typeof actual === 'string' ? Number(actual) : actual,
    };
    if (noSamples) result.note = 'no samples recorded for this metric';
    results.push(result);
  }
  if (problems.length) throw new UnsupportedAggregationError(problems);
  return results;
}

/** True when every threshold passed (an empty list passes). */
export function allThresholdsPassed(results: ThresholdResult[]): boolean {
  return results.every((r) => r.passed);
}
