// The scenario API: what a scenario file declares, checked with a schema so that a bad
// scenario gets a message naming the field and the fix instead of a failure mid-run.
import { z } from 'zod';
import type { Tariff } from '../backend/billing/ocpi.js';
import { DURATION_HINT, parseDuration } from './durations.js';

const range = (what: string) =>
  z.tuple([z.number().nonnegative(), z.number().nonnegative()]).refine(([a, b]) => a <= b, { message: `${what}: write [min, max] with min <= max` });

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

const duration = z.string().refine((s) => (parseDuration(s) ?? 0) > 0, { message: DURATION_HINT });

/** Session length for the shard-level load models, simulated minutes: one number or [min, max]. */
const sessionMinutes = z
  .union([z.number().positive(), range('load.sessionMinutes')], { error: 'write simulated minutes as a number such as 1, or [min, max] such as [1, 3]' })
  .optional();
const warmUp = duration.optional();
const rate = () =>
  z.number({ error: 'give transactions per wall second, a number >= 0 such as 500' }).nonnegative('must be >= 0 (transactions per wall second)');

/**
 * How transactions arrive. Absent = per-connector Poisson from `drivers` (as before). The
 * arrival-rate models are open (k6 constant-/ramping-arrival-rate): rates are transactions per
 * wall second across the fleet; an arrival that finds no free connector counts as dropped.
 * `closed` loops a share of connectors (soak). `warmUp` (wall time from sim start) is left out
 * of latency and throughput figures.
 */
const loadSchema = z.discriminatedUnion(
  'model',
  [
    z.object({ model: z.literal('per-connector-poisson'), warmUp }).strict(),
    z.object({ model: z.literal('constant-arrival-rate'), rate: rate(), sessionMinutes, warmUp }).strict(),
    z
      .object({
        model: z.literal('ramping-arrival-rate'),
        startRate: rate().default(0),
        stages: z
          .array(z.object({ duration, target: rate() }).strict(), {
            error: 'give stages as [{ duration: "30s", target: 500 }, ...]',
          })
          .min(1, 'give at least one stage, e.g. [{ duration: "30s", target: 500 }]'),
        sessionMinutes,
        warmUp,
      })
      .strict(),
    z
      .object({
        model: z.literal('closed'),
        connectorsBusyShare: z.number().gt(0, 'must be > 0 (a share of connectors such as 0.5)').max(1, 'must be <= 1 (1 = every connector loops)').optional(),
        thinkTimeSec: z.number({ error: 'give simulated seconds between unplug and the next plug-in, e.g. thinkTimeSec: 60' }).nonnegative(),
        sessionMinutes,
        warmUp,
      })
      .strict(),
  ],
  {
    error:
      'load.model must be "per-connector-poisson", "constant-arrival-rate" (with rate), "ramping-arrival-rate" (with stages) or "closed" (with thinkTimeSec)',
  },
);

/**
 * Behaviours real chargers show that the fleet's own do not, each opt-in and drawn from the seed
 * (FleetConfig.chargerBehaviour); every charger of the scenario behaves alike.
 */
const chargerBehaviour = z
  .object({
    /** Decimals of every energy register reading, 0..3 (default 0): the Wh truncated from the exact register; meterStart and meterStop stay whole Wh. */
    registerDecimals: z
      .number({ error: 'give the decimals of the register readings, a whole number 0..3' })
      .int('write a whole number of decimals, 0..3 (2 = hundredths of a Wh)')
      .min(0, 'must be 0..3 (0 = whole Wh, as without the behaviour)')
      .max(3, 'must be 0..3 (3 = thousandths of a Wh, the most a joule register shows)')
      .optional(),
    /** false: every StatusNotification leaves out its optional timestamp (default true). */
    statusTimestamps: z.boolean({ error: 'write true (the default) or false (no timestamp in StatusNotification)' }).optional(),
    /** Crashes per charger per simulated hour, Poisson (default 0): a crash loses the open transactions (no StopTransaction), then the charger reboots. */
    crashesPerChargerPerHour: z
      .number({ error: 'give crashes per charger per simulated hour, a number >= 0 such as 0.5' })
      .nonnegative('must be >= 0 (crashes per charger per simulated hour)')
      .optional(),
    /** Simulated minutes after sim.start at which chargers crash (each before sim.durationMinutes), e.g. [20, 45]. */
    crashAtMinutes: z
      .array(z.number({ error: 'give simulated minutes after sim.start, such as 20' }).nonnegative('must be >= 0 (simulated minutes after sim.start)'), {
        error: 'give simulated minutes after sim.start as a list, e.g. [20, 45]',
      })
      .optional(),
    /** Share of chargers that crash at each instant of crashAtMinutes, 0..1 (default 1 = all): a seeded draw per charger and instant. */
    crashShare: z
      .number({ error: 'give a share of chargers 0..1, e.g. 0.5' })
      .min(0, 'must be 0..1 (a share of chargers; 0 = none crash)')
      .max(1, 'must be 0..1 (a share of chargers; 1 = all crash)')
      .optional(),
    /** Simulated seconds a crashed charger is down by plan (default 60): drivers who arrive then are dropped. */
    crashRebootSec: z
      .number({ error: 'give the reboot time in simulated seconds, e.g. 60' })
      .int('write a whole number of simulated seconds, e.g. 60')
      .nonnegative('must be >= 0 (simulated seconds)')
      .optional(),
  })
  .strict();

/** An OCPI 2.2.1 tariff; the back end checks it in depth when it is provisioned. */
const ocpiTariff = () =>
  z.custom<Tariff>((t) => typeof t === 'object' && t !== null && typeof (t as Tariff).id === 'string' && Array.isArray((t as Tariff).elements), {
    message: 'must be an OCPI 2.2.1 tariff object with "id", "currency" and "elements"',
  });

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
      idPrefix: z
        .string()
        .regex(/^[A-Za-z0-9-]+$/)
        .default('CB'),
      /**
       * The messages of a transaction: 'full' as most chargers send them (Preparing before the start,
       * Finishing after the stop, meter samples at the start and at the stop); 'minimal' only the calls a
       * billed transaction needs (Authorize, StartTransaction, Charging, periodic MeterValues,
       * StopTransaction with the closing reading in its transactionData, Available).
       */
      transactionMessages: z.enum(['full', 'minimal']).default('full'),
      /** The chargers show cost messages (California Pricing); false: they answer UnknownVendorId, as one without a display does. */
      costDisplay: z.boolean().default(true),
      /** Opt-in behaviours of chargers written by others (decimal registers, no status timestamps, crashes); absent = the fleet's own. */
      behaviour: chargerBehaviour.optional(),
    }),
    /** An OCPI 2.2.1 tariff; the back end checks it in depth when it is provisioned. */
    tariff: ocpiTariff(),
    /**
     * Customer groups with a tariff of their own that overrides the public one for their tokens.
     * Tokens are handed out in order: the first ceil(tokenShare x tokens.count) tokens belong to
     * the first group, the next ones to the second, and so on; the rest are public.
     */
    memberships: z
      .array(
        z
          .object({
            group: z.string().min(1).max(64, 'a group name has at most 64 characters'),
            tariff: ocpiTariff(),
            tokenShare: z.number().min(0, 'tokenShare is a share of the tokens, 0..1').max(1, 'tokenShare is a share of the tokens, 0..1'),
          })
          .strict(),
      )
      .refine((groups) => new Set(groups.map((m) => m.group)).size === groups.length, { message: 'each membership needs its own group name' })
      .refine((groups) => groups.reduce((sum, m) => sum + m.tokenShare, 0) <= 1, { message: 'the tokenShare values add up to more than 1' })
      .optional(),
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
    load: loadSchema.optional(),
  })
  .strict()
  .superRefine((sc, ctx) => {
    (sc.chargers.behaviour?.crashAtMinutes ?? []).forEach((minutes, i) => {
      if (minutes < sc.sim.durationMinutes) return;
      ctx.addIssue({
        code: 'custom',
        path: ['chargers', 'behaviour', 'crashAtMinutes', i],
        message: `minute ${minutes} is not before the end of arrivals (sim.durationMinutes = ${sc.sim.durationMinutes}): chargers crash only while drivers arrive; give an earlier minute or lengthen sim.durationMinutes`,
      });
    });
    const load = sc.load;
    if (!load) return;
    // Rates and stages are wall time; the run lasts sim.durationMinutes of sim time at sim.speed.
    const runSec = (sc.sim.durationMinutes * 60) / sc.sim.speed;
    const warm = load.warmUp ? parseDuration(load.warmUp)! / 1000 : 0;
    if (warm >= runSec) {
      ctx.addIssue({
        code: 'custom',
        path: ['load', 'warmUp'],
        message: `${load.warmUp} is not shorter than the run (${round(runSec)} s of wall time = sim.durationMinutes * 60 / sim.speed); shorten the warm-up or lengthen sim.durationMinutes`,
      });
    }
    if (load.model === 'ramping-arrival-rate') {
      const stagesSec = load.stages.reduce((n, st) => n + (parseDuration(st.duration) ?? 0) / 1000, 0);
      if (stagesSec > runSec + 1e-6) {
        ctx.addIssue({
          code: 'custom',
          path: ['load', 'stages'],
          message: `the stages last ${round(stagesSec)} s of wall time but the run lasts ${round(runSec)} s (sim.durationMinutes * 60 / sim.speed); set sim.durationMinutes to ${round((stagesSec * sc.sim.speed) / 60)} or shorten the stages`,
        });
      }
    }
  });

const round = (n: number): number => Math.round(n * 100) / 100;

/** The fleet's load model and session length for a scenario's `load` section (undefined = per-connector Poisson). */
export type ScenarioLoad = NonNullable<z.output<typeof loadSchema>>;

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
