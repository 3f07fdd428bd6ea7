// The crash of FleetConfig.chargerBehaviour: a charger loses its open transactions, then reboots.
// The fleet runs against a small in-test CSMS (ocpp-rpc, strict) that logs every call it receives
// and every connection that closes, in order; the truth of every lost session must be what the
// CSMS can bill from what it received (the reading at the crash), and nothing else must move.

import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runFleet } from '../sim/fleet.js';
import { Rng } from '../sim/prng.js';
import type { FleetConfig, FleetResult, TruthSession } from '../sim/types.js';
import { ensureBuilt } from './helpers/ensure-built.js';
import { startAcceptingCsms, type LoggedCall } from './helpers/accepting-csms.js';

interface MeterValue {
  timestamp: string;
  sampledValue: Array<{ value: string; context?: string; measurand?: string }>;
}
let csms: Awaited<ReturnType<typeof startCsms>> | null = null;

/** Accepts everything; logs every call, and '#closed' when a charger's connection closed other than at the end of the run, in arrival order. */
function startCsms(opts: { answerDelayMs?: number } = {}) {
  return startAcceptingCsms({
    ...opts,
    // The end of the run closes every connection cleanly (1000); a crash drops it (1006).
    onClient: (client, log) =>
      client.on('close', ({ code }) => {
        if (code !== 1000) log.push({ identity: client.identity, action: '#closed', params: { code } });
      }),
  });
}

beforeAll(() => {
  ensureBuilt(); // the fleet's workers run the built simulator
});

afterEach(async () => {
  await csms?.server.close({ force: true });
  csms = null;
});

const SIM_START = '2026-03-02T08:00:00.000Z';
const secOf = (iso: string) => Date.parse(iso) / 1000;
const isoOf = (sec: number) => new Date(sec * 1000).toISOString();

/** 4 chargers x 2 connectors, 30 simulated minutes at 600x; drivers come often and stay 5-15 minutes. */
function fleetConfig(url: string, over: Partial<FleetConfig> = {}): FleetConfig {
  return {
    targetUrl: url,
    chargers: Array.from({ length: 4 }, (_, i) => ({ id: `CR${i + 1}`, connectors: 2, maxPowerW: 22_000 })),
    tokens: ['TOKEN-A', 'TOKEN-B', 'TOKEN-C'],
    seed: 7,
    simStart: SIM_START,
    speed: 600,
    durationSimSec: 1800,
    ev: { capacityWh: [20_000, 40_000], initialSocPct: [20, 60], targetSocPct: [80, 95], maxPowerW: [7_000, 11_000] },
    drivers: { arrivalsPerConnectorPerHour: 10, dwellMinutes: [5, 15] },
    meterValueSampleIntervalSec: 60,
    callTimeoutMs: 5_000,
    workers: 1,
    startLeadMs: 300,
    costDisplay: false,
    ...over,
  };
}

function energyOf(mv: MeterValue): string {
  return mv.sampledValue.find((s) => (s.measurand ?? 'Energy.Active.Import.Register') === 'Energy.Active.Import.Register')!.value;
}

/** Per transaction id: the charger, its StartTransaction, its StopTransaction (if any) and its readings, with their places in the log. */
function transactions(log: LoggedCall[]) {
  const txs = new Map<number, { identity: string; start: any; stop?: any; readings: Array<{ index: number; mv: MeterValue }> }>();
  let tx = 0;
  log.forEach((e, index) => {
    if (e.action === 'StartTransaction') txs.set(++tx, { identity: e.identity, start: e.params, readings: [] });
    if (e.action === 'StopTransaction') txs.get(e.params.transactionId)!.stop = e.params;
    if (e.action === 'MeterValues' && e.params.transactionId !== undefined) {
      for (const mv of e.params.meterValue) txs.get(e.params.transactionId)!.readings.push({ index, mv });
    }
  });
  return txs;
}

/**
 * What a back end can bill from what it received must be the truth: a transaction it closed with
 * StopTransaction has the truth of that stop; one it never saw stopped was lost in a crash, and its
 * truth ends at the charger's last reading (stopped and unplugged there, meterStop the floor of it).
 */
function expectBillableFromTheWire(r: FleetResult, log: LoggedCall[]): { lost: TruthSession[] } {
  const txs = transactions(log);
  const lost: TruthSession[] = [];
  expect(r.truth.filter((t) => t.transactionId !== null)).toHaveLength(r.truth.length);
  expect(new Set(r.truth.map((t) => t.transactionId)).size).toBe(r.truth.length);
  expect(r.truth).toHaveLength(txs.size);
  for (const [id, tx] of txs) {
    const t = r.truth.find((x) => x.transactionId === id);
    expect(t, `truth of transaction ${id}`).toBeDefined();
    expect(t).toMatchObject({ chargerId: tx.identity, connectorId: tx.start.connectorId, startAt: tx.start.timestamp, meterStartWh: tx.start.meterStart });
    expect(t!.energyWh).toBe(t!.meterStopWh - t!.meterStartWh);
    expect(t!.timeline.reduce((n, iv) => n + iv.energyWh, 0)).toBe(t!.energyWh);
    expect(t!.chargingSeconds + t!.parkingSeconds).toBe(secOf(t!.stopAt) - secOf(t!.startAt));
    for (const iv of t!.timeline) expect(secOf(iv.from)).toBeLessThan(secOf(t!.stopAt));
    if (tx.stop) {
      expect(t).toMatchObject({ stopAt: tx.stop.timestamp, meterStopWh: tx.stop.meterStop, wireStopReason: tx.stop.reason, faults: [] });
      continue;
    }
    lost.push(t!);
    const last = tx.readings.at(-1);
    expect(last, `a reading of lost transaction ${id}`).toBeDefined();
    expect(t).toMatchObject({ stopAt: last!.mv.timestamp, unplugAt: last!.mv.timestamp, stopReason: 'Other', wireStopReason: 'PowerLoss', faults: ['crash'] });
    expect(t!.meterStopWh).toBe(Math.floor(Number(energyOf(last!.mv))));
    // Nothing after it on this connection: the crash reading is the last the charger sent before its connection closed.
    const closed = log.findIndex((e, i) => i > last!.index && e.identity === tx.identity && e.action === '#closed');
    expect(closed, `connection of ${tx.identity} closed after the crash reading`).toBeGreaterThan(last!.index);
  }
  return { lost };
}

describe('chargerBehaviour crash', () => {
  const CRASH_MINUTE = 12;
  const S = secOf(SIM_START) + CRASH_MINUTE * 60;
  const REBOOT = 300;
  let first: { r: FleetResult; log: LoggedCall[] };

  beforeAll(async () => {
    const c = await startCsms();
    try {
      first = { r: await runFleet(fleetConfig(c.url, { chargerBehaviour: { crashAtMinutes: [CRASH_MINUTE], crashRebootSec: REBOOT } })), log: c.log };
    } finally {
      await c.server.close({ force: true });
    }
  }, 60_000);

  it('at crashAtMinutes every charger sends a reading at S for each open transaction, drops its connection, boots again and never stops them', () => {
    const { r, log } = first;
    expect(r.errors).toEqual({});
    expect(r.counters.crashes).toBe(4);
    expect(r.counters.sessionsActive).toBe(0);
    expect(r.counters.reconnects).toBe(4);
    const { lost } = expectBillableFromTheWire(r, log);
    expect(lost.length).toBeGreaterThanOrEqual(3);
    const txs = transactions(log);
    for (const t of lost) {
      expect(t.stopAt).toBe(isoOf(S));
      const tx = txs.get(t.transactionId!)!;
      expect(tx.stop).toBeUndefined();
      expect(log.some((e) => e.action === 'StopTransaction' && e.params.transactionId === t.transactionId)).toBe(false);
      // The reading at S, with the charger's usual measurands, then the drop, then a BootNotification.
      const atS = tx.readings.filter((x) => x.mv.timestamp === isoOf(S));
      expect(atS).toHaveLength(1);
      expect(atS[0].mv.sampledValue.map((s) => s.measurand).sort()).toEqual(['Energy.Active.Import.Register', 'Power.Active.Import', 'SoC']);
      expect(atS[0].mv.sampledValue.every((s) => s.context === 'Sample.Clock')).toBe(true);
      const own = log.map((e, i) => ({ e, i })).filter((x) => x.e.identity === t.chargerId);
      const closed = own.find((x) => x.e.action === '#closed' && x.i > atS[0].index)!;
      const boots = own.filter((x) => x.e.action === 'BootNotification');
      expect(boots).toHaveLength(2);
      expect(boots[1].i).toBeGreaterThan(closed.i);
      // After the reboot: the BootNotification, then connector 0 and every connector Available.
      const after = own
        .filter((x) => x.i > boots[1].i)
        .slice(0, 3)
        .map((x) => [x.e.action, x.e.params.connectorId, x.e.params.status]);
      expect(after).toEqual([
        ['StatusNotification', 0, 'Available'],
        ['StatusNotification', 1, 'Available'],
        ['StatusNotification', 2, 'Available'],
      ]);
    }
    // Every connection dropped once, at the crash, and none of those transactions' connectors said Finishing for them.
    for (const id of ['CR1', 'CR2', 'CR3', 'CR4']) expect(log.filter((e) => e.identity === id && e.action === '#closed')).toHaveLength(1);
  });

  it('drops the drivers who arrive in the reboot window, and serves those before and after it', () => {
    const { r } = first;
    const plugIns = r.truth.map((t) => secOf(t.plugInAt));
    expect(plugIns.filter((s) => s >= S && s < S + REBOOT)).toEqual([]);
    expect(plugIns.filter((s) => s < S).length).toBeGreaterThan(0);
    expect(plugIns.filter((s) => s >= S + REBOOT).length).toBeGreaterThan(0);
    expect(r.counters.turnedAway).toBeGreaterThan(0);
  });

  it('is deterministic: the same seed gives the same truth', async () => {
    const c = (csms = await startCsms());
    const again = await runFleet(fleetConfig(c.url, { chargerBehaviour: { crashAtMinutes: [CRASH_MINUTE], crashRebootSec: REBOOT } }));
    const untilTx = (t: TruthSession) => ({ ...t, transactionId: null });
    expect(again.truth.map(untilTx)).toEqual(first.r.truth.map(untilTx));
    expect(again.counters.turnedAway).toBe(first.r.counters.turnedAway);
  }, 30_000);

  it('with a slow CSMS (Authorize and StartTransaction answered 150 ms = 90 sim s late) every session is still billable exactly from the wire', async () => {
    // Visits are authorizing or starting at the crash instants: an Authorize answered after a
    // crash ends its visit with no start; a StartTransaction answered after it opens a transaction
    // that is lost at once, with its meter from its planned start and a reading at the crash.
    const c = (csms = await startCsms({ answerDelayMs: 150 }));
    const r = await runFleet(
      fleetConfig(c.url, {
        chargers: fleetConfig('').chargers.concat([{ id: 'CR5', connectors: 2, maxPowerW: 22_000 }]),
        chargerBehaviour: { crashAtMinutes: [8, 14, 22] },
      }),
    );
    expect(r.errors).toEqual({});
    expect(r.counters.crashes).toBe(15);
    expect(r.counters.sessionsActive).toBe(0);
    const { lost } = expectBillableFromTheWire(r, c.log);
    expect(lost.length).toBeGreaterThanOrEqual(3);
    const crashes = [8, 14, 22].map((m) => isoOf(secOf(SIM_START) + m * 60));
    for (const t of lost) expect(crashes).toContain(t.stopAt);
  }, 30_000);
});

describe('chargerBehaviour crash on the sample grid', () => {
  it('a crash at an instant where a periodic reading is due sends no reading of its own: the periodic one is the last', async () => {
    // One arrival every 60 sim s from the sim start (2 a wall second at 120x), a reading every
    // 60 s from each start: every session's grid holds the crash instant, 4 minutes in.
    const c = (csms = await startCsms());
    const r = await runFleet(
      fleetConfig(c.url, {
        chargers: ['GD1', 'GD2', 'GD3'].map((id) => ({ id, connectors: 1, maxPowerW: 22_000 })),
        speed: 120,
        durationSimSec: 360,
        drivers: { arrivalsPerConnectorPerHour: 0, dwellMinutes: [10, 10] },
        load: { kind: 'constant-arrival-rate', rate: 2 },
        chargerBehaviour: { crashAtMinutes: [4] },
      }),
    );
    expect(r.errors).toEqual({});
    const S = isoOf(secOf(SIM_START) + 240);
    const { lost } = expectBillableFromTheWire(r, c.log);
    expect(lost.map((t) => [t.chargerId, t.stopAt]).sort()).toEqual(['GD1', 'GD2', 'GD3'].map((id) => [id, S]));
    const txs = transactions(c.log);
    for (const t of lost) {
      const readings = txs.get(t.transactionId!)!.readings;
      expect(readings.filter((x) => x.mv.timestamp === S).map((x) => x.mv.sampledValue[0].context)).toEqual(['Sample.Periodic']);
      expect(readings.some((x) => x.mv.sampledValue[0].context === 'Sample.Clock')).toBe(false);
    }
  }, 30_000);
});

describe('chargerBehaviour crashesPerChargerPerHour and crashShare', () => {
  /** The Poisson crash instants of one charger, from its own stream (Rng.derive(seed, id, 'crash')). */
  function poissonCrashes(seed: number, id: string, perHour: number, fromSec: number, endSec: number): number[] {
    const rng = Rng.derive(seed, id, 'crash');
    const out: number[] = [];
    let t = fromSec;
    for (;;) {
      t = Math.max(Math.ceil(t + rng.exponential(3600 / perHour)), Math.floor(t) + 1);
      if (t >= endSec) return out;
      out.push(t);
    }
  }

  it('crashes on a seeded Poisson stream of its own per charger: every session before a charger first crashes is the same as without crashes', async () => {
    const perHour = 3;
    const ids = Array.from({ length: 6 }, (_, i) => `PC${i + 1}`);
    const chargers = ids.map((id) => ({ id, connectors: 2, maxPowerW: 22_000 }));
    const c = (csms = await startCsms());
    const r = await runFleet(fleetConfig(c.url, { chargers, chargerBehaviour: { crashesPerChargerPerHour: perHour } }));
    const plainCsms = await startCsms();
    const plain = await runFleet(fleetConfig(plainCsms.url, { chargers }));
    await plainCsms.server.close({ force: true });
    expect(r.errors).toEqual({});
    const start = secOf(SIM_START);
    const planned = new Map(ids.map((id) => [id, poissonCrashes(7, id, perHour, start, start + 1800)]));
    // An instant inside the reboot time (60 s) of the crash before it is no crash of its own.
    const effective = (secs: number[]) => secs.filter(((last) => (s: number) => (s >= last + 60 ? ((last = s), true) : false))(-Infinity));
    const expected = [...planned.values()].reduce((n, secs) => n + effective(secs).length, 0);
    expect(expected).toBeGreaterThanOrEqual(2);
    expect(r.counters.crashes).toBe(expected);
    const { lost } = expectBillableFromTheWire(r, c.log);
    for (const t of lost) expect(planned.get(t.chargerId)!.map(isoOf)).toContain(t.stopAt);
    const untilTx = (t: TruthSession) => ({ ...t, transactionId: null });
    let before = 0;
    for (const id of ids) {
      const firstCrash = planned.get(id)![0] ?? Infinity;
      const mine = (truth: TruthSession[]) => truth.filter((t) => t.chargerId === id && secOf(t.unplugAt) < firstCrash).map(untilTx);
      expect(mine(r.truth)).toEqual(mine(plain.truth));
      before += mine(r.truth).length;
    }
    expect(before).toBeGreaterThan(0);
    // A charger that never crashes lives exactly the sessions it lives without the behaviour.
    for (const id of ids.filter((x) => planned.get(x)!.length === 0)) {
      expect(r.truth.filter((t) => t.chargerId === id).map(untilTx)).toEqual(plain.truth.filter((t) => t.chargerId === id).map(untilTx));
    }
  }, 30_000);

  it('crashShare: at each instant of crashAtMinutes only the chargers of a seeded draw crash, the same ones every run', async () => {
    const ids = Array.from({ length: 8 }, (_, i) => `SH${i + 1}`);
    const config = (url: string) =>
      fleetConfig(url, { chargers: ids.map((id) => ({ id, connectors: 1, maxPowerW: 22_000 })), chargerBehaviour: { crashAtMinutes: [10], crashShare: 0.5 } });
    const dropped = (log: LoggedCall[]) => [...new Set(log.filter((e) => e.action === '#closed').map((e) => e.identity))].sort();
    const c = (csms = await startCsms());
    const r = await runFleet(config(c.url));
    const crashed = dropped(c.log);
    expect(r.counters.crashes).toBe(crashed.length);
    expect(crashed.length).toBeGreaterThan(0);
    expect(crashed.length).toBeLessThan(ids.length);
    expect(crashed).toEqual(ids.filter((id) => Rng.derive(7, id, 'crashAt', 0).next() < 0.5).sort());
    await c.server.close({ force: true });
    const d = (csms = await startCsms());
    await runFleet(config(d.url));
    expect(dropped(d.log)).toEqual(crashed);
  }, 30_000);
});
