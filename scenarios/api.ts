// The scenario API: what a scenario file declares, checked with a schema so that a bad
// scenario gets a message naming the field and the fix instead of a failure mid-run.
import { z } from 'zod';
import type { Tariff } from '../backend/billing/ocpi.js';

const range = (what: string) =>
  z
    .tuple([z.number().nonnegative(), z.number().nonnegative()])
    .refine(([a, b]) => a <= b, { message: `${what}: write [min, max] with min <= max` });

const isoInstant = z.string().refine((s) => !Number.isNaN(Date.parse(s)) && /T/.test(s), {
  message: 'must be an ISO 8601 instant such as "2026-03-02T08:00:00Z"',
});

const ianaZone = z.string().refine(
  (zone) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be an IANA time zone such as "Europe/Berlin"' },
);

export const scenarioSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9._-]+$/, 'use letters, digits, dot, dash or underscore'),
    description: z.string().optional(),
    seed: z.number().int().nonnegative().default(1),
    sim: z.object({
      start: isoInstant,
      speed: z.number().positive().max(100_000),
      durationMinutes: z.number().positive(),
    }),
    location: z.object({ timeZone: ianaZone }).default({ timeZone: 'UTC' }),
    chargers: z.object({
      count: z.number().int().positive(),
      connectors: z.number().int().min(1).max(8).default(2),
      maxPowerKw: z.number().positive(),
      idPrefix: z.string().regex(/^[A-Za-z0-9-]+$/).default('CB'),
    }),
    /** An OCPI 2.2.1 tariff; the back end checks it in depth when it is provisioned. */
    tariff: z.custom<Tariff>(
      (t) => typeof t === 'object' && t !== null && typeof (t as Tariff).id === 'string' && Array.isArray((t as Tariff).elements),
      { message: 'must be an OCPI 2.2.1 tariff object with "id", "currency" and "elements"' },
    ),
    tokens: z.object({ count: z.number().int().positive(), prefix: z.string().default('TAG') }).default({ count: 1000, prefix: 'TAG' }),
    drivers: z.object({
      arrivalsPerConnectorPerHour: z.number().nonnegative(),
      dwellMinutes: range('drivers.dwellMinutes'),
    }),
    ev: z
      .object({
        capacityKwh: range('ev.capacityKwh').default([40, 80]),
        initialSocPct: range('ev.initialSocPct').default([10, 50]),
        targetSocPct: range('ev.targetSocPct').default([80, 100]),
        maxPowerKw: range('ev.maxPowerKw').default([7, 11]),
      })
      .default({ capacityKwh: [40, 80], initialSocPct: [10, 50], targetSocPct: [80, 100], maxPowerKw: [7, 11] }),
    meterValueSampleIntervalSec: z.number().int().positive().default(300),
    callTimeoutMs: z.number().int().positive().default(30_000),
    workers: z.number().int().positive().optional(),
    /** k6-style thresholds, e.g. { "latency.StartTransaction": ["p(99)<200"] }. */
    thresholds: z.record(z.string(), z.array(z.string())).default({}),
  })
  .strict();

export type ScenarioInput = z.input<typeof scenarioSchema>;
export type Scenario = z.output<typeof scenarioSchema>;

export class ScenarioError extends Error {}

/** Declare a scenario. Checked at once, so a mistake is reported where it was made. */
export function defineScenario(input: ScenarioInput): Scenario {
  return parseScenario(input, input?.name ?? 'scenario');
}

export function parseScenario(input: unknown, source: string): Scenario {
  const result = scenarioSchema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const where = issue.path.length ? issue.path.join('.') : '(top level)';
    const fix = issue.code === 'unrecognized_keys' ? ` (remove it, or check the spelling against the scenario API in scenarios/api.ts)` : '';
    return `  - ${where}: ${issue.message}${fix}`;
  });
  throw new ScenarioError(`bad scenario ${source}:\n${problems.join('\n')}`);
}
