// The closing meter reading of the minimal transaction shape on the stops other than the
// driver's departure: a RemoteStopTransaction off the sample grid, a StartTransaction answered
// with an idTag status other than Accepted (DeAuthorized), and a remote stop on the sample grid
// (a periodic MeterValues already went out at that instant, so StopTransaction carries none).
// The fleet runs against a small in-test CSMS (ocpp-rpc, strict) that logs every call it
// receives and sends RemoteStopTransaction itself.
// Also, for both transaction shapes: the ground-truth record of a session stopped remotely whose
// driver leaves after the arrival window (the drain must wait for the departure, where truth is written).

import type { AddressInfo } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runFleet } from '../sim/fleet.js';
import type { FleetConfig, TruthSession } from '../sim/types.js';
import { ensureBuilt } from './helpers/ensure-built.js';
import { RPCServer, type RpcClient } from './helpers/rpc-server.js';

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
interface StopReq {
  transactionId: number;
  idTag?: string;
  meterStop: number;
  timestamp: string;
  reason?: string;
  transactionData?: MeterValue[];
}
/** One call the CSMS received, in arrival order. */
interface Logged {
  identity: string;
  action: string;
  params: any;
}

interface Policy {
  /** idTagInfo.status of the StartTransaction answer, by charger (default Accepted). */
  startStatus?: (identity: string) => string;
  /** Sees every MeterValues of a transaction, after it was logged. */
  onMeterValues?: (client: RpcClient, params: { transactionId?: number; meterValue: MeterValue[] }) => void;
}

let csms: Awaited<ReturnType<typeof startCsms>> | null = null;

async function startCsms(policy: Policy) {
  const log: Logged[] = [];
  /** Answers of the chargers to RemoteStopTransaction, by transaction id. */
  const remoteStops = new Map<number, string>();
  let txSeq = 700;
  const server = new RPCServer({ protocols: ['ocpp1.6'], strictMode: true });
  server.on('client', (client) => {
    const now = () => new Date().toISOString();
    client.handle(({ method, params }) => {
      log.push({ identity: client.identity, action: method, params });
      switch (method) {
        case 'BootNotification':
          return { status: 'Accepted', currentTime: now(), interval: 3600 };
        case 'Heartbeat':
          return { currentTime: now() };
        case 'Authorize':
          return { idTagInfo: { status: 'Accepted' } };
        case 'StartTransaction':
          return { transactionId: ++txSeq, idTagInfo: { status: policy.startStatus?.(client.identity) ?? 'Accepted' } };
        case 'MeterValues':
          policy.onMeterValues?.(client, params);
          return {};
        case 'StopTransaction':
          return { idTagInfo: { status: 'Accepted' } };
        default:
          return {};
      }
    });
  });
  const http = await server.listen(0, '127.0.0.1');
  const url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}/ocpp`;
  /** Sends RemoteStopTransaction (once per transaction) after `delayMs` of wall time and keeps the charger's answer. */
  const remoteStop = (client: RpcClient, transactionId: number, delayMs: number): void => {
    if (remoteStops.has(transactionId)) return;
    remoteStops.set(transactionId, 'sent');
    setTimeout(() => {
      client.call('RemoteStopTransaction', { transactionId }).then(
        (a: { status: string }) => remoteStops.set(transactionId, a.status),
        (err: Error) => remoteStops.set(transactionId, `failed: ${err.message}`),
      );
    }, delayMs);
  };
  return { server, log, url, remoteStops, remoteStop };
}

beforeAll(() => {
  ensureBuilt(); // the fleet's workers run the built simulator
});

afterEach(async () => {
  await csms?.server.close({ force: true });
  csms = null;
});

/**
 * Minimal transaction messages, one connector per charger, and one arrival per wall second
 * (the first at the sim start) for as many seconds as there are chargers. Sessions last less
 * than a wall second, so every driver leaves inside the arrival window and the run ends with
 * every truth record emitted.
 */
function minimalFleet(url: string, o: { ids: string[]; speed: number; sampleSec: number; dwellMinutes: number }): FleetConfig {
  if (o.dwellMinutes * 60 >= o.speed) throw new Error('sessions must end within a wall second');
  return fleetConfig(url, { ...o, shape: 'minimal' });
}

/** The fleet of minimalFleet without the bound on the session length, in either transaction shape. */
function fleetConfig(url: string, o: { ids: string[]; speed: number; sampleSec: number; dwellMinutes: number; shape: 'full' | 'minimal' }): FleetConfig {
  return {
    targetUrl: url,
    chargers: o.ids.map((id) => ({ id, connectors: 1, maxPowerW: 22_000 })),
    tokens: ['TAG-1', 'TAG-2', 'TAG-3'],
    seed: 11,
    simStart: '2026-03-02T08:00:00Z',
    speed: o.speed,
    durationSimSec: o.ids.length * o.speed,
    ev: { capacityWh: [40_000, 80_000], initialSocPct: [10, 50], targetSocPct: [80, 100], maxPowerW: [7_000, 11_000] },
    drivers: { arrivalsPerConnectorPerHour: 0, dwellMinutes: [o.dwellMinutes, o.dwellMinutes] },
    meterValueSampleIntervalSec: o.sampleSec,
    callTimeoutMs: 5_000,
    workers: 1,
    startLeadMs: 300,
    transactionMessages: o.shape,
    costDisplay: false,
    load: { kind: 'constant-arrival-rate', rate: 1 },
  };
}

const secOf = (iso: string) => Date.parse(iso) / 1000;

/** The energy register of a MeterValue in Wh (OCPP's default unit is Wh; kWh is scaled). */
function energyWh(mv: MeterValue): number | undefined {
  const v = mv.sampledValue.find((s) => (s.measurand ?? 'Energy.Active.Import.Register') === 'Energy.Active.Import.Register');
  if (!v) return undefined;
  return v.unit === 'kWh' ? Math.round(Number(v.value) * 1000) : Number(v.value);
}

/** The closing reading must be exactly one MeterValue at the stop instant, all Transaction.End, equal to meterStop. */
function expectClosingReading(stop: StopReq): void {
  expect(stop.transactionData, `transaction ${stop.transactionId}`).toHaveLength(1);
  const [mv] = stop.transactionData!;
  expect(mv.timestamp).toBe(stop.timestamp);
  expect(mv.sampledValue.length).toBeGreaterThan(0);
  for (const sv of mv.sampledValue) expect(sv.context).toBe('Transaction.End');
  expect(energyWh(mv)).toBe(stop.meterStop);
}

function byTransaction(log: Logged[]) {
  const starts = new Map<number, { identity: string; params: any }>();
  const stops = new Map<number, StopReq>();
  const stopIndex = new Map<number, number>();
  const meterValues = new Map<number, Array<{ index: number; mv: MeterValue }>>();
  // The in-test CSMS hands out transaction ids in the order it receives StartTransaction.
  let tx = 700;
  log.forEach((e, index) => {
    if (e.action === 'StartTransaction') starts.set(++tx, { identity: e.identity, params: e.params });
    if (e.action === 'StopTransaction') {
      stops.set(e.params.transactionId, e.params);
      stopIndex.set(e.params.transactionId, index);
    }
    if (e.action === 'MeterValues' && e.params.transactionId !== undefined) {
      const list = meterValues.get(e.params.transactionId) ?? [];
      for (const mv of e.params.meterValue) list.push({ index, mv });
      meterValues.set(e.params.transactionId, list);
    }
  });
  return { starts, stops, stopIndex, meterValues };
}

const truthOf = (truth: TruthSession[], transactionId: number) => truth.find((t) => t.transactionId === transactionId);

describe('minimal transaction shape: the closing reading on other stops', () => {
  it('a remote stop off the sample grid carries the closing reading in StopTransaction', async () => {
    // 1200x; a sample every 300 s of a 15-minute session. The CSMS stops each transaction 50 ms
    // of wall time (60 sim s) after its first periodic sample, between two grid instants.
    const sampleSec = 300;
    const dwellSec = 15 * 60;
    const c = (csms = await startCsms({
      onMeterValues: (client, p) => {
        if (p.transactionId !== undefined) c.remoteStop(client, p.transactionId, 50);
      },
    }));
    const r = await runFleet(minimalFleet(c.url, { ids: ['RS-1', 'RS-2'], speed: 1200, sampleSec, dwellMinutes: dwellSec / 60 }));
    const { starts, stops, meterValues } = byTransaction(c.log);
    expect(r.counters.dropped).toBe(0);
    expect(starts.size).toBe(2);
    expect(stops.size).toBe(2);
    for (const [tx, start] of starts) {
      expect(c.remoteStops.get(tx)).toBe('Accepted');
      const stop = stops.get(tx)!;
      expect(stop.reason).toBe('Remote');
      // Periodic samples on the grid, then the stop: after the last one, off the grid, before the departure.
      const startSec = secOf(start.params.timestamp);
      const stopAt = secOf(stop.timestamp);
      const samples = meterValues.get(tx) ?? [];
      expect(samples.length).toBeGreaterThanOrEqual(1);
      samples.forEach((s, i) => expect(secOf(s.mv.timestamp)).toBe(startSec + (i + 1) * sampleSec));
      const last = samples[samples.length - 1].mv;
      expect(stopAt).toBeGreaterThan(secOf(last.timestamp));
      expect((stopAt - startSec) % sampleSec).not.toBe(0);
      expect(stopAt).toBeLessThan(startSec + dwellSec);
      expectClosingReading(stop);
      // The EV kept charging after the sample: the closing reading is the stop's, not a copy of the last sample.
      expect(stop.meterStop).toBeGreaterThan(energyWh(last)!);
      const truth = truthOf(r.truth, tx);
      expect(truth).toMatchObject({ stopReason: 'Remote', wireStopReason: 'Remote', stopAt: stop.timestamp, meterStopWh: stop.meterStop });
    }
  }, 30_000);

  it('a StartTransaction answered Invalid or Blocked is stopped DeAuthorized at its start, the closing reading in StopTransaction', async () => {
    // The CSMS opens the transaction but refuses the idTag: the charger stops it at once
    // (stopSession at the start instant). Minimal sends no reading at the start, so the closing
    // reading (the register at the start) rides in StopTransaction.
    const statusOf: Record<string, string> = { 'DA-1': 'Invalid', 'DA-2': 'Blocked' };
    const c = (csms = await startCsms({ startStatus: (identity) => statusOf[identity] }));
    const r = await runFleet(minimalFleet(c.url, { ids: ['DA-1', 'DA-2'], speed: 600, sampleSec: 60, dwellMinutes: 5 }));
    const { starts, stops, meterValues } = byTransaction(c.log);
    expect(r.counters.dropped).toBe(0);
    expect(r.counters.transactions).toBe(0); // none accepted
    expect(c.log.filter((e) => e.action === 'Authorize')).toHaveLength(2);
    expect([...starts.values()].map((s) => s.identity).sort()).toEqual(['DA-1', 'DA-2']);
    expect(stops.size).toBe(2);
    for (const [tx, start] of starts) {
      const stop = stops.get(tx)!;
      expect(stop).toMatchObject({ reason: 'DeAuthorized', timestamp: start.params.timestamp, meterStop: start.params.meterStart });
      expectClosingReading(stop);
      expect(meterValues.get(tx)).toBeUndefined();
      expect(truthOf(r.truth, tx)).toMatchObject({ wireStopReason: 'DeAuthorized', startAt: stop.timestamp, stopAt: stop.timestamp, energyWh: 0 });
    }
  }, 30_000);

  it('a remote stop on the sample grid sends no closing reading: the periodic MeterValues at that instant is it', async () => {
    // A one-second sample interval puts every instant on the grid, so wherever the remote stop
    // lands, the periodic sample at that instant is taken first (meter boundaries run before
    // commands at the same instant) and StopTransaction carries no transactionData.
    const c = (csms = await startCsms({
      onMeterValues: (client, p) => {
        const tx = p.transactionId;
        if (tx === undefined) return;
        const seen = c.log.filter((e) => e.action === 'MeterValues' && e.params.transactionId === tx).length;
        if (seen === 5) c.remoteStop(client, tx, 50);
      },
    }));
    const r = await runFleet(minimalFleet(c.url, { ids: ['GR-1', 'GR-2'], speed: 60, sampleSec: 1, dwellMinutes: 0.5 }));
    const { starts, stops, stopIndex, meterValues } = byTransaction(c.log);
    expect(r.counters.dropped).toBe(0);
    expect(starts.size).toBe(2);
    for (const [tx, start] of starts) {
      expect(c.remoteStops.get(tx)).toBe('Accepted');
      const stop = stops.get(tx)!;
      expect(stop.reason).toBe('Remote');
      expect(stop.transactionData).toBeUndefined();
      const stopAt = secOf(stop.timestamp);
      expect(stopAt).toBeGreaterThan(secOf(start.params.timestamp) + 5);
      expect(stopAt).toBeLessThan(secOf(start.params.timestamp) + 30); // before the departure
      // The periodic reading at the stop instant went out before StopTransaction, equal to meterStop; none after it.
      const samples = meterValues.get(tx)!;
      const atStop = samples.filter((s) => s.mv.timestamp === stop.timestamp);
      expect(atStop).toHaveLength(1);
      expect(atStop[0].index).toBeLessThan(stopIndex.get(tx)!);
      for (const sv of atStop[0].mv.sampledValue) expect(sv.context).toBe('Sample.Periodic');
      expect(energyWh(atStop[0].mv)).toBe(stop.meterStop);
      expect(samples.every((s) => secOf(s.mv.timestamp) <= stopAt)).toBe(true);
      expect(truthOf(r.truth, tx)).toMatchObject({ stopReason: 'Remote', stopAt: stop.timestamp, meterStopWh: stop.meterStop });
    }
  }, 30_000);
});

describe('a session stopped before its driver leaves, the departure after the arrival window', () => {
  it.each(['full', 'minimal'] as const)(
    '%s shape: the remote stop is in the ground truth, written at the departure after the window',
    async (shape) => {
      // 600x, one arrival at the sim start and a 1-wall-second (600 sim s) arrival window; the
      // driver stays 20 sim minutes, so the planned departure is 1200 sim s (2 wall s) after the
      // start, past the window. The CSMS stops the transaction 50 ms of wall time (30 sim s) after
      // its first periodic sample (60 sim s in), long before the departure. The run must not end
      // at the window with the driver still plugged in: truth is written at the unplug.
      const speed = 600;
      const dwellSec = 20 * 60;
      const c = (csms = await startCsms({
        onMeterValues: (client, p) => {
          if (p.transactionId !== undefined) c.remoteStop(client, p.transactionId, 50);
        },
      }));
      const config = fleetConfig(c.url, { ids: ['LD-1'], speed, sampleSec: 60, dwellMinutes: dwellSec / 60, shape });
      const windowEndSec = secOf(config.simStart) + config.durationSimSec;
      const r = await runFleet(config);
      const { starts, stops } = byTransaction(c.log);
      expect(r.errors).toEqual({});
      expect(r.counters.dropped).toBe(0);
      expect(starts.size).toBe(1);
      const [[tx, start]] = [...starts];
      expect(c.remoteStops.get(tx)).toBe('Accepted');
      const stop = stops.get(tx)!;
      expect(stop).toMatchObject({ transactionId: tx, reason: 'Remote' });
      // Stopped inside the window, well before the planned departure.
      expect(secOf(stop.timestamp)).toBeLessThan(windowEndSec);
      expect(secOf(stop.timestamp)).toBeLessThan(secOf(start.params.timestamp) + dwellSec);
      // Exactly one truth record for it, matching the StopTransaction, unplugged after the window.
      const records = r.truth.filter((t) => t.transactionId === tx);
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({
        chargerId: 'LD-1',
        stopReason: 'Remote',
        wireStopReason: 'Remote',
        startAt: start.params.timestamp,
        meterStartWh: start.params.meterStart,
        stopAt: stop.timestamp,
        meterStopWh: stop.meterStop,
      });
      expect(secOf(records[0].unplugAt)).toBeGreaterThan(windowEndSec);
      expect(r.truth).toHaveLength(1);
    },
    30_000,
  );
});
