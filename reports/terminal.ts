// What a person sees in the terminal: the live progress while a run goes, the summary at its end.

import type { LatencyStats, Summary, TimelinePoint } from './model.js';
import { formatClock, formatDuration, formatMs, formatNumber, formatRate, textTable } from './format.js';
import { memoryText } from './memory.js';

export interface TerminalOptions {
  /** ANSI colours (green/red marks). Default false. */
  color?: boolean;
}

const ANSI = { green: '\x1b[32m', red: '\x1b[31m', bold: '\x1b[1m', dim: '\x1b[2m', reset: '\x1b[0m' };

function paint(on: boolean | undefined, code: string, s: string): string {
  return on ? `${code}${s}${ANSI.reset}` : s;
}

function mark(passed: boolean, color?: boolean): string {
  return passed ? paint(color, ANSI.green, '✓') : paint(color, ANSI.red, '✗');
}

function latencyRows(stats: Record<string, LatencyStats>): string[][] {
  return Object.keys(stats)
    .sort()
    .map((action) => {
      const s = stats[action];
      return [action, formatNumber(s.count), formatMs(s.p50), formatMs(s.p90), formatMs(s.p99), formatMs(s.p999), formatMs(s.max), formatMs(s.mean)];
    });
}

const LATENCY_HEADER = ['action', 'count', 'p50', 'p90', 'p99', 'p99.9', 'max', 'mean'];

/** A readable end-of-run summary, several lines, no trailing newline. */
export function formatTerminalSummary(summary: Summary, opts: TerminalOptions = {}): string {
  const c = opts.color;
  const out: string[] = [];
  const verdict = summary.passed ? paint(c, ANSI.green, 'PASSED') : paint(c, ANSI.red, 'FAILED');
  out.push(`${paint(c, ANSI.bold, `scenario ${summary.scenario}`)}  ${mark(summary.passed, c)} ${verdict}`);
  out.push(
    `  target ${summary.target}, seed ${summary.seed}, ${formatNumber(summary.chargers)} chargers / ${formatNumber(summary.connectors)} connectors on ${summary.workers} worker${summary.workers === 1 ? '' : 's'}`,
  );
  out.push(`  wall ${formatDuration(summary.wallMs)}, sim from ${summary.simStart} at ${summary.simSpeed}x`);
  if (summary.shard) out.push(`  shard ${summary.shard.index}/${summary.shard.count}: this process's slice of the fleet only`);
  if (summary.shards) out.push(`  merged from ${summary.shards} shard result${summary.shards === 1 ? '' : 's'}`);

  const s = summary.sessions;
  out.push('');
  out.push(
    `sessions   truth ${formatNumber(s.truth)}, billed ${formatNumber(s.billed)}, matched ${formatNumber(s.matched)}, ` +
      `mismatched ${formatNumber(s.mismatched)}, missing ${formatNumber(s.missing)}, duplicate ${formatNumber(s.duplicate)}, unexpected ${formatNumber(s.unexpected ?? 0)}`,
  );
  const b = summary.billing;
  out.push(`billing    expected ${b.expectedTotal} ${b.currency}, billed ${b.billedTotal} ${b.currency}, max abs error ${b.maxAbsError} ${b.currency}`);
  const t = summary.throughput;
  out.push(
    `throughput ${formatRate(t.callsPerSec)} calls/s (${formatNumber(t.calls)} calls), ${formatRate(t.transactionsPerSec)} transactions/s (${formatNumber(t.transactions)})`,
  );
  const k = summary.counters;
  out.push(
    `errors     ${formatNumber(k.callErrors)} call errors, ${formatNumber(k.timeouts)} timeouts, ${formatNumber(k.dropped)} dropped, ${formatNumber(k.reconnects)} reconnects`,
  );
  if (typeof k.turnedAway === 'number') out.push(`demand     ${formatNumber(k.turnedAway)} drivers turned away (every connector busy, or the charger down)`);
  const r = summary.resources;
  if (r) {
    const backend = r.backendCpuMicrosPerCall === null ? 'n/a' : `${formatNumber(r.backendCpuMicrosPerCall, 1)} µs`;
    const window = r.cpuWindow === 'steady' ? ' (steady window)' : '';
    // A run without calls in its window (an idle fleet) has no cost per call to show.
    if (t.calls > 0) out.push(`cpu/call   fleet ${formatNumber(r.fleetCpuMicrosPerCall, 1)} µs, back end ${backend}${window}`);
    if (typeof r.backendDiskBytesPerTransaction === 'number') {
      out.push(`disk       back end ${formatNumber(r.backendDiskBytesPerTransaction / 1024, 1)} KB written per transaction${window}`);
    }
    if (typeof r.fleetThreadsWaitingForCpu === 'number') {
      const be = typeof r.backendThreadsWaitingForCpu === 'number' ? formatNumber(r.backendThreadsWaitingForCpu, 2) : 'n/a';
      out.push(`cpu wait   threads ready but waiting for a core, on average: fleet ${formatNumber(r.fleetThreadsWaitingForCpu, 2)}, back end ${be}${window}`);
    }
    const memory = memoryText(r);
    if (memory !== null && typeof r.fleetRssBytes === 'number') {
      out.push(
        `memory     fleet ${memory} (RSS ${formatNumber(r.fleetRssBytes / 1048576, 1)} MB, ` +
          `${formatNumber((r.fleetRssBaselineBytes ?? 0) / 1048576, 1)} MB before the chargers)`,
      );
    }
  }
  if (summary.load)
    out.push(
      `load       ${summary.load.model}${summary.warmUpMs ? `, first ${formatDuration(summary.warmUpMs)} warm-up left out of latency, throughput and cpu/call` : ''}`,
    );
  if (typeof summary.chargersConnectedMax === 'number')
    out.push(`connected  at most ${formatNumber(summary.chargersConnectedMax)} of ${formatNumber(summary.chargers)} chargers at once`);
  const st = summary.steady;
  if (st) {
    out.push(
      `steady     ${formatDuration(st.toMs - st.fromMs)}: ${formatRate(st.callsPerSec)} calls/s, ${formatRate(st.transactionsPerSec)} transactions/s started, ` +
        `${formatRate(st.billedTransactionsPerSec)} billed transactions/s (${formatNumber(st.billedTransactions)}), ${formatNumber(st.dropped)} dropped` +
        (typeof st.turnedAway === 'number' ? `, ${formatNumber(st.turnedAway)} drivers turned away` : ''),
    );
  }

  out.push('');
  const lat = summary.latencyMs ?? {};
  if (Object.keys(lat).length) {
    out.push('latency (ms, from planned send time)');
    for (const line of textTable(LATENCY_HEADER, latencyRows(lat))) out.push(`  ${line}`);
  } else {
    out.push('latency: no calls recorded');
  }
  const svc = summary.serviceTimeMs ?? {};
  if (Object.keys(svc).length) {
    out.push('service time (ms, from actual send)');
    for (const line of textTable(LATENCY_HEADER, latencyRows(svc))) out.push(`  ${line}`);
  }

  const checks = summary.checks ?? [];
  out.push('');
  out.push(`checks (${checks.filter((x) => x.passed).length}/${checks.length} passed)`);
  for (const ch of checks) out.push(`  ${mark(ch.passed, c)} ${ch.name}${!ch.passed && ch.detail ? `: ${ch.detail}` : ''}`);
  const thresholds = summary.thresholds ?? [];
  if (thresholds.length) {
    out.push(`thresholds (${thresholds.filter((x) => x.passed).length}/${thresholds.length} passed)`);
    for (const th of thresholds) {
      out.push(`  ${mark(th.passed, c)} ${th.metric} ${th.expression}  (actual ${formatNumber(th.actual, 3)}${th.note ? `; ${th.note}` : ''})`);
    }
  } else if (summary.shard) {
    out.push('thresholds: judged on the merged result of all shards (chargebench report merge)');
  }
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Live progress

function percent(elapsed: number, total: number): number {
  return total > 0 ? Math.min(100, Math.max(0, Math.floor((elapsed / total) * 100))) : 0;
}

/**
 * One progress line, e.g.
 * `[00:25/01:00  41%] chargers 1,980 | sessions 312 active, 1,204 done | 1,523 calls/s | p99 98.2 ms | errors 0 | dropped 0`.
 * `errors` and `dropped` are shown as the point carries them (totals so far).
 */
export function formatProgressLine(point: TimelinePoint, totalMs: number): string {
  const clock = `${formatClock(point.wallMs)}/${formatClock(totalMs)} ${String(percent(point.wallMs, totalMs)).padStart(3)}%`;
  return (
    `[${clock}] chargers ${formatNumber(point.chargersConnected)} | ` +
    `sessions ${formatNumber(point.sessionsActive)} active, ${formatNumber(point.sessionsDone)} done | ` +
    `${formatRate(point.callsPerSec)} calls/s | p99 ${formatMs(point.p99)} ms | ` +
    `errors ${formatNumber(point.errors)} | dropped ${formatNumber(point.dropped)}`
  );
}

function bar(pct: number, width: number): string {
  const filled = Math.round((pct / 100) * width);
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
}

/** The multi-line block a TTY shows and rewrites in place. */
export function formatProgressBlock(point: TimelinePoint, totalMs: number, title = 'chargebench'): string[] {
  const pct = percent(point.wallMs, totalMs);
  return [
    `${title}  ${bar(pct, 24)} ${String(pct).padStart(3)}%  ${formatClock(point.wallMs)} / ${formatClock(totalMs)}  sim ${point.simTime}`,
    `  chargers ${formatNumber(point.chargersConnected)} connected   sessions ${formatNumber(point.sessionsActive)} active, ${formatNumber(point.sessionsDone)} done`,
    `  ${formatRate(point.callsPerSec)} calls/s   ${formatRate(point.transactionsPerSec)} tx/s   p99 ${formatMs(point.p99)} ms (last interval)   errors ${formatNumber(point.errors)}   dropped ${formatNumber(point.dropped)}`,
  ];
}

/** The part of a writable stream the progress display needs. */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  /** Terminal width; TTY lines are cut to it so that cursor-up counts stay right. */
  columns?: number;
}

export interface ProgressDisplayOptions {
  /** Planned duration of the run in wall ms (for elapsed/total). */
  totalMs: number;
  /** Where to write; default process.stderr (keeps stdout clean for data). */
  stream?: ProgressStream;
  /** Force TTY or line mode; default: stream.isTTY. */
  tty?: boolean;
  /** Line mode: print a line at most every this many ms of run time. Default 5000. */
  intervalMs?: number;
  /** Shown at the start of the TTY block. Default "chargebench". */
  title?: string;
}

/**
 * Live progress. On a TTY it keeps one status block and rewrites it in place (cursor up +
 * clear to end of screen). Elsewhere (CI logs, pipes) it prints one line every `intervalMs`
 * of run time, judged on the points' wallMs so it follows the run, not the machine's clock.
 */
export class ProgressDisplay {
  private readonly stream: ProgressStream;
  private readonly tty: boolean;
  private readonly intervalMs: number;
  private readonly totalMs: number;
  private readonly title: string;
  private linesOnScreen = 0;
  private lastPrintedAt: number | null = null;
  private last: TimelinePoint | null = null;
  private lastPrinted: TimelinePoint | null = null;
  private finished = false;

  constructor(opts: ProgressDisplayOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = opts.tty ?? Boolean(this.stream.isTTY);
    this.intervalMs = opts.intervalMs ?? 5000;
    this.totalMs = opts.totalMs;
    this.title = opts.title ?? 'chargebench';
  }

  get isTTY(): boolean {
    return this.tty;
  }

  /** Feed the latest merged point (about once a second). */
  update(point: TimelinePoint): void {
    if (this.finished) return;
    this.last = point;
    if (this.tty) {
      this.redraw(point);
    } else if (this.lastPrintedAt === null || point.wallMs - this.lastPrintedAt >= this.intervalMs) {
      this.printLine(point);
    }
  }

  /** Prints the final state (line mode: only if not yet printed) and stops updating. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (!this.last) return;
    if (this.tty) {
      this.redraw(this.last);
      this.linesOnScreen = 0;
    } else if (this.lastPrinted !== this.last) {
      this.printLine(this.last);
    }
  }

  /** On a TTY, erase the block (e.g. before printing the summary instead of it). */
  clear(): void {
    if (this.tty && this.linesOnScreen > 0) {
      this.stream.write(`\x1b[${this.linesOnScreen}A\r\x1b[0J`);
      this.linesOnScreen = 0;
    }
  }

  private redraw(point: TimelinePoint): void {
    const width = this.stream.columns;
    const lines = formatProgressBlock(point, this.totalMs, this.title).map((l) =>
      width && width > 1 && [...l].length >= width ? [...l].slice(0, width - 1).join('') : l,
    );
    const up = this.linesOnScreen > 0 ? `\x1b[${this.linesOnScreen}A\r\x1b[0J` : '';
    this.stream.write(`${up}${lines.join('\n')}\n`);
    this.linesOnScreen = lines.length;
  }

  private printLine(point: TimelinePoint): void {
    this.stream.write(`${formatProgressLine(point, this.totalMs)}\n`);
    this.lastPrintedAt = point.wallMs;
    this.lastPrinted = point;
  }
}
