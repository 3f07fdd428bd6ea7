// Every scenario of the library (but smoke, the long default job) runs end to end against the
// embedded back end: all sessions billed, every bill equal to the oracle's, and the tariff shape
// the scenario is about was really exercised.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Decimal } from 'decimal.js';
import { describe, expect, it } from 'vitest';
import type { RunReport } from '../reports/model.js';
import { loadScenario } from '../scenarios/load-scenarios.js';
import { runScenario } from '../scenarios/runner.js';

const LIBRARY = join(import.meta.dirname, '..', 'scenarios', 'library');
const files = readdirSync(LIBRARY)
  .filter((f) => f.endsWith('.ts') && f !== 'smoke.ts')
  .sort();

type Dimension = 'ENERGY' | 'TIME' | 'PARKING_TIME' | 'FLAT';
const billed = (r: RunReport, d: Dimension) => r.summary.billing.byDimension?.[d] ?? { exclVat: '0', quantity: '0', sessions: 0 };
/** Average billed price per unit of a dimension (excl. VAT). */
const averagePrice = (r: RunReport, d: Dimension) => new Decimal(billed(r, d).exclVat).div(billed(r, d).quantity);
const startsBefore = (r: RunReport, iso: string) => r.reconciliation.filter((row) => Date.parse(row.startAt) < Date.parse(iso)).length;
const startsFrom = (r: RunReport, iso: string) => r.reconciliation.filter((row) => Date.parse(row.startAt) >= Date.parse(iso)).length;
const expectedTotals = (r: RunReport) => r.reconciliation.map((row) => row.expectedTotal);

/** Per scenario: evidence that the shape it is about was exercised, not only that bills agree. */
const exercised: Record<string, (r: RunReport) => void> = {
  'energy-only': (r) => {
    expect(billed(r, 'ENERGY').sessions).toBe(r.summary.sessions.truth);
    for (const d of ['TIME', 'PARKING_TIME', 'FLAT'] as const) expect(billed(r, d).sessions, d).toBe(0);
  },
  'time-only': (r) => {
    expect(billed(r, 'TIME').sessions).toBeGreaterThan(0);
    for (const d of ['ENERGY', 'PARKING_TIME', 'FLAT'] as const) expect(billed(r, d).sessions, d).toBe(0);
  },
  'parking-fee': (r) => {
    expect(billed(r, 'PARKING_TIME').sessions).toBeGreaterThan(0);
    expect(new Decimal(billed(r, 'PARKING_TIME').exclVat).gt(0)).toBe(true);
  },
  'flat-energy': (r) => {
    // One fee per session, never two.
    expect(billed(r, 'FLAT').sessions).toBe(r.summary.sessions.truth);
    expect(billed(r, 'FLAT').quantity).toBe(String(r.summary.sessions.truth));
  },
  'time-of-day': (r) => {
    // Sessions start on both sides of 17:00 local (16:00Z) and the average is between the two prices.
    expect(startsBefore(r, '2026-03-02T16:00:00Z')).toBeGreaterThan(0);
    expect(startsFrom(r, '2026-03-02T16:00:00Z')).toBeGreaterThan(0);
    const average = averagePrice(r, 'ENERGY');
    expect(average.gt('0.20') && average.lt('0.27'), average.toFixed()).toBe(true);
  },
  'weekday-weekend': (r) => {
    // Friday sessions and Saturday sessions (local midnight = 23:00Z); both price levels used.
    expect(startsBefore(r, '2026-03-06T23:00:00Z')).toBeGreaterThan(0);
    expect(startsFrom(r, '2026-03-06T23:00:00Z')).toBeGreaterThan(0);
    const average = averagePrice(r, 'ENERGY');
    expect(average.gt('0.29') && average.lt('0.39'), average.toFixed()).toBe(true);
  },
  'power-tiers': (r) => {
    // More than one power tier was billed: the average lies strictly between the cheapest and dearest.
    const average = averagePrice(r, 'ENERGY');
    expect(average.gt('0.49') && average.lt('0.69'), average.toFixed()).toBe(true);
    expect(billed(r, 'FLAT').sessions).toBe(r.summary.sessions.truth);
  },
  'min-max-price': (r) => {
    expect(expectedTotals(r)).toContain('3.57'); // raised to min_price incl. VAT
    expect(expectedTotals(r)).toContain('12.00'); // capped: max_price without incl_vat caps both totals
  },
  'step-sizes': (r) => {
    // Every session's energy is billed in whole 500 Wh steps, so their sum is one too.
    expect(new Decimal(billed(r, 'ENERGY').quantity).mod('0.5').isZero()).toBe(true);
    expect(billed(r, 'TIME').sessions).toBeGreaterThan(0);
    expect(billed(r, 'PARKING_TIME').sessions).toBeGreaterThan(0);
  },
  'dst-berlin': (r) => {
    // Sessions start in the night's two 02:00-03:00 hours (00:00Z-02:00Z); the 02:00-03:00 TIME price was billed.
    expect(r.reconciliation.some((row) => row.startAt >= '2026-10-25T00:00:00Z' && row.startAt < '2026-10-25T02:00:00Z')).toBe(true);
    expect(billed(r, 'TIME').sessions).toBeGreaterThan(0);
    expect(averagePrice(r, 'ENERGY').lt('0.35')).toBe(true);
  },
  'dst-new-york': (r) => {
    // 02:00-03:00 local does not exist that night: its TIME price is never billed; the 01:00-03:30 price is.
    expect(billed(r, 'TIME').sessions).toBe(0);
    const average = averagePrice(r, 'ENERGY');
    expect(average.gt('0.18') && average.lt('0.28'), average.toFixed()).toBe(true);
    expect(r.summary.billing.currency).toBe('USD');
  },
  'foreign-charger': (r) => {
    // Every charger crashed at both instants (their lost sessions are in the truth); the others parked and paid for it.
    expect(r.mergeInputs?.counters.crashes).toBe(2 * r.summary.chargers);
    expect(billed(r, 'PARKING_TIME').sessions).toBeGreaterThan(0);
    expect(billed(r, 'TIME').sessions).toBeGreaterThan(0);
    expect(billed(r, 'FLAT').sessions).toBe(r.summary.sessions.truth);
  },
  membership: (r) => {
    // Members (ENERGY only) pay no session fee; the public does.
    expect(billed(r, 'FLAT').sessions).toBeGreaterThan(0);
    expect(billed(r, 'FLAT').sessions).toBeLessThan(r.summary.sessions.truth);
  },
};

describe('scenario library (end to end, embedded back end)', () => {
  it('has a sanity check for every scenario', async () => {
    const names = await Promise.all(files.map(async (f) => (await loadScenario(join(LIBRARY, f))).name));
    expect(names.filter((n) => !(n in exercised))).toEqual([]);
  });

  for (const file of files) {
    it(
      file,
      async () => {
        const scenario = await loadScenario(join(LIBRARY, file));
        const { report, passed } = await runScenario(scenario);
        const mismatches = report.reconciliation.filter((row) => row.status !== 'matched').slice(0, 5);
        expect(report.summary.sessions.truth, 'sessions lived').toBeGreaterThan(0);
        expect(report.summary.sessions.mismatched, JSON.stringify(mismatches, null, 1)).toBe(0);
        expect(report.summary.sessions, JSON.stringify(mismatches, null, 1)).toMatchObject({ missing: 0, duplicate: 0, unexpected: 0 });
        expect(passed, JSON.stringify(report.summary.checks.filter((c) => !c.passed))).toBe(true);
        exercised[scenario.name]?.(report);
      },
      120_000,
    );
  }
});
