// The scenario `chargebench bench` runs: built in memory from the command line, then run by the
// same runner as any scenario file (same reports, same exit codes). Sessions are short in sim
// time and the sim runs fast, so a transaction costs about a second of wall time.
import { readFileSync } from 'node:fs';
import { fleetCapacity, DEFAULT_CONNECT_RATE, defaultLeadMs } from '../sim/fleet.js';
import type { RateStage } from '../sim/types.js';
import { parseScenario, type Scenario } from './api.js';
import type { ShardSpec } from '../reports/model.js';
import { shardLabel, WHOLE_FLEET } from './sharding.js';

/** Sim seconds per wall second: a one-minute session lasts one wall second. */
export const BENCH_SPEED = 60;
export const BENCH_SESSION_MINUTES = 1;
/** Minimal transactions sample the meter once, half-way through the session. */
const MINIMAL_SAMPLE_INTERVAL_SEC = (BENCH_SESSION_MINUTES * 60) / 2;
/** Heartbeats every 300 wall seconds, as real chargers do, however fast the sim runs. */
export const BENCH_HEARTBEAT_SIM_SEC = 300 * BENCH_SPEED;
/** The highest default rate; above it, say --rate. */
const MAX_DEFAULT_RATE = 1000;

export interface BenchOptions {
  chargers: number;
  connectors: number;
  /** Transactions per wall second; default from the fleet size (see defaultRate). */
  rate?: number;
  stages?: RateStage[];
  /** Wall ms of arrivals (default 60 s, or the stages' total). */
  durationMs?: number;
  warmUpMs?: number;
  seed: number;
  workers?: number;
  /** This process runs one shard of the fleet (default: the whole fleet). */
  shard?: ShardSpec;
  /**
   * What one transaction sends (default 'full'): 'full' = 9 calls (Preparing, Finishing and a meter
   * sample at the start included) plus the cost messages of a charger with a display; 'minimal' =
   * the 6 calls a billed transaction needs, from chargers without a cost display: one periodic
   * meter sample half-way, the closing reading inside StopTransaction.
   */
  transaction?: BenchTransaction;
}

export type BenchTransaction = 'full' | 'minimal';
export const BENCH_TRANSACTIONS: readonly BenchTransaction[] = ['full', 'minimal'];

/** A quarter of the connectors busy at once with one-second sessions, at most 1,000 per second. */
export function defaultRate(chargers: number, connectors: number): number {
  const sessionWallSec = (BENCH_SESSION_MINUTES * 60) / BENCH_SPEED;
  return Math.max(1, Math.min(MAX_DEFAULT_RATE, Math.floor((chargers * connectors) / 4 / sessionWallSec)));
}

export function benchDurationMs(o: BenchOptions): number {
  if (o.durationMs !== undefined) return o.durationMs;
  if (o.stages) return o.stages.reduce((n, s) => n + s.durationSec * 1000, 0);
  return 60_000;
}

export function benchScenario(o: BenchOptions): Scenario {
  const durationMs = benchDurationMs(o);
  const transaction = o.transaction ?? 'full';
  const warmUp = o.warmUpMs && o.warmUpMs > 0 ? `${o.warmUpMs}ms` : undefined;
  const load = o.stages
    ? {
        model: 'ramping-arrival-rate' as const,
        startRate: 0,
        stages: o.stages.map((s) => ({ duration: `${s.durationSec * 1000}ms`, target: s.target })),
        sessionMinutes: BENCH_SESSION_MINUTES,
        warmUp,
      }
    : { model: 'constant-arrival-rate' as const, rate: o.rate ?? defaultRate(o.chargers, o.connectors), sessionMinutes: BENCH_SESSION_MINUTES, warmUp };
  return parseScenario(
    {
      name: 'bench',
      description: `throughput benchmark: ${o.chargers} chargers x ${o.connectors} connectors`,
      seed: o.seed,
      sim: { start: '2026-03-02T08:00:00Z', speed: BENCH_SPEED, durationMinutes: (durationMs / 1000) * (BENCH_SPEED / 60) },
      location: { timeZone: 'Europe/Berlin' },
      chargers: {
        count: o.chargers,
        connectors: o.connectors,
        maxPowerKw: 22,
        idPrefix: 'BN',
        transactionMessages: transaction,
        costDisplay: transaction === 'full',
      },
      tokens: { count: 1000, prefix: 'BENCH' },
      // Unused by the arrival-rate models (they plan arrivals themselves), required by the schema.
      drivers: { arrivalsPerConnectorPerHour: 0, dwellMinutes: [BENCH_SESSION_MINUTES, BENCH_SESSION_MINUTES] },
      ev: { capacityKwh: [40, 82], initialSocPct: [10, 60], targetSocPct: [80, 100], maxPowerKw: [7.4, 22] },
      // full: longer than a session, so the start and stop readings only; minimal: one reading half-way.
      meterValueSampleIntervalSec: transaction === 'full' ? 300 : MINIMAL_SAMPLE_INTERVAL_SEC,
      workers: o.workers,
      tariff: {
        id: 'bench-public-ac',
        currency: 'EUR',
        elements: [
          {
            price_components: [
              { type: 'FLAT', price: '0.50', vat: '19', step_size: 1 },
              { type: 'ENERGY', price: '0.39', vat: '19', step_size: 1 },
              { type: 'TIME', price: '1.80', vat: '19', step_size: 60 },
            ],
          },
        ],
      },
      thresholds: { 'sessions.mismatched': ['count==0'] },
      load,
    },
    'bench',
  );
}

/** What the main thread says before a bench starts: limits, ports, sources, whether the fleet fits. */
export function benchPreamble(o: BenchOptions, targetUrl: string | undefined): string[] {
  const cap = fleetCapacity(targetUrl);
  const shard = o.shard ?? WHOLE_FLEET;
  // Chargers this process holds: every n-th of the fleet.
  const n = chargersOfShard(o.chargers, shard);
  const fmt = (x: number) => x.toLocaleString('en-US');
  const durationMs = benchDurationMs(o);
  const lines: string[] = [];
  const loadText = o.stages
    ? `ramping arrival rate ${o.stages.map((s) => `${s.durationSec}s:${s.target}`).join(',')} tx/s`
    : `constant arrival rate ${fmt(o.rate ?? defaultRate(o.chargers, o.connectors))} tx/s`;
  lines.push(
    `bench: ${fmt(o.chargers)} chargers x ${o.connectors} connectors, ${loadText} for ${durationMs / 1000} s` +
      `${o.warmUpMs ? ` (first ${o.warmUpMs / 1000} s warm-up, not counted)` : ''}; sessions of ${BENCH_SESSION_MINUTES} sim min at ${BENCH_SPEED}x; seed ${o.seed}`,
    transactionText(o.transaction ?? 'full'),
  );
  if (shard.count > 1) {
    lines.push(
      `${shardLabel(shard)}: this process runs ${fmt(n)} of the ${fmt(o.chargers)} chargers and one in ${shard.count} arrivals of the fleet-wide plan; ` +
        `merge all ${shard.count} shards' report folders with 'chargebench report merge', which judges the thresholds`,
    );
  }
  const hard = hardFileLimit();
  lines.push(
    `open files: ${fmt(cap.openFileLimit)} per process${hard !== null && hard !== cap.openFileLimit ? ` (hard limit ${fmt(hard)})` : ''}; one socket per charger, so the fleet and the embedded back end each need about ${fmt(n)} descriptors`,
  );
  const sources = cap.sourceAddresses;
  lines.push(
    sources.length > 0
      ? `ports: ${fmt(cap.portsPerSource)} ephemeral ports per source address; sockets spread over ${sources.length} source addresses ${sources[0]}..${sources[sources.length - 1]} (about ${fmt(Math.ceil(n / sources.length))} each)`
      : `ports: ${fmt(cap.portsPerSource)} ephemeral ports from one source address (the OS chooses it) towards the target`,
  );
  if (n <= cap.maxChargers) {
    lines.push(`capacity: ${fmt(n)} chargers fit in this process (up to ${fmt(cap.maxChargers)})`);
  } else {
    lines.push(
      `capacity: ${fmt(n)} chargers do NOT fit: one process holds up to ${fmt(cap.maxChargers)}. Raise the soft limit with 'ulimit -n ${hard ?? 'N'}' (up to the hard limit), or split the fleet into shard processes:`,
      ...shardedBenchCommands(o, Math.ceil(o.chargers / Math.max(1, cap.maxChargers))).map((c) => `  ${c}`),
    );
  }
  const leadMs = defaultLeadMs(n, DEFAULT_CONNECT_RATE);
  lines.push(
    `connect: ${fmt(DEFAULT_CONNECT_RATE)} new connections per second; sim time starts once every charger has connected and booted, ${(leadMs / 1000).toFixed(1)} s after the first connection at the earliest`,
  );
  return lines;
}

function transactionText(t: BenchTransaction): string {
  return t === 'full'
    ? `transaction: full, 9 calls (Authorize, Preparing, StartTransaction, Charging, 2 MeterValues, StopTransaction, Finishing, Available) and the back end's cost messages to the charger display`
    : `transaction: minimal, 6 calls (Authorize, StartTransaction, Charging, MeterValues half-way, StopTransaction with the closing reading, Available); chargers without a cost display`;
}

/** Chargers of a fleet of `total` that shard `index` of `count` holds (charger k goes to shard k mod count + 1). */
export function chargersOfShard(total: number, shard: ShardSpec): number {
  return shard.index > total ? 0 : Math.floor((total - shard.index) / shard.count) + 1;
}

/** The commands that run this bench as `count` shard processes against one back end, then merge them. */
export function shardedBenchCommands(o: BenchOptions, count: number, target = 'ws://127.0.0.1:8180/ocpp'): string[] {
  const load = o.stages
    ? `--stages ${o.stages.map((s) => `${s.durationSec}s:${s.target}`).join(',')}`
    : `--rate ${o.rate ?? defaultRate(o.chargers, o.connectors)}`;
  const common =
    `chargebench bench --chargers ${o.chargers} --connectors ${o.connectors} ${load}` +
    `${o.durationMs !== undefined && !o.stages ? ` --duration ${o.durationMs / 1000}s` : ''}${o.warmUpMs ? ` --warm-up ${o.warmUpMs / 1000}s` : ''}` +
    `${o.transaction && o.transaction !== 'full' ? ` --transaction ${o.transaction}` : ''} --seed ${o.seed} --target ${target}`;
  const shardLine = (k: number) => `${common} --shard ${k}/${count} --report-dir out/shard-${k} &`;
  // Shards run side by side; a long list is shortened to its first two and its last.
  const shown = count <= 3 ? Array.from({ length: count }, (_, k) => shardLine(k + 1)) : [shardLine(1), shardLine(2), '...', shardLine(count)];
  const dirs = count <= 3 ? Array.from({ length: count }, (_, k) => `out/shard-${k + 1}`).join(' ') : 'out/shard-*';
  return [
    'chargebench backend --port 8180 &',
    ...shown.map((line, k) => `${k === 0 ? '( ' : '  '}${line}${k === shown.length - 1 ? ' wait )' : ''}`),
    `chargebench report merge ${dirs} --report-dir out/merged`,
  ];
}

function hardFileLimit(): number | null {
  const m = /Max open files\s+\S+\s+(\S+)/.exec(readLimits());
  if (!m) return null;
  return m[1] === 'unlimited' ? null : Number(m[1]);
}

function readLimits(): string {
  try {
    return readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return '';
  }
}
