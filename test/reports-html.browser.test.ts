/// <reference lib="dom" />
// Opens report.html in headless Chromium with the network blocked and checks that every chart
// was drawn from the embedded data (data-drawn, point counts, non-blank pixels).

import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildSampleRunReport } from '../reports/sample-report.js';
import { writeReports } from '../reports/summary-writer.js';
import type { RunReport } from '../reports/model.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const CHART_IDS = ['chart-throughput', 'chart-fleet', 'chart-latency-time', 'chart-latency-distribution', 'chart-errors'];

interface CanvasInfo {
  id: string;
  chart: string | null;
  drawn: string | null;
  points: number;
  nonBlank: number;
}

let browser: Browser;
let dir: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install it with "apt-get update && apt-get install -y chromium"`);
  }
  dir = await mkdtemp(join(tmpdir(), 'chargebench-html-'));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
});

afterAll(async () => {
  await browser?.close();
});

/** Opens the file with every non-file request aborted; returns the aborted URLs. */
async function openOffline(htmlPath: string): Promise<{ page: Page; blocked: string[]; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const blocked: string[] = [];
  const errors: string[] = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:')) return route.continue();
    blocked.push(url);
    return route.abort();
  });
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(pathToFileURL(htmlPath).href, { waitUntil: 'load' });
  await page.waitForFunction((ids: string[]) => ids.every((id) => document.getElementById(id)?.getAttribute('data-drawn')), CHART_IDS, { timeout: 10_000 });
  return { page, blocked, errors };
}

function inspectCanvases(page: Page): Promise<CanvasInfo[]> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll('canvas')).map((c) => {
      const ctx = c.getContext('2d');
      let nonBlank = 0;
      if (ctx && c.width > 0 && c.height > 0) {
        const px = ctx.getImageData(0, 0, c.width, c.height).data;
        for (let i = 3; i < px.length; i += 4) if (px[i] !== 0) nonBlank++;
      }
      return {
        id: c.id,
        chart: c.getAttribute('data-chart'),
        drawn: c.getAttribute('data-drawn'),
        points: Number(c.getAttribute('data-points')),
        nonBlank,
      };
    }),
  );
}

function emptyReport(full: RunReport): RunReport {
  return {
    summary: { ...full.summary, scenario: 'empty', latencyMs: {}, serviceTimeMs: {}, checks: [], thresholds: [] },
    timeline: [],
    latencyDistribution: {},
    errorsByKind: {},
    reconciliation: [],
  };
}

describe('report.html in a browser', () => {
  it('draws every chart offline from embedded data', async () => {
    const report = buildSampleRunReport({ seed: 11, durationSec: 90, sessions: 320 });
    report.summary.scenario = 'browser </script><b>x</b> & "quoted"';
    const { htmlPath } = await writeReports(dir, report);
    const html = await readFile(htmlPath, 'utf8');
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=["']?https?:/i);
    expect(html).not.toContain('<b>x</b>');

    const { page, blocked, errors } = await openOffline(htmlPath);
    expect(blocked).toEqual([]);
    expect(errors).toEqual([]);
    const canvases = await inspectCanvases(page);
    expect(canvases.map((c) => c.id).sort()).toEqual([...CHART_IDS].sort());
    for (const c of canvases) {
      expect(c.chart, c.id).toBeTruthy();
      expect(c.drawn, c.id).toBe('true');
      expect(c.points, c.id).toBeGreaterThan(0);
      expect(c.nonBlank, c.id).toBeGreaterThan(500);
    }
    const byId = Object.fromEntries(canvases.map((c) => [c.id, c]));
    expect(byId['chart-throughput'].points).toBe(2 * report.timeline.length);
    expect(byId['chart-latency-time'].points).toBe(3 * report.timeline.length);
    expect(byId['chart-errors'].points).toBe(Object.values(report.errorsByKind).filter((n) => n > 0).length);
    const distPoints = Object.values(report.latencyDistribution).reduce((n, d) => n + d.length, 0);
    expect(byId['chart-latency-distribution'].points).toBe(distPoints);

    // Tables: reconciliation limited to 200 rows, worst first, with a note on the rest.
    const rows = await page.locator('#reconciliation-table tbody tr').count();
    expect(rows).toBe(200);
    expect(await page.locator('#reconciliation-more').textContent()).toContain('120 more');
    expect(await page.title()).toContain('FAILED');
    expect(await page.locator('h1').textContent()).toContain('</script><b>x</b>');

    const shot = join(dir, 'report.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`report screenshot: ${shot}`);
    await page.context().close();
  });

  it('marks charts of an empty run as drawn with a "no data" note', async () => {
    const emptyDir = join(dir, 'empty');
    const { htmlPath } = await writeReports(emptyDir, emptyReport(buildSampleRunReport({ durationSec: 5, sessions: 5 })));
    const { page, blocked, errors } = await openOffline(htmlPath);
    expect(blocked).toEqual([]);
    expect(errors).toEqual([]);
    const canvases = await inspectCanvases(page);
    expect(canvases).toHaveLength(CHART_IDS.length);
    for (const c of canvases) {
      expect(c.drawn, c.id).toBe('true');
      expect(c.points, c.id).toBe(0);
      expect(c.nonBlank, c.id).toBeGreaterThan(0);
    }
    expect(await page.locator('.no-data').count()).toBeGreaterThanOrEqual(CHART_IDS.length);
    await page.screenshot({ path: join(emptyDir, 'report.png'), fullPage: true });
    await page.context().close();
  });
});
