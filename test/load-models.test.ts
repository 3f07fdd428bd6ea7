// Load models: the arrival plan (deterministic, rate honoured, ramps reach their targets), the
// fleet under open and closed load against a small in-test CSMS (dropped arrivals counted, same
// seed -> same arrivals), the scenario `load` section's messages, and `chargebench bench`.

import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ocppRpc from 'ocpp-rpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from './helpers/ensure-built.js';
import { runCli } from './helpers/run-cli.js';
import type { Summary } from '../reports/model.js';
import { parseScenario } from '../scenarios/api.js';
import { parseDuration, parseStages } from '../scenarios/durations.js';
import { ArrivalSchedule } from '../sim/arrival-schedule.js';
import { runFleet } from '../sim/fleet.js';
import type { FleetConfig, LoadModel, TruthSession } from '../sim/types.js';

const { RPCServer } = ocppRpc as unknown as { RPCServer: new (o: object) => RpcServer };
interface RpcServer {
  on(ev: 'client', fn: (c: { handle(fn: (e: { method: string; params: unknown }) => unknown): void }) => void): void;
  listen(port: number, host: string): Promise<import('node:http').Server>;
  close(o?: object): Promise<void>;
}

function all(s: ArrivalSchedule): number[] {
  const out: number[] = [];
  for (let t = s.next(); t !== null; t = s.next()) out.push(t);
  return out;
}

const countIn = (ts: number[], from: number, to: number) => ts.filter((t) => t >= from && t < to).length;

describe('arrival plan', () => {
  it('is the same for the same inputs, and the workers share it round-robin without gaps', () => {
    const one = all(ArrivalSchedule.constant(100, 10_000));
    expect(all(ArrivalSchedule.constant(100, 10_000))).toEqual(one);
    const w0 = all(ArrivalSchedule.constant(100, 10_000, 0, 3));
    const w1 = all(ArrivalSchedule.constant(100, 10_000, 1, 3));
    const w2 = all(ArrivalSchedule.constant(100, 10_000, 2, 3));
    expect(w0.length + w1.length + w2.length).toBe(one.length);
    expect([...w0, ...w1, ...w2].sort((a, b) => a - b)).toEqual(one);
    expect(w1[0]).toBeCloseTo(one[1], 9);
  });

  it('honours a constant rate over any window', () => {
    const ts = all(ArrivalSchedule.constant(250, 20_000));
    expect(ts.length).toBe(5000);
    expect(countIn(ts, 3000, 8000)).toBeGreaterThanOrEqual(1249);
    expect(countIn(ts, 3000, 8000)).toBeLessThanOrEqual(1251);
    expect(ts.every((t) => t >= 0 && t < 20_000)).toBe(true);
  });

  it('ramps linearly to each stage target (k6 ramping-arrival-rate)', () => {
    const stages = parseStages('10s:100,10s:100,5s:0');
    const s = new ArrivalSchedule(stages, 0, 25_000);
    const ts = all(s);
    // 0 -> 100/s over 10 s = 500 arrivals, then 100/s for 10 s = 1000, then 100 -> 0 over 5 s = 250.
    expect(ts.length).toBe(1750);
    expect(s.plannedTotal).toBe(1750);
    expect(Math.abs(countIn(ts, 0, 10_000) - 500)).toBeLessThanOrEqual(1);
    expect(Math.abs(countIn(ts, 10_000, 20_000) - 1000)).toBeLessThanOrEqual(1);
    // The rate at the end of the ramp is the target: the last second of the ramp has ~95 arrivals.
    expect(Math.abs(countIn(ts, 9000, 10_000) - 95)).toBeLessThanOrEqual(1);
    expect(countIn(ts, 0, 1000)).toBeLessThanOrEqual(6);
    // Stages cut by the end of the window stop there.
    expect(all(new ArrivalSchedule(stages, 0, 10_000)).length).toBe(500);
  });

  it('parses durations and stages, naming the fix when they are wrong', () => {
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('90')).toBeNull();
    expect(() => parseStages('30s:200,60s')).toThrow(/DURATION:TARGET/);
  });
});

// ---- the fleet under load --------------------------------------------------------------

let server: RpcServer;
let url = '';
/** What the in-test CSMS received, in order: action, and the status of a StatusNotification. */
let received: string[] = [];
/** The StopTransaction payloads it received. */
let stops: Array<{ meterStop: number; timestamp: string; transactionData?: Array<{ timestamp: string; sampledValue: Array<Record<string, string>> }> }> = [];
/** The context of every MeterValues reading it received. */
let meterContexts: string[] = [];

beforeAll(async () => {
  ensureBuilt(); // the fleet's workers run the built simulator
  server = new RPCServer({ protocols: ['ocpp1.6'], strictMode: false });
  let tx = 1;
  server.on('client', (client) => {
    client.handle(({ method, params }) => {
      received.push(method === 'StatusNotification' ? `${method}:${(params as { status: string }).status}` : method);
      if (method === 'StopTransaction') stops.push(params as (typeof stops)[number]);
      if (method === 'MeterValues') {
        for (const mv of (params as { meterValue: Array<{ sampledValue: Array<{ context?: string }> }> }).meterValue) {
          meterContexts.push(mv.sampledValue[0]?.context ?? 'Sample.Periodic');
        }
      }
      const now = new Date().toISOString();
      switch (method) {
        case 'BootNotification':
          return { status: 'Accepted', currentTime: now, interval: 3600 };
        case 'Heartbeat':
          return { currentTime: now };
        case 'Authorize':
          return { idTagInfo: { status: 'Accepted' } };
        case 'StartTransaction':
          return { transactionId: tx++, idTagInfo: { status: 'Accepted' } };
        case 'StopTransaction':
          return { idTagInfo: { status: 'Accepted' } };
        default:
          return {};
      }
    });
  });
  const http = await server.listen(0, '127.0.0.1');
  url = `ws://127.0.0.1:${(http.address() as import('node:net').AddressInfo).port}/ocpp`;
});

afterAll(async () => {
  await server?.close({ force: true });
});

function config(load: LoadModel, o: { chargers: number; connectors: number; seconds: number; warmUpMs?: number }): FleetConfig {
  return {
    targetUrl: url,
    chargers: Array.from({ length: o.chargers }, (_, i) => ({ id: `LM-${i + 1}`, connectors: o.connectors, maxPowerW: 22_000 })),
    tokens: ['TAG-1', 'TAG-2', 'TAG-3'],
    seed: 7,
    simStart: '2026-03-02T08:00:00Z',
    speed: 60,
    durationSimSec: o.seconds * 60,
    ev: { capacityWh: [40_000, 80_000], initialSocPct: [10, 50], targetSocPct: [80, 100], maxPowerW: [7_000, 11_000] },
    // Session length of the worker-fleet models: one sim minute = one wall second at 60x.
    drivers: { arrivalsPerConnectorPerHour: 0, dwellMinutes: [1, 1] },
    meterValueSampleIntervalSec: 300,
    callTimeoutMs: 5000,
    workers: 1,
    load,
    warmUpMs: o.warmUpMs,
  };
}

const plugIns = (truth: TruthSession[]) => truth.map((t) => `${t.chargerId}/${t.connectorId}@${t.plugInAt}`).sort();

describe('open model (arrival rate) in the fleet', () => {
  it('starts every planned arrival, the same ones for the same seed, each a full transaction', async () => {
    const cfg = config({ kind: 'constant-arrival-rate', rate: 6 }, { chargers: 10, connectors: 2, seconds: 4 });
    const a = await runFleet(cfg);
    expect(a.counters.dropped).toBe(0);
    expect(a.counters.transactions).toBe(ArrivalSchedule.constant(6, 4000).plannedTotal);
    expect(a.truth.length).toBe(a.counters.transactions);
    // >= 6 calls per transaction: Preparing, Authorize, Start, Charging, MeterValues x2, Stop, Finishing, Available.
    expect(a.counters.calls).toBeGreaterThanOrEqual(a.counters.transactions * 6);
    const b = await runFleet(cfg);
    expect(plugIns(b.truth)).toEqual(plugIns(a.truth));
  }, 30_000);

  it('sends only the six calls billing needs with minimal transaction messages, and the same truth', async () => {
    // One periodic sample half-way through each one-minute session.
    const cfg = { ...config({ kind: 'constant-arrival-rate', rate: 4 }, { chargers: 4, connectors: 2, seconds: 3 }), meterValueSampleIntervalSec: 30 };
    const perTx = (msgs: string[], tx: number) => {
      const counts = new Map<string, number>();
      for (const m of msgs) counts.set(m, (counts.get(m) ?? 0) + 1);
      return Object.fromEntries([...counts].filter(([m]) => m !== 'BootNotification' && m !== 'Heartbeat').map(([m, n]) => [m, n / tx]));
    };
    received = [];
    stops = [];
    meterContexts = [];
    const full = await runFleet(cfg);
    const fullMsgs = received.slice();
    const fullStops = stops.slice();
    const fullContexts = meterContexts.slice();
    received = [];
    stops = [];
    const minimal = await runFleet({ ...cfg, transactionMessages: 'minimal', costDisplay: false });
    const minimalMsgs = received.slice();
    const tx = minimal.counters.transactions;
    expect(tx).toBe(ArrivalSchedule.constant(4, 3000).plannedTotal);
    // Available is also sent once per connector and for the charger (connector 0) at boot.
    const bootAvailable = 4 * 3;
    expect(minimalMsgs.filter((m) => m === 'StatusNotification:Available').length - bootAvailable).toBe(tx);
    expect(
      perTx(
        minimalMsgs.filter((m) => m !== 'StatusNotification:Available'),
        tx,
      ),
    ).toEqual({
      Authorize: 1,
      StartTransaction: 1,
      'StatusNotification:Charging': 1,
      MeterValues: 1,
      StopTransaction: 1,
    });
    // Full: readings at the start, half-way and at the stop, each a MeterValues; StopTransaction has none.
    expect(perTx(fullMsgs, full.counters.transactions)).toMatchObject({ 'StatusNotification:Preparing': 1, 'StatusNotification:Finishing': 1, MeterValues: 3 });
    expect(fullStops.length).toBe(full.counters.transactions);
    expect(fullStops.every((s) => s.transactionData === undefined)).toBe(true);
    // ... tagged as 1.6 says: the start reading Transaction.Begin, the closing one Transaction.End.
    const contextCounts = Object.fromEntries(
      ['Transaction.Begin', 'Sample.Periodic', 'Transaction.End'].map((c) => [c, fullContexts.filter((x) => x === c).length]),
    );
    expect(contextCounts).toEqual({
      'Transaction.Begin': full.counters.transactions,
      'Sample.Periodic': full.counters.transactions,
      'Transaction.End': full.counters.transactions,
    });
    // Minimal: the closing reading rides in StopTransaction, at the stop instant, equal to meterStop.
    expect(stops.length).toBe(tx);
    for (const s of stops) {
      expect(s.transactionData).toHaveLength(1);
      const [mv] = s.transactionData!;
      expect(mv.timestamp).toBe(s.timestamp);
      const energy = mv.sampledValue.find((v) => v.measurand === 'Energy.Active.Import.Register');
      expect(energy).toMatchObject({ context: 'Transaction.End', unit: 'Wh', value: String(s.meterStop) });
    }
    // What the chargers send changes; what happened (and so the bill) does not.
    const truthOf = (r: typeof full) => r.truth.map((t) => `${t.chargerId}/${t.connectorId}@${t.startAt}-${t.stopAt}:${t.energyWh}`).sort();
    expect(truthOf(minimal)).toEqual(truthOf(full));
  }, 30_000);

  it('lets sessions under way at the end of arrivals run to their planned end (graceful stop)', async () => {
    const seconds = 3;
    const r = await runFleet(config({ kind: 'constant-arrival-rate', rate: 6 }, { chargers: 10, connectors: 2, seconds }));
    const windowEnd = Date.parse('2026-03-02T08:00:00Z') + seconds * 60_000;
    // One-minute sessions: those that arrived in the last sim minute end after the window.
    const late = r.truth.filter((t) => Date.parse(t.plugInAt) > windowEnd - 60_000);
    expect(late.length).toBeGreaterThan(0);
    for (const t of r.truth) expect(Date.parse(t.unplugAt) - Date.parse(t.plugInAt)).toBe(60_000);
    expect(Math.max(...late.map((t) => Date.parse(t.unplugAt)))).toBeGreaterThan(windowEnd);
    expect(r.counters.transactions).toBe(r.truth.length);
    expect(r.errors.unsettledAtDrainTimeout ?? 0).toBe(0);
  }, 30_000);

  it('starts sim time only once every charger has connected and booted, however slowly they connect', async () => {
    // 40 chargers at 20 connections/s take two seconds to connect; the planned lead is none at all.
    const cfg = { ...config({ kind: 'constant-arrival-rate', rate: 10 }, { chargers: 40, connectors: 1, seconds: 2 }), startLeadMs: 0, connectRatePerSec: 20 };
    received = [];
    const r = await runFleet(cfg);
    expect(r.counters.dropped).toBe(0);
    expect(r.counters.transactions).toBe(ArrivalSchedule.constant(10, 2000).plannedTotal);
    // Every BootNotification came before the first Authorize.
    const lastBoot = received.lastIndexOf('BootNotification');
    expect(lastBoot).toBeGreaterThanOrEqual(0);
    expect(lastBoot).toBeLessThan(received.indexOf('Authorize'));
  }, 30_000);

  it('counts arrivals that find no free connector as dropped', async () => {
    const rate = 20;
    const cfg = config({ kind: 'constant-arrival-rate', rate }, { chargers: 1, connectors: 1, seconds: 3 });
    const r = await runFleet(cfg);
    const planned = ArrivalSchedule.constant(rate, 3000).plannedTotal;
    // One connector, one-second sessions: about three transactions; every other arrival is dropped, none skipped.
    expect(r.counters.transactions).toBeGreaterThanOrEqual(2);
    expect(r.counters.transactions).toBeLessThanOrEqual(4);
    expect(r.counters.transactions + r.counters.dropped).toBe(planned);
  }, 30_000);

  it('follows ramping stages and leaves the warm-up out of latency and throughput', async () => {
    const cfg = config(
      {
        kind: 'ramping-arrival-rate',
        startRate: 0,
        stages: [
          { durationSec: 2, target: 20 },
          { durationSec: 2, target: 20 },
        ],
      },
      { chargers: 20, connectors: 2, seconds: 4, warmUpMs: 2000 },
    );
    const r = await runFleet(cfg);
    expect(r.counters.dropped).toBe(0);
    // 0 -> 20/s over 2 s (20 arrivals), then 20/s for 2 s (40).
    expect(r.counters.transactions).toBe(60);
    const startSec = Date.parse(cfg.simStart) / 1000;
    const wallSecOf = (t: TruthSession) => (Date.parse(t.plugInAt) / 1000 - startSec) / cfg.speed;
    expect(r.truth.filter((t) => wallSecOf(t) < 2).length).toBeGreaterThanOrEqual(19);
    expect(r.truth.filter((t) => wallSecOf(t) < 2).length).toBeLessThanOrEqual(21);
    expect(r.steady).toBeDefined();
    expect(r.steady!.transactions).toBeGreaterThanOrEqual(38);
    expect(r.steady!.transactions).toBeLessThanOrEqual(42);
    // Boot and the first stage's calls are discarded: the kept Authorize latencies are the steady window's.
    const { decodeHistogram } = await import('../sim/histograms.js');
    const authorize = decodeHistogram(r.latency.Authorize);
    expect(authorize.totalCount).toBeGreaterThanOrEqual(38);
    expect(authorize.totalCount).toBeLessThanOrEqual(42);
    expect(r.latency.BootNotification).toBeUndefined();
  }, 30_000);
});

describe('closed model in the fleet', () => {
  it('loops every connector: plug-in, charge, unplug, think, again', async () => {
    const think = 30;
    const r = await runFleet(config({ kind: 'closed', thinkTimeSec: think }, { chargers: 2, connectors: 2, seconds: 5 }));
    const byConnector = new Map<string, TruthSession[]>();
    for (const t of r.truth) {
      const k = `${t.chargerId}/${t.connectorId}`;
      byConnector.set(k, [...(byConnector.get(k) ?? []), t]);
    }
    expect(byConnector.size).toBe(4);
    for (const sessions of byConnector.values()) {
      expect(sessions.length).toBeGreaterThanOrEqual(2);
      sessions.sort((a, b) => a.plugInAt.localeCompare(b.plugInAt));
      for (let i = 1; i < sessions.length; i++) {
        expect((Date.parse(sessions[i].plugInAt) - Date.parse(sessions[i - 1].unplugAt)) / 1000).toBe(think);
      }
    }
    expect(r.counters.dropped).toBe(0);
  }, 30_000);

  it('loops only the given share of connectors', async () => {
    const r = await runFleet(config({ kind: 'closed', thinkTimeSec: 10, connectorsBusyShare: 0.5 }, { chargers: 4, connectors: 2, seconds: 3 }));
    expect(new Set(r.truth.map((t) => `${t.chargerId}/${t.connectorId}`)).size).toBe(4);
  }, 30_000);
});

// ---- scenario `load` section --------------------------------------------------------------

describe('scenario load section', () => {
  const base = {
    name: 'load-check',
    sim: { start: '2026-03-02T08:00:00Z', speed: 60, durationMinutes: 60 },
    chargers: { count: 10, maxPowerKw: 11 },
    tariff: { id: 't', currency: 'EUR', elements: [] },
    drivers: { arrivalsPerConnectorPerHour: 0, dwellMinutes: [1, 1] },
  };
  const problems = (load: unknown): string => {
    try {
      parseScenario({ ...base, load }, 'test');
      return '';
    } catch (err) {
      return (err as Error).message;
    }
  };

  it('accepts the four models', () => {
    for (const load of [
      { model: 'per-connector-poisson' },
      { model: 'constant-arrival-rate', rate: 500, warmUp: '10s', sessionMinutes: 2 },
      { model: 'ramping-arrival-rate', stages: [{ duration: '30s', target: 500 }], sessionMinutes: [1, 3] },
      { model: 'closed', thinkTimeSec: 60, connectorsBusyShare: 0.5 },
    ]) {
      expect(problems(load)).toBe('');
    }
  });

  it('names the field and the fix', () => {
    expect(problems({ model: 'constant' })).toMatch(/load\.model: .*"constant-arrival-rate" \(with rate\)/);
    expect(problems({ model: 'constant-arrival-rate' })).toMatch(/load\.rate: give transactions per wall second/);
    expect(problems({ model: 'constant-arrival-rate', rate: -5 })).toMatch(/load\.rate: must be >= 0/);
    expect(problems({ model: 'ramping-arrival-rate', stages: [] })).toMatch(/load\.stages: give at least one stage/);
    expect(problems({ model: 'ramping-arrival-rate', stages: [{ duration: '30', target: 5 }] })).toMatch(
      /load\.stages\.0\.duration: write a duration such as "90s"/,
    );
    expect(problems({ model: 'ramping-arrival-rate', stages: [{ duration: '2h', target: 5 }] })).toMatch(
      /load\.stages: the stages last 7200 s .* set sim\.durationMinutes to 7200/,
    );
    expect(problems({ model: 'closed' })).toMatch(/load\.thinkTimeSec: give simulated seconds/);
    expect(problems({ model: 'closed', thinkTimeSec: 5, connectorsBusyShare: 1.5 })).toMatch(/load\.connectorsBusyShare: must be <= 1/);
    expect(problems({ model: 'constant-arrival-rate', rate: 5, warmUp: '5m' })).toMatch(/load\.warmUp: 5m is not shorter than the run/);
    expect(problems({ model: 'constant-arrival-rate', rate: 5, ratee: 1 })).toMatch(/Unrecognized key: "ratee"/);
  });
});

// ---- chargebench bench ------------------------------------------------------------------

describe('chargebench bench', () => {
  it('runs a small benchmark against the embedded back end and writes the reports', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cb-bench-'));
    const r = await runCli([
      'bench',
      '--chargers',
      '50',
      '--duration',
      '10s',
      '--warm-up',
      '2s',
      '--rate',
      '20',
      '--transaction',
      'minimal',
      '--report-dir',
      dir,
      '--no-progress',
    ]);
    const out = r.stdout + r.stderr;
    expect(r.code, out).toBe(0);
    expect(out).toMatch(/open files: /);
    expect(out).toMatch(/ephemeral ports per source address; sockets spread over 16 source addresses 127\.0\.0\.1\.\.127\.0\.0\.16/);
    expect(out).toMatch(/50 chargers fit/);
    expect(out).toMatch(/transaction: minimal, 6 calls/);
    const summary = JSON.parse(await readFile(join(dir, 'summary.json'), 'utf8')) as Summary;
    expect(summary.scenario).toBe('bench');
    expect(summary.passed).toBe(true);
    expect(summary.chargers).toBe(50);
    expect(summary.load).toMatchObject({ model: 'constant-arrival-rate', rate: 20 });
    expect(summary.warmUpMs).toBe(2000);
    expect(summary.chargersConnectedMax).toBe(50);
    expect(summary.checks.find((c) => c.name === 'all chargers connected')?.passed).toBe(true);
    expect(summary.sessions.truth).toBeGreaterThanOrEqual(150);
    expect(summary.sessions.matched).toBe(summary.sessions.truth);
    expect(summary.steady?.billedTransactions).toBeGreaterThan(100);
    expect(summary.steady?.transactionsPerSec).toBeGreaterThan(10);
    expect(summary.resources.cpuWindow).toBe('steady');
    expect(summary.resources.backendCpuMicrosPerCall).toBeGreaterThan(0);
    expect(summary.latencyMs.StartTransaction.count).toBeGreaterThan(100);
    // Six calls per transaction, and chargers without a display: no Preparing or Finishing, no cost checks.
    const steadyCalls = Object.values(summary.latencyMs).reduce((n, l) => n + l.count, 0);
    const perTx = steadyCalls / summary.latencyMs.StartTransaction.count;
    expect(perTx).toBeGreaterThan(5.5);
    expect(perTx).toBeLessThan(6.5);
    expect(summary.display).toBeUndefined();
    expect(summary.checks.map((c) => c.name)).not.toContain('final displayed cost equals the invoice');
  }, 60_000);

  it('refuses --rate together with --stages (exit 2)', async () => {
    const r = await runCli(['bench', '--rate', '5', '--stages', '5s:10']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/either --rate .* or --stages/);
  });
});
