// The opt-in charger behaviours of FleetConfig.chargerBehaviour, seen from a small in-test CSMS
// (ocpp-rpc, strict, so every frame is schema-checked by an independent stack) that logs every
// call it receives: decimal register readings with whole-Wh meterStart/meterStop, and
// StatusNotifications without a timestamp.

import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runFleet } from '../sim/fleet.js';
import { Rng } from '../sim/prng.js';
import type { FleetConfig, FleetResult, TruthSession } from '../sim/types.js';
import { ensureBuilt } from './helpers/ensure-built.js';
import { startAcceptingCsms, type LoggedCall } from './helpers/accepting-csms.js';
import type { RpcClient } from './helpers/rpc-server.js';

interface SampledValue {
  value: string;
  context?: string;
  measurand?: string;
  unit?: string;
}
interface MeterValue {
  timestamp: string;
  sampledValue: SampledValue[];
}
let csms: Awaited<ReturnType<typeof startCsms>> | null = null;

/**
 * Answers everything Accepted. Once per charger, on its third MeterValues, it asks for a reading
 * and a status of every connector (TriggerMessage), so triggered frames are in the log too.
 */
async function startCsms(opts: { trigger?: boolean } = {}) {
  const triggered = new Set<string>();
  const meterValues = new WeakMap<RpcClient, number>();
  const accepting = await startAcceptingCsms({
    onCall: (client, method) => {
      if (method !== 'MeterValues' || opts.trigger === false) return;
      const seen = (meterValues.get(client) ?? 0) + 1;
      meterValues.set(client, seen);
      if (seen !== 3 || triggered.has(client.identity)) return;
      triggered.add(client.identity);
      setTimeout(() => {
        client.call('TriggerMessage', { requestedMessage: 'MeterValues' }).catch(() => {});
        client.call('TriggerMessage', { requestedMessage: 'StatusNotification' }).catch(() => {});
      }, 1);
    },
  });
  return { ...accepting, triggered };
}

beforeAll(() => {
  ensureBuilt(); // the fleet's workers run the built simulator
});

afterEach(async () => {
  await csms?.server.close({ force: true });
  csms = null;
});

const SEED = 42;

/**
 * 4 chargers x 2 connectors, 15 simulated minutes at 600x, a reading every 30 s; small batteries
 * near their target, so EVs finish and park inside their stay (the target-reached boundaries land
 * between the 30 s grid instants, where the register is rarely a whole Wh).
 */
function fleetConfig(url: string, over: Partial<FleetConfig> = {}): FleetConfig {
  return {
    targetUrl: url,
    chargers: Array.from({ length: 4 }, (_, i) => ({ id: `BH${i + 1}`, connectors: 2, maxPowerW: 22_000 })),
    tokens: ['TOKEN-A', 'TOKEN-B', 'TOKEN-C'],
    seed: SEED,
    simStart: '2026-03-02T08:00:00.000Z',
    speed: 600,
    durationSimSec: 900,
    ev: { capacityWh: [5_000, 8_000], initialSocPct: [55, 85], targetSocPct: [80, 95], maxPowerW: [7_000, 22_000] },
    drivers: { arrivalsPerConnectorPerHour: 12, dwellMinutes: [2, 6] },
    meterValueSampleIntervalSec: 30,
    callTimeoutMs: 5_000,
    workers: 1,
    startLeadMs: 300,
    costDisplay: false,
    ...over,
  };
}

const secOf = (iso: string) => Date.parse(iso) / 1000;
const REGISTER = 'Energy.Active.Import.Register';

/** Every energy register value the CSMS received: MeterValues and StopTransaction.transactionData. */
function registerReadings(
  log: LoggedCall[],
): Array<{ identity: string; connectorId: number | null; transactionId?: number; action: string; mv: MeterValue; value: string }> {
  const out: ReturnType<typeof registerReadings> = [];
  for (const e of log) {
    const mvs: MeterValue[] = e.action === 'MeterValues' ? e.params.meterValue : e.action === 'StopTransaction' ? (e.params.transactionData ?? []) : [];
    for (const mv of mvs) {
      for (const sv of mv.sampledValue) {
        if ((sv.measurand ?? REGISTER) !== REGISTER) continue;
        expect(sv.unit).toBe('Wh');
        out.push({
          identity: e.identity,
          connectorId: e.params.connectorId ?? null,
          transactionId: e.params.transactionId,
          action: e.action,
          mv,
          value: sv.value,
        });
      }
    }
  }
  return out;
}

/**
 * The exact register of a connector (joules) at any sim second, rebuilt from the truth alone: the
 * charger's first register comes from its seeded stream (Rng.derive(seed, id, 'register', n)),
 * and each session adds power x seconds of every timeline interval, up to its stop.
 */
function exactRegister(truth: TruthSession[], seed: number) {
  const byConnector = new Map<string, TruthSession[]>();
  for (const t of truth) {
    const key = `${t.chargerId}|${t.connectorId}`;
    byConnector.set(key, [...(byConnector.get(key) ?? []), t]);
  }
  for (const list of byConnector.values()) list.sort((a, b) => secOf(a.startAt) - secOf(b.startAt));
  return (chargerId: string, connectorId: number, sec: number): number => {
    const reg = Rng.derive(seed, chargerId, 'register', connectorId);
    let j = reg.int(0, 9_999_999) * 3600 + reg.int(0, 3599);
    for (const t of byConnector.get(`${chargerId}|${connectorId}`) ?? []) {
      if (secOf(t.startAt) >= sec) break;
      t.timeline.forEach((iv, i) => {
        const from = secOf(iv.from);
        const to = i + 1 < t.timeline.length ? secOf(t.timeline[i + 1].from) : secOf(t.stopAt);
        j += iv.avgPowerW * Math.max(0, Math.min(to, sec) - from);
      });
    }
    return j;
  };
}

/** The register in Wh with two decimals, truncated, as the task states it: q = floor(J / 36). */
const twoDecimals = (j: number) => {
  const q = Math.floor(j / 36);
  return `${Math.floor(q / 100)}.${String(q % 100).padStart(2, '0')}`;
};

/**
 * What the CSMS received, without what depends on the run: transaction ids (the CSMS's order of
 * starts) and the instants of the boot's statuses (when the charger connected, before the sim start).
 */
function framesOf(log: LoggedCall[], simStart: string): string[] {
  return log
    .map((e) => {
      const params = { ...e.params, transactionId: undefined };
      if (e.action === 'StatusNotification' && Date.parse(params.timestamp) < Date.parse(simStart)) params.timestamp = 'before the start';
      return JSON.stringify([e.identity, e.action, params]);
    })
    .sort();
}

const untilTx = (t: TruthSession) => ({ ...t, transactionId: null });

describe('chargerBehaviour.registerDecimals', () => {
  let plain: { log: LoggedCall[]; result: FleetResult };

  beforeAll(async () => {
    const c = await startCsms();
    try {
      plain = { result: await runFleet(fleetConfig(c.url)), log: c.log };
    } finally {
      await c.server.close({ force: true });
    }
  }, 60_000);

  it.each(['full', 'minimal'] as const)(
    '%s shape, 2 decimals: every register reading has exactly 2, truncated from the exact register; meterStart and meterStop stay whole Wh',
    async (shape) => {
      const c = (csms = await startCsms());
      const r = await runFleet(fleetConfig(c.url, { transactionMessages: shape, chargerBehaviour: { registerDecimals: 2 } }));
      expect(r.errors).toEqual({});
      expect(r.truth.length).toBeGreaterThanOrEqual(8);
      const exact = exactRegister(r.truth, SEED);
      const readings = registerReadings(c.log);
      const contexts = new Set(readings.map((x) => x.mv.sampledValue[0].context));
      expect([...contexts].sort()).toEqual(
        shape === 'full' ? ['Sample.Periodic', 'Transaction.Begin', 'Transaction.End', 'Trigger'] : ['Sample.Periodic', 'Transaction.End', 'Trigger'],
      );
      if (shape === 'minimal') expect(readings.some((x) => x.action === 'StopTransaction')).toBe(true);
      for (const x of readings) {
        expect(x.value).toMatch(/^\d+\.\d\d$/);
        // StopTransaction names no connector: its transaction's truth does.
        const connectorId = x.connectorId ?? r.truth.find((t) => t.transactionId === x.transactionId)!.connectorId;
        expect(x.value, `${x.identity}/${connectorId} ${x.mv.timestamp}`).toBe(twoDecimals(exact(x.identity, connectorId, secOf(x.mv.timestamp))));
      }
      // meterStart and meterStop: integers, floor of the exact register (whOf), as the truth has them.
      const starts = c.log.filter((e) => e.action === 'StartTransaction');
      const stops = c.log.filter((e) => e.action === 'StopTransaction');
      expect(stops).toHaveLength(r.truth.length);
      for (const e of starts) {
        expect(Number.isInteger(e.params.meterStart)).toBe(true);
        expect(e.params.meterStart).toBe(Math.floor(exact(e.identity, e.params.connectorId, secOf(e.params.timestamp)) / 3600));
      }
      for (const e of stops) {
        const t = r.truth.find((x) => x.transactionId === e.params.transactionId)!;
        expect(Number.isInteger(e.params.meterStop)).toBe(true);
        expect(e.params.meterStop).toBe(t.meterStopWh);
        expect(e.params.meterStop).toBe(Math.floor(exact(t.chargerId, t.connectorId, secOf(t.stopAt)) / 3600));
      }
      // The last reading of a session above its meterStop by a fraction of a Wh, as real chargers send it.
      let above = 0;
      for (const t of r.truth) {
        const last = readings.filter((x) => x.transactionId === t.transactionId && x.mv.timestamp === t.stopAt).at(-1);
        expect(last, `closing reading of ${t.transactionId}`).toBeDefined();
        const value = Number(last!.value);
        expect(value).toBeGreaterThanOrEqual(t.meterStopWh);
        expect(value).toBeLessThan(t.meterStopWh + 1);
        if (value > t.meterStopWh) above++;
      }
      expect(above).toBeGreaterThan(0);
      // Truth does not change with the wire format.
      if (shape === 'full') expect(r.truth.map(untilTx)).toEqual(plain.result.truth.map(untilTx));
    },
    30_000,
  );

  it('by default every register reading is the whole Wh of the exact register', () => {
    const exact = exactRegister(plain.result.truth, SEED);
    const readings = registerReadings(plain.log);
    expect(readings.length).toBeGreaterThan(20);
    expect(readings.some((x) => x.mv.sampledValue[0].context === 'Trigger')).toBe(true);
    for (const x of readings) expect(x.value).toBe(String(Math.floor(exact(x.identity, x.connectorId!, secOf(x.mv.timestamp)) / 3600)));
  });

  it('the defaults given explicitly send the same frames as no behaviour at all', async () => {
    // Without triggers: what a trigger reports depends on when it arrives.
    const runOf = async (over: Partial<FleetConfig>) => {
      const c = (csms = await startCsms({ trigger: false }));
      const result = await runFleet(fleetConfig(c.url, over));
      await c.server.close({ force: true });
      csms = null;
      return { result, log: c.log };
    };
    const none = await runOf({});
    const explicit = await runOf({
      chargerBehaviour: { registerDecimals: 0, statusTimestamps: true, crashesPerChargerPerHour: 0, crashAtMinutes: [], crashShare: 1, crashRebootSec: 60 },
    });
    expect(explicit.result.truth.map(untilTx)).toEqual(none.result.truth.map(untilTx));
    const start = fleetConfig('').simStart;
    expect(framesOf(explicit.log, start)).toEqual(framesOf(none.log, start));
    expect(explicit.log.length).toBeGreaterThan(100);
  }, 30_000);
});

describe('chargerBehaviour.statusTimestamps', () => {
  it('false: no StatusNotification carries a timestamp (boot, transaction and triggered ones); by default all do', async () => {
    const c = (csms = await startCsms());
    const r = await runFleet(fleetConfig(c.url, { chargerBehaviour: { statusTimestamps: false } }));
    expect(r.errors).toEqual({});
    const statuses = c.log.filter((e) => e.action === 'StatusNotification');
    expect(new Set(statuses.map((e) => e.params.status))).toEqual(new Set(['Available', 'Preparing', 'Charging', 'SuspendedEV', 'Finishing']));
    expect(statuses.filter((e) => e.params.connectorId === 0).length).toBeGreaterThan(4); // boots and triggers
    for (const e of statuses) expect(Object.keys(e.params).sort()).toEqual(['connectorId', 'errorCode', 'status']);
    // Everything else keeps its timestamps.
    for (const e of c.log) if (e.action === 'StartTransaction' || e.action === 'StopTransaction') expect(typeof e.params.timestamp).toBe('string');
    await c.server.close({ force: true });

    const d = (csms = await startCsms());
    const plain = await runFleet(fleetConfig(d.url));
    const withTs = d.log.filter((e) => e.action === 'StatusNotification');
    expect(withTs.length).toBe(statuses.length);
    for (const e of withTs) expect(typeof e.params.timestamp).toBe('string');
    expect(plain.truth.map(untilTx)).toEqual(r.truth.map(untilTx));
  }, 30_000);
});
