// The same seed gives the same sessions and the same bills, whether the back end is embedded
// or started on its own and reached with --target.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenario } from '../scenarios/load-scenarios.js';
import { runScenario } from '../scenarios/runner.js';
import { startBackendProcess, type BackendProcess } from '../scenarios/backend-process.js';
import type { RunReport } from '../reports/model.js';

const SMALL = join(import.meta.dirname, 'fixtures', 'small-scenario.ts');

/** What the run lived and billed, in a fixed order. */
function sessionsAndBills(report: RunReport) {
  return report.reconciliation.map((r) => `${r.chargerId}|${r.connectorId}|${r.startAt}|${r.status}|${r.expectedTotal}|${r.billedTotal}`).sort();
}

describe('reproducibility', () => {
  let backend: BackendProcess | undefined;
  let scratch: string | undefined;
  afterAll(async () => {
    await backend?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('same seed: identical truth sessions and bills, embedded and --target alike; another seed differs', async () => {
    const scenario = await loadScenario(SMALL);
    const first = await runScenario(scenario);
    const second = await runScenario(scenario);
    expect(first.passed).toBe(true);
    expect(sessionsAndBills(first.report).length).toBeGreaterThan(10);
    expect(sessionsAndBills(second.report)).toEqual(sessionsAndBills(first.report));
    expect(second.report.summary.billing).toEqual(first.report.summary.billing);

    scratch = await mkdtemp(join(tmpdir(), 'cb-target-'));
    backend = await startBackendProcess(join(scratch, 'standalone.db'));
    const targeted = await runScenario(scenario, { target: backend.ocppUrl });
    expect(targeted.report.summary.target).toBe(backend.ocppUrl);
    expect(targeted.passed).toBe(true);
    expect(sessionsAndBills(targeted.report)).toEqual(sessionsAndBills(first.report));

    const reseeded = await runScenario(scenario, { seed: 43 });
    expect(reseeded.report.summary.seed).toBe(43);
    expect(sessionsAndBills(reseeded.report)).not.toEqual(sessionsAndBills(first.report));
  }, 180_000);
});
