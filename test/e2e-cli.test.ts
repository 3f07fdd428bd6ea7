// End to end through the command line, as a user runs it: real back-end process, real
// sqlite file, real WebSockets, worker threads, reports on disk.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/run-cli.js';
import type { Summary } from '../reports/model.js';

const SMALL = join(import.meta.dirname, 'fixtures', 'small-scenario.ts');

const chargebench = (args: string[]) => runCli(args, 120_000);

describe('chargebench run (end to end)', () => {
  it('runs a small scenario against the embedded back end and bills every session right', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cb-e2e-'));
    const result = await chargebench(['run', SMALL, '--report-dir', dir, '--no-progress']);
    expect(result.stderr + result.stdout).not.toMatch(/unexpected failure/);
    expect(result.code, result.stderr + result.stdout).toBe(0);

    const summary = JSON.parse(await readFile(join(dir, 'summary.json'), 'utf8')) as Summary;
    expect(summary.scenario).toBe('small');
    expect(summary.seed).toBe(42);
    expect(summary.target).toBe('embedded');
    expect(summary.passed).toBe(true);
    expect(summary.chargers).toBe(20);
    expect(summary.meterValueSampleIntervalSec).toBe(120);
    expect(summary.sessions.truth).toBeGreaterThan(10);
    expect(summary.sessions.billed).toBe(summary.sessions.truth);
    expect(summary.sessions.matched).toBe(summary.sessions.truth);
    expect(summary.sessions).toMatchObject({ mismatched: 0, missing: 0, duplicate: 0, unexpected: 0 });
    expect(summary.billing.currency).toBe('EUR');
    expect(summary.billing.billedTotal).toBe(summary.billing.expectedTotal);
    expect(Number(summary.billing.expectedTotal)).toBeGreaterThan(0);
    expect(summary.billing.maxAbsError).toBe('0.00');
    expect(summary.throughput.callsPerSec).toBeGreaterThan(0);
    for (const action of ['BootNotification', 'Authorize', 'StartTransaction', 'MeterValues', 'StopTransaction']) {
      expect(summary.latencyMs[action]?.count, action).toBeGreaterThan(0);
    }
    expect(summary.checks.length).toBeGreaterThanOrEqual(4);
    expect(summary.checks.every((c) => c.passed)).toBe(true);
    // Every charger display showed the invoice total as the final cost.
    expect(summary.checks.find((c) => c.name === 'final displayed cost equals the invoice')?.passed).toBe(true);
    expect(summary.display).toMatchObject({ finalCostShown: summary.sessions.matched, finalCostMatches: summary.sessions.matched, finalCostMissing: 0 });
    expect(summary.display!.runningCostSessions).toBeGreaterThan(0);
    expect(summary.display!.runningCostDecreases).toBe(0);
    expect(summary.thresholds).toEqual([expect.objectContaining({ metric: 'sessions.mismatched', passed: true })]);
    expect(summary.resources.backendCpuMicrosPerCall).toBeGreaterThan(0);
    // What the back end wrote towards its sqlite file: zero only where the scratch directory is on tmpfs.
    expect(summary.resources.backendDiskWriteBytes).toEqual(expect.any(Number));
    expect(result.stdout).toMatch(/^disk {7}back end [\d,.]+ KB written per transaction$/m);
    // How short of CPU the machine was, for fleet and back end alike (Linux run-queue wait).
    expect(summary.resources.fleetThreadsWaitingForCpu).toEqual(expect.any(Number));
    expect(summary.resources.backendThreadsWaitingForCpu).toEqual(expect.any(Number));
    expect(result.stdout).toMatch(/^cpu wait {3}threads ready but waiting for a core, on average: fleet [\d.]+, back end [\d.]+$/m);

    const junit = await readFile(join(dir, 'junit.xml'), 'utf8');
    expect(junit).toContain('every bill matches the oracle');
    const html = await readFile(join(dir, 'report.html'), 'utf8');
    expect(html).toContain('<canvas');
  }, 120_000);

  it('fails a threshold with exit code 1', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cb-e2e-'));
    const result = await chargebench(['run', SMALL, '--report-dir', dir, '--no-progress', '--threshold', 'sessions.truth:count<1']);
    expect(result.code, result.stderr).toBe(1);
    const summary = JSON.parse(await readFile(join(dir, 'summary.json'), 'utf8')) as Summary;
    expect(summary.passed).toBe(false);
    expect(summary.thresholds.find((t) => t.metric === 'sessions.truth')?.passed).toBe(false);
  }, 120_000);

  it('rejects a bad scenario with exit code 2 and names the fields', async () => {
    const result = await chargebench(['run', join(import.meta.dirname, 'fixtures', 'bad-scenario.ts')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/sim\.speed/);
    expect(result.stderr).toMatch(/tarif/);
  });

  it('rejects a threshold on an unknown metric with exit code 2', async () => {
    const result = await chargebench(['run', SMALL, '--threshold', 'latency_typo:p(99)<10']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/latency_typo/);
  });

  it('says the run broke (exit 3) when the target is unreachable', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cb-e2e-'));
    const result = await chargebench(['run', SMALL, '--report-dir', dir, '--no-progress', '--target', 'ws://127.0.0.1:9/ocpp']);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/127\.0\.0\.1:9/);
  });
});
