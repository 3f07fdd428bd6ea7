// report.html: one self-contained file (Chart.js inlined, data embedded as JSON, a CSP that
// forbids any network access), so it opens offline from a CI artifact.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { LatencyStats, ReconciliationRow, RunReport, Summary, TimelinePoint } from './model.js';
import { escapeHtml, formatDuration, formatMs, formatNumber, formatRate, jsonForScript } from './format.js';
import { memoryText } from './memory.js';
import { countByStatus, sortWorstFirst } from './reconciliation.js';
import { CHART_SCRIPT } from './html-client.js';

export interface HtmlReportOptions {
  /** Reconciliation rows shown (worst first). Default 200. */
  maxReconciliationRows?: number;
  /** Chart library source to inline; default: chart.js's UMD build from node_modules. */
  chartLibrarySource?: string | null;
}

let cachedChartSource: string | null | undefined;

/**
 * The Chart.js UMD build (dist/chart.umd.min.js, else chart.umd.js) as text, or null when
 * chart.js is not installed. Cached after the first call.
 */
export function loadChartLibrarySource(): string | null {
  if (cachedChartSource !== undefined) return cachedChartSource;
  try {
    const require = createRequire(import.meta.url);
    const dist = dirname(require.resolve('chart.js')); // .../chart.js/dist/chart.cjs
    let src: string | null = null;
    for (const name of ['chart.umd.min.js', 'chart.umd.js']) {
      try {
        src = readFileSync(join(dist, name), 'utf8');
        break;
      } catch {
        // try the next name
      }
    }
    cachedChartSource = src;
  } catch {
    cachedChartSource = null;
  }
  return cachedChartSource;
}

/** Makes arbitrary JS safe to inline in a <script> element. */
function inlineScript(src: string): string {
  return src.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

/** The chart data the page script reads: the timeline as columns, to keep the file small. */
export function chartData(report: RunReport): unknown {
  const tl: TimelinePoint[] = report.timeline ?? [];
  const col = <K extends keyof TimelinePoint>(k: K) => tl.map((p) => p[k]);
  return {
    scenario: report.summary.scenario,
    timeline: {
      t: tl.map((p) => Math.round(p.wallMs) / 1000),
      callsPerSec: col('callsPerSec'),
      transactionsPerSec: col('transactionsPerSec'),
      chargersConnected: col('chargersConnected'),
      sessionsActive: col('sessionsActive'),
      sessionsDone: col('sessionsDone'),
      errors: col('errors'),
      dropped: col('dropped'),
      p50: col('p50'),
      p90: col('p90'),
      p99: col('p99'),
    },
    latencyDistribution: report.latencyDistribution ?? {},
    errorsByKind: report.errorsByKind ?? {},
  };
}

const CSS = `
:root { --ok: #15803d; --bad: #b91c1c; --muted: #64748b; --line: #e2e8f0; --bg: #f8fafc; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #0f172a; margin: 0; background: #fff; }
header { padding: 20px 28px; border-bottom: 1px solid var(--line); background: var(--bg); }
header h1 { margin: 0 0 4px; font-size: 22px; }
.badge { display: inline-block; padding: 2px 10px; border-radius: 999px; color: #fff; font-weight: 600; font-size: 13px; vertical-align: middle; margin-left: 8px; }
.badge.badge-pass { background: var(--ok); } .badge.badge-fail { background: var(--bad); }
.meta { color: var(--muted); }
main { padding: 8px 28px 40px; max-width: 1400px; }
section { margin-top: 24px; }
h2 { font-size: 17px; margin: 0 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 10px; margin-top: 14px; }
.figure { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 8px 12px; }
.figure .label { color: var(--muted); font-size: 12px; }
.figure .value { font-size: 18px; font-weight: 600; font-variant-numeric: tabular-nums; }
.figure.bad .value { color: var(--bad); }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 18px; }
figure { margin: 0; border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
figcaption { font-weight: 600; margin-bottom: 6px; }
.chart-box { position: relative; height: 280px; }
.no-data { color: var(--muted); margin: 6px 0 0; font-style: italic; }
.chart-error, .warning { color: var(--bad); }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: right; vertical-align: top; }
th { background: var(--bg); font-weight: 600; }
td.l, th.l { text-align: left; }
td.nowrap { white-space: nowrap; }
td.detail { text-align: left; color: #334155; max-width: 560px; word-break: break-word; }
.ok { color: var(--ok); font-weight: 700; } .fail { color: var(--bad); font-weight: 700; }
tr.status-matched td.status { color: var(--ok); }
tr.status-mismatched td.status, tr.status-missing td.status, tr.status-duplicate td.status, tr.status-unexpected td.status { color: var(--bad); font-weight: 600; }
.note { color: var(--muted); margin: 6px 0; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 13px; }
@media print { .charts { grid-template-columns: 1fr; } }
`;

function figure(label: string, value: string, bad = false): string {
  return `<div class="figure${bad ? ' bad' : ''}"><div class="label">${escapeHtml(label)}</div><div class="value">${escapeHtml(value)}</div></div>`;
}

function header(s: Summary): string {
  const verdict = s.passed ? '<span class="badge badge-pass">PASSED</span>' : '<span class="badge badge-fail">FAILED</span>';
  const failedChecks = (s.checks ?? []).filter((c) => !c.passed).length;
  const failedThresholds = (s.thresholds ?? []).filter((t) => !t.passed).length;
  const money = (v: string) => `${v} ${s.billing.currency}`;
  const figures = [
    figure('sessions (truth / billed)', `${formatNumber(s.sessions.truth)} / ${formatNumber(s.sessions.billed)}`),
    figure('matched', formatNumber(s.sessions.matched)),
    figure('mismatched', formatNumber(s.sessions.mismatched), s.sessions.mismatched > 0),
    figure('missing', formatNumber(s.sessions.missing), s.sessions.missing > 0),
    figure('duplicate', formatNumber(s.sessions.duplicate), s.sessions.duplicate > 0),
    figure('expected total', money(s.billing.expectedTotal)),
    figure('billed total', money(s.billing.billedTotal)),
    figure('max abs error', money(s.billing.maxAbsError), !/^[0.]*$/.test(s.billing.maxAbsError)),
    figure('calls/s', formatRate(s.throughput.callsPerSec)),
    figure('transactions/s', formatRate(s.throughput.transactionsPerSec)),
    figure(
      'call errors / timeouts',
      `${formatNumber(s.counters.callErrors)} / ${formatNumber(s.counters.timeouts)}`,
      s.counters.callErrors + s.counters.timeouts > 0,
    ),
    figure('dropped', formatNumber(s.counters.dropped), s.counters.dropped > 0),
    // Demand the site could not serve: a business figure, never shown as a failure.
    ...(typeof s.counters.turnedAway === 'number' ? [figure('drivers turned away', formatNumber(s.counters.turnedAway))] : []),
    figure('checks failed', `${failedChecks} of ${(s.checks ?? []).length}`, failedChecks > 0),
    figure('thresholds failed', `${failedThresholds} of ${(s.thresholds ?? []).length}`, failedThresholds > 0),
  ];
  const backendCpu = s.resources?.backendCpuMicrosPerCall;
  const backendDisk = s.resources?.backendDiskBytesPerTransaction;
  const fleetWait = s.resources?.fleetThreadsWaitingForCpu;
  const backendWait = s.resources?.backendThreadsWaitingForCpu;
  const memory = memoryText(s.resources);
  return `<header>
<h1>chargebench · ${escapeHtml(s.scenario)} ${verdict}</h1>
<div class="meta">target ${escapeHtml(s.target)} · seed ${escapeHtml(String(s.seed))} · ${formatNumber(s.chargers)} chargers / ${formatNumber(s.connectors)} connectors · ${s.workers} workers · started ${escapeHtml(s.startedAt)} · wall ${escapeHtml(formatDuration(s.wallMs))} · sim from ${escapeHtml(s.simStart)} at ${escapeHtml(String(s.simSpeed))}x${
    s.resources
      ? ` · CPU/call fleet ${formatNumber(s.resources.fleetCpuMicrosPerCall, 1)} µs, back end ${backendCpu === null || backendCpu === undefined ? 'n/a' : `${formatNumber(backendCpu, 1)} µs`}${
          typeof backendDisk === 'number' ? ` · back-end disk writes ${formatNumber(backendDisk / 1024, 1)} KB per transaction` : ''
        }${
          typeof fleetWait === 'number'
            ? ` · threads waiting for a core: fleet ${formatNumber(fleetWait, 2)}, back end ${typeof backendWait === 'number' ? formatNumber(backendWait, 2) : 'n/a'}`
            : ''
        }${memory !== null ? ` · fleet memory ${escapeHtml(memory)}` : ''}`
      : ''
  }</div>
<div class="figures">${figures.join('')}</div>
</header>`;
}

function chart(id: string, kind: string, caption: string, emptyMessage: string): string {
  return `<figure><figcaption>${escapeHtml(caption)}</figcaption><div class="chart-box"><canvas id="${id}" data-chart="${kind}" data-empty-message="${escapeHtml(emptyMessage)}" role="img" aria-label="${escapeHtml(caption)}"></canvas></div></figure>`;
}

function latencyTable(title: string, stats: Record<string, LatencyStats> | undefined, what: string): string {
  const actions = Object.keys(stats ?? {}).sort();
  if (!stats || actions.length === 0) return `<h3>${escapeHtml(title)}</h3><p class="no-data">No calls recorded.</p>`;
  const rows = actions
    .map((a) => {
      const s = stats[a];
      return `<tr><td class="l">${escapeHtml(a)}</td><td>${formatNumber(s.count)}</td><td>${formatMs(s.p50)}</td><td>${formatMs(s.p90)}</td><td>${formatMs(s.p99)}</td><td>${formatMs(s.p999)}</td><td>${formatMs(s.max)}</td><td>${formatMs(s.mean)}</td></tr>`;
    })
    .join('\n');
  return `<h3>${escapeHtml(title)}</h3><p class="note">${escapeHtml(what)}</p>
<table><thead><tr><th class="l">action</th><th>count</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>max ms</th><th>mean ms</th></tr></thead>
<tbody>${rows}</tbody></table>`;
}

function passMark(passed: boolean): string {
  return passed ? '<span class="ok">✓</span>' : '<span class="fail">✗</span>';
}

function checksTable(s: Summary): string {
  const checks = s.checks ?? [];
  const thresholds = s.thresholds ?? [];
  const checkRows = checks.length
    ? checks
        .map(
          (c) =>
            `<tr><td class="l">${passMark(c.passed)}</td><td class="l">${escapeHtml(c.name)}</td><td class="detail">${escapeHtml(c.detail ?? '')}</td></tr>`,
        )
        .join('\n')
    : '<tr><td class="l" colspan="3"><span class="no-data">No checks.</span></td></tr>';
  const thresholdRows = thresholds.length
    ? thresholds
        .map(
          (t) =>
            `<tr><td class="l">${passMark(t.passed)}</td><td class="l"><code>${escapeHtml(t.metric)}</code></td><td class="l"><code>${escapeHtml(t.expression)}</code></td><td>${escapeHtml(formatNumber(t.actual, 3))}</td><td class="detail">${escapeHtml(t.note ?? '')}</td></tr>`,
        )
        .join('\n')
    : '<tr><td class="l" colspan="5"><span class="no-data">No thresholds.</span></td></tr>';
  return `<h3>Checks (${checks.filter((c) => c.passed).length}/${checks.length} passed)</h3>
<table id="checks-table"><thead><tr><th class="l"></th><th class="l">check</th><th class="l">detail</th></tr></thead><tbody>${checkRows}</tbody></table>
<h3>Thresholds (${thresholds.filter((t) => t.passed).length}/${thresholds.length} passed)</h3>
<table id="thresholds-table"><thead><tr><th class="l"></th><th class="l">metric</th><th class="l">expression</th><th>actual</th><th class="l">note</th></tr></thead><tbody>${thresholdRows}</tbody></table>`;
}

function errorsTable(errors: Record<string, number>): string {
  const kinds = Object.keys(errors)
    .filter((k) => errors[k] > 0)
    .sort((a, b) => errors[b] - errors[a] || a.localeCompare(b));
  if (kinds.length === 0) return '';
  return `<table id="errors-table"><thead><tr><th class="l">kind</th><th>count</th></tr></thead><tbody>${kinds
    .map((k) => `<tr><td class="l">${escapeHtml(k)}</td><td>${formatNumber(errors[k])}</td></tr>`)
    .join('')}</tbody></table>`;
}

function reconciliationTable(rows: readonly ReconciliationRow[], currency: string, limit: number): string {
  if (rows.length === 0) return '<p class="no-data">No sessions to reconcile.</p>';
  const counts = countByStatus(rows);
  const sorted = sortWorstFirst(rows);
  const shown = sorted.slice(0, Math.max(0, limit));
  const more = sorted.length - shown.length;
  const summaryLine = (Object.keys(counts) as Array<keyof typeof counts>)
    .filter((k) => counts[k] > 0)
    .map((k) => `${formatNumber(counts[k])} ${k}`)
    .join(', ');
  const body = shown
    .map(
      (r, i) =>
        `<tr class="status-${escapeHtml(r.status)}"><td>${i + 1}</td><td class="l nowrap">${escapeHtml(r.chargerId)}</td><td>${r.connectorId}</td><td class="l nowrap">${escapeHtml(r.startAt)}</td><td class="l status">${escapeHtml(r.status)}</td><td>${escapeHtml(r.expectedTotal ?? '—')}</td><td>${escapeHtml(r.billedTotal ?? '—')}</td><td>${escapeHtml(r.absError)}</td><td class="detail">${escapeHtml(r.detail)}</td></tr>`,
    )
    .join('\n');
  const moreNote =
    more > 0
      ? `<p class="note" id="reconciliation-more">Showing the ${formatNumber(shown.length)} worst of ${formatNumber(sorted.length)} sessions; ${formatNumber(more)} more not shown.</p>`
      : '';
  return `<p class="note">${escapeHtml(summaryLine)} · amounts in ${escapeHtml(currency)} incl. VAT, worst first</p>
<table id="reconciliation-table"><thead><tr><th>#</th><th class="l">charger</th><th>connector</th><th class="l">start</th><th class="l">status</th><th>expected</th><th>billed</th><th>|error|</th><th class="l">detail</th></tr></thead>
<tbody>${body}</tbody></table>${moreNote}`;
}

/** The complete HTML document. */
export function renderHtmlReport(report: RunReport, opts: HtmlReportOptions = {}): string {
  const s = report.summary;
  const chartSource = opts.chartLibrarySource === undefined ? loadChartLibrarySource() : opts.chartLibrarySource;
  const limit = opts.maxReconciliationRows ?? 200;
  const libraryWarning = chartSource
    ? ''
    : '<p class="warning">The chart library (chart.js) was not found when this report was written; charts are replaced by notes.</p>';
  const title = `chargebench · ${s.scenario} · ${s.passed ? 'PASSED' : 'FAILED'}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; font-src data:">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body data-passed="${s.passed ? 'true' : 'false'}">
${header(s)}
<main>
${libraryWarning}
<section id="charts">
<h2>Over time</h2>
<div class="charts">
${chart('chart-throughput', 'throughput', 'Throughput (calls/s, transactions/s)', 'No timeline data')}
${chart('chart-fleet', 'fleet', 'Connected chargers and active sessions', 'No timeline data')}
${chart('chart-latency-time', 'latency-time', 'Latency percentiles per interval, all actions (ms)', 'No timeline data')}
</div>
</section>
<section id="latency">
<h2>Latency</h2>
<div class="charts">
${chart('chart-latency-distribution', 'latency-distribution', 'Latency percentile distribution per action (ms)', 'No latency data')}
</div>
${latencyTable('Latency per action', s.latencyMs, 'Measured from the planned send time (includes any wait caused by a slow server).')}
${latencyTable('Service time per action', s.serviceTimeMs, 'Measured from the actual send time.')}
</section>
<section id="errors">
<h2>Errors by kind</h2>
<div class="charts">
${chart('chart-errors', 'errors', 'Errors by kind', 'No errors')}
</div>
${errorsTable(report.errorsByKind ?? {})}
</section>
<section id="verdicts">
<h2>Checks and thresholds</h2>
${checksTable(s)}
</section>
<section id="reconciliation">
<h2>Billing reconciliation</h2>
${reconciliationTable(report.reconciliation ?? [], s.billing.currency, limit)}
</section>
</main>
<script type="application/json" id="report-data">${jsonForScript(chartData(report))}</script>
${chartSource ? `<script>${inlineScript(chartSource)}</script>` : ''}
<script>${inlineScript(CHART_SCRIPT)}</script>
</body>
</html>
`;
}
