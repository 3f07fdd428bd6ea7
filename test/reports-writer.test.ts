import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeReports } from '../reports/summary-writer.js';
import { renderHtmlReport } from '../reports/html.js';
import { buildSampleRunReport } from '../reports/sample-report.js';

describe('writeReports', () => {
  it('creates the folder and writes summary.json, junit.xml and report.html', async () => {
    const base = await mkdtemp(join(tmpdir(), 'chargebench-writer-'));
    const dir = join(base, 'nested', 'run-1');
    const report = buildSampleRunReport({ durationSec: 5, sessions: 12 });
    const paths = await writeReports(dir, report);
    expect(paths).toEqual({
      summaryPath: join(dir, 'summary.json'),
      junitPath: join(dir, 'junit.xml'),
      htmlPath: join(dir, 'report.html'),
    });
    expect((await readdir(dir)).sort()).toEqual(['junit.xml', 'report.html', 'summary.json']);
    const json = await readFile(paths.summaryPath, 'utf8');
    expect(json).toMatch(/^{\n {2}"scenario": "sample-benchmark",/);
    expect(json.endsWith('}\n')).toBe(true);
    expect(JSON.parse(json)).toEqual(report.summary);
    expect(await readFile(paths.junitPath, 'utf8')).toContain('<testsuites');
    expect(await readFile(paths.htmlPath, 'utf8')).toMatch(/^<!doctype html>/);
  });
});

describe('report.html as text', () => {
  it('is self-contained: no external references, chart library inlined, data JSON without "<"', () => {
    const report = buildSampleRunReport({ durationSec: 5, sessions: 12 });
    report.errorsByKind['</script><script>alert(1)</script>'] = 3;
    report.summary.checks[0].detail = '<img src=x onerror=alert(1)>';
    const html = renderHtmlReport(report);
    expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).toContain('Content-Security-Policy" content="default-src \'none\'');
    expect(html).toMatch(/Chart\.js v4/); // the UMD banner
    const data = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html)![1];
    expect(data).not.toContain('<');
    expect(JSON.parse(data).errorsByKind['</script><script>alert(1)</script>']).toBe(3);
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect((html.match(/<canvas /g) ?? []).length).toBe(5);
    for (const id of ['chart-throughput', 'chart-fleet', 'chart-latency-time', 'chart-latency-distribution', 'chart-errors']) {
      expect(html).toMatch(new RegExp(`<canvas id="${id}" data-chart="[a-z-]+"`));
    }
  });

  it('limits the reconciliation table and puts the worst first', () => {
    const report = buildSampleRunReport({ durationSec: 3, sessions: 250 });
    const html = renderHtmlReport(report, { maxReconciliationRows: 20 });
    const table = /<table id="reconciliation-table">[\s\S]*?<\/table>/.exec(html)![0];
    expect((table.match(/<tr class="status-/g) ?? []).length).toBe(20);
    expect(html).toContain('Showing the 20 worst of 250 sessions; 230 more not shown.');
    const errors = [...table.matchAll(/<td>([\d.]+)<\/td><td class="detail">/g)].map((m) => Number(m[1]));
    expect(errors).toEqual([...errors].sort((a, b) => b - a));
  });

  it('still renders without the chart library, saying so', () => {
    const html = renderHtmlReport(buildSampleRunReport({ durationSec: 2, sessions: 2 }), { chartLibrarySource: null });
    expect(html).toContain('chart library (chart.js) was not found');
  });
});
