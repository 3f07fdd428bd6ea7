// Integration: the simulated fleet against a tiny in-test CSMS built on ocpp-rpc's RPCServer
// (strict mode, so every message the fleet sends is schema-checked by an independent stack).

import type { AddressInfo } from 'node:net';
import hdr from 'hdr-histogram-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultWorkers, fleetCapacity, runFleet } from '../sim/fleet.js';
import type { FleetConfig, FleetProgress, FleetResult, TruthSession } from '../sim/types.js';
import { ensureBuilt } from './helpers/ensure-built.js';
import { RPCServer, type RpcClient } from './helpers/rpc-server.js';

interface Logged {
  identity: string;
  action: string;
  params: any;
}

async function startCsms(opts: { strict: boolean; answerDelayMs?: number }) {
  const log: Logged[] = [];
  const clients = new Map<string, RpcClient>();
  let txSeq = 1000;
  const server = new RPCServer({ protocols: ['ocpp1.6'], strictMode: opts.strict });
  server.on('client', (client) => {
    clients.set(client.identity, client);
    const now = () => new Date().toISOString();
    client.handle(async ({ method, params }) => {
      log.push({ identity: client.identity, action: method, params });
      if (opts.answerDelayMs && (method === 'Authorize' || method === 'StartTransaction')) {
        await new Promise((r) => setTimeout(r, opts.answerDelayMs));
      }
      switch (method) {
        case 'BootNotification':
          return { status: 'Accepted', currentTime: now(), interval: 60 };
        case 'Heartbeat':
          return { currentTime: now() };
        case 'Authorize':
          return { idTagInfo: { status: 'Accepted' } };
        case 'StartTransaction':
          return { transactionId: ++txSeq, idTagInfo: { status: 'Accepted' } };
        case 'StopTransaction':
          return { idTagInfo: { status: 'Accepted' } };
        case 'DataTransfer':
          return { status: 'Accepted' };
        default:
          return {};
      }
    });
  });
  const http = await server.listen(0, '127.0.0.1');
  const port = (http.address() as AddressInfo).port;
  return { server, log, clients, url: `ws://127.0.0.1:${port}/ocpp` };
}

function fleetConfig(url: string, over: Partial<FleetConfig> = {}): FleetConfig {
  return {
    targetUrl: url,
    chargers: Array.from({ length: 5 }, (_, i) => ({ id: `CP${String(i + 1).padStart(3, '0')}`, connectors: 2, maxPowerW: 22_000 })),
    tokens: ['TOKEN-A', 'TOKEN-B', 'TOKEN-C'],
    seed: 42,
    simStart: '2025-03-30T00:30:00.000Z',
    speed: 600,
    durationSimSec: 900,
    ev: { capacityWh: [5_000, 8_000], initialSocPct: [55, 85], targetSocPct: [80, 95], maxPowerW: [7_000, 50_000] },
    drivers: { arrivalsPerConnectorPerHour: 12, dwellMinutes: [2, 6] },
    meterValueSampleIntervalSec: 30,
    callTimeoutMs: 5_000,
    workers: 2,
    startLeadMs: 400,
    ...over,
  };
}

const untilTx = (t: TruthSession) => ({ ...t, transactionId: null });

describe('fleet against an ocpp-rpc CSMS', () => {
  let csms: Awaited<ReturnType<typeof startCsms>>;
  let first: FleetResult;
  const progress: FleetProgress[] = [];

  beforeAll(async () => {
    ensureBuilt();
    csms = await startCsms({ strict: true });
    first = await runFleet(fleetConfig(csms.url), { onProgress: (p) => progress.push(p) });
  }, 60_000);

  afterAll(async () => {
    await csms?.server.close({ force: true });
  });

  it('runs sessions and answers every call', () => {
    const c = first.counters;
    expect(first.workers).toBe(2);
    expect(first.truth.length).toBeGreaterThanOrEqual(5);
    expect(c.sessionsDone).toBe(first.truth.length);
    expect(c.transactions).toBe(first.truth.length);
    expect(c.calls).toBeGreaterThan(0);
    expect(c.answered).toBe(c.calls);
    expect(c.timeouts).toBe(0);
    expect(c.callErrors).toBe(0);
    expect(c.sessionsActive).toBe(0);
    expect(first.errors).toEqual({});
    expect(c.calls).toBe(csms.log.length);
    expect(first.cpuMicros).toBeGreaterThan(0);
    const cpuPerCall = first.cpuMicros / c.calls;
    console.log(
      `fleet: ${c.calls} calls, ${first.truth.length} sessions, dropped ${c.dropped}, wall ${first.wallMs} ms, process CPU ${(first.cpuMicros / 1000).toFixed(0)} ms ` +
        `(${cpuPerCall.toFixed(0)} µs/call incl. the in-process CSMS and pool start-up)`,
    );
  });

  it('truth is self-consistent and matches what the CSMS received', () => {
    const starts = new Map<number, any>();
    const stops = new Map<number, any>();
    const meterValues = new Map<number, Array<{ ts: string; wh: number; w: number }>>();
    for (const e of csms.log) {
      if (e.action === 'StatusNotification') expect(typeof e.params.timestamp).toBe('string');
      if (e.action === 'StopTransaction') stops.set(e.params.transactionId, e.params);
      if (e.action === 'MeterValues' && e.params.transactionId !== undefined) {
        const mv = e.params.meterValue[0];
        const get = (m: string) => Number(mv.sampledValue.find((s: any) => s.measurand === m)?.value);
        const list = meterValues.get(e.params.transactionId) ?? [];
        list.push({ ts: mv.timestamp, wh: get('Energy.Active.Import.Register'), w: get('Power.Active.Import') });
        meterValues.set(e.params.transactionId, list);
      }
    }
    let txSeen = 1000;
    for (const e of csms.log) if (e.action === 'StartTransaction') starts.set(++txSeen, e.params);
    let parked = 0;
    for (const t of first.truth) {
      expect(t.transactionId).not.toBeNull();
      const id = t.transactionId!;
      expect(t.energyWh).toBe(t.meterStopWh - t.meterStartWh);
      expect(t.timeline.reduce((s, iv) => s + iv.energyWh, 0)).toBe(t.energyWh);
      const secs = (Date.parse(t.stopAt) - Date.parse(t.startAt)) / 1000;
      expect(Number.isInteger(secs)).toBe(true);
      expect(t.chargingSeconds + t.parkingSeconds).toBe(secs);
      if (t.timeline.length > 0) expect(t.timeline[0].from).toBe(t.startAt);
      expect(Date.parse(t.plugInAt)).toBeLessThanOrEqual(Date.parse(t.startAt));
      expect(Date.parse(t.unplugAt)).toBeGreaterThanOrEqual(Date.parse(t.stopAt));
      expect(t.stopReason).toBe('Local');
      if (t.parkingSeconds > 0) parked++;
      // the wire agrees with the truth
      const start = starts.get(id);
      expect(start).toMatchObject({ connectorId: t.connectorId, idTag: t.idTag, meterStart: t.meterStartWh, timestamp: t.startAt });
      expect(stops.get(id)).toMatchObject({ meterStop: t.meterStopWh, timestamp: t.stopAt, reason: 'Local', idTag: t.idTag });
      // a sample at every interval start, with the register and the interval's power
      const mv = meterValues.get(id) ?? [];
      let wh = t.meterStartWh;
      for (const iv of t.timeline) {
        const s = mv.find((m) => m.ts === iv.from);
        expect(s, `sample at ${iv.from}`).toBeDefined();
        expect(s!.wh).toBe(wh);
        expect(s!.w).toBe(iv.avgPowerW);
        wh += iv.energyWh;
      }
      expect(mv.find((m) => m.ts === t.stopAt)?.wh).toBe(t.meterStopWh);
    }
    expect(parked).toBeGreaterThan(0);
  });

  it('merges latency histograms across workers', () => {
    expect(progress.length).toBeGreaterThan(0);
    expect(new Set(progress.map((p) => p.workerId))).toEqual(new Set([0, 1]));
    let total = 0;
    for (const [action, b64] of Object.entries(first.latency)) {
      const h = hdr.decodeFromCompressedBase64(b64);
      const expected = csms.log.filter((e) => e.action === action).length;
      expect(h.totalCount, action).toBe(expected);
      total += h.totalCount;
      const svc = hdr.decodeFromCompressedBase64(first.serviceTime[action]);
      expect(svc.totalCount).toBe(h.totalCount);
      // latency counts from the planned instant, so it is never below the service time
      expect(h.maxValue).toBeGreaterThanOrEqual(svc.getValueAtPercentile(50));
    }
    expect(total).toBe(first.counters.calls);
    // per-second deltas add up to the final histograms
    const fromDeltas = new Map<string, number>();
    for (const p of progress)
      for (const [action, b64] of Object.entries(p.latencyDelta))
        fromDeltas.set(action, (fromDeltas.get(action) ?? 0) + hdr.decodeFromCompressedBase64(b64).totalCount);
    for (const [action, b64] of Object.entries(first.latency)) expect(fromDeltas.get(action)).toBe(hdr.decodeFromCompressedBase64(b64).totalCount);
  });

  it('is deterministic: same seed and config give identical truth', async () => {
    const again = await runFleet(fleetConfig(csms.url, { workers: 1 }));
    expect(again.truth.map(untilTx)).toEqual(first.truth.map(untilTx));
    const other = await runFleet(fleetConfig(csms.url, { seed: 43 }));
    expect(other.truth.map(untilTx)).not.toEqual(first.truth.map(untilTx));
  }, 30_000);

  it('a slow CSMS changes when messages are sent, never the truth', async () => {
    // 150 ms late at 600x is 90 simulated seconds: drivers leave and new ones arrive before answers come.
    const slow = await startCsms({ strict: true, answerDelayMs: 150 });
    try {
      const late = await runFleet(fleetConfig(slow.url));
      expect(late.truth.map(untilTx)).toEqual(first.truth.map(untilTx));
      expect(late.counters.turnedAway).toBe(first.counters.turnedAway);
      // StartTransaction goes out on the Authorize answer: its latency is its own 150 ms, not the
      // Authorize's 150 ms again (which it would be if measured from the plug-in).
      // Bounded by the Authorize's own median, so a machine slow for both does not fail it.
      const start = hdr.decodeFromCompressedBase64(late.latency.StartTransaction);
      const authorize = hdr.decodeFromCompressedBase64(late.latency.Authorize);
      expect(start.totalCount).toBeGreaterThan(10);
      expect(start.getValueAtPercentile(50)).toBeGreaterThanOrEqual(150_000);
      expect(start.getValueAtPercentile(50)).toBeLessThan(authorize.getValueAtPercentile(50) + 100_000);
    } finally {
      await slow.server.close({ force: true });
    }
  }, 30_000);

  it('reports how many chargers fit', () => {
    const cap = fleetCapacity();
    expect(cap.openFileLimit).toBeGreaterThan(0);
    expect(cap.maxChargers).toBeLessThan(cap.openFileLimit);
    expect(cap.explanation).toMatch(/chargers/);
  });

  it('leaves half the CPUs to a CSMS on this machine', () => {
    for (const url of ['ws://127.0.0.1:8180/ocpp', 'ws://127.0.9.3/ocpp', 'ws://localhost:9000/ocpp', 'ws://[::1]:9000/ocpp']) {
      expect(defaultWorkers(url, 2), url).toBe(1);
      expect(defaultWorkers(url, 8), url).toBe(4);
      expect(defaultWorkers(url, 1), url).toBe(1);
    }
    expect(defaultWorkers('wss://csms.example.com/ocpp', 2)).toBe(2);
    expect(defaultWorkers('ws://10.0.0.5:9000/ocpp', 8)).toBe(8);
  });
});

describe('charger answers the CSMS', () => {
  it('GetConfiguration, ChangeConfiguration, TriggerMessage, RemoteStart/Stop, Reset, bad CALLs', async () => {
    ensureBuilt();
    const csms = await startCsms({ strict: false });
    const abort = new AbortController();
    const waitFor = async <T>(fn: () => T | undefined, what: string, ms = 5000): Promise<T> => {
      const end = Date.now() + ms;
      for (;;) {
        const v = fn();
        if (v !== undefined && v !== false) return v;
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    const run = runFleet(
      fleetConfig(csms.url, {
        chargers: [{ id: 'CMD1', connectors: 2, maxPowerW: 11_000 }],
        // commands take effect on the next whole sim second: speed 10 keeps that at <= 100 ms
        speed: 10,
        durationSimSec: 36_000,
        drivers: { arrivalsPerConnectorPerHour: 0, dwellMinutes: [30, 30] },
        workers: 1,
        startLeadMs: 100,
      }),
      { signal: abort.signal },
    );
    try {
      await waitFor(() => csms.log.filter((e) => e.identity === 'CMD1' && e.action === 'StatusNotification').length >= 3 || undefined, 'boot');
      const cp = csms.clients.get('CMD1')!;

      const all = await cp.call('GetConfiguration', {});
      const keys = all.configurationKey.map((k: any) => k.key);
      for (const k of ['HeartbeatInterval', 'MeterValueSampleInterval', 'MeterValuesSampledData', 'NumberOfConnectors', 'AuthorizeRemoteTxRequests'])
        expect(keys).toContain(k);
      expect(all.configurationKey.find((k: any) => k.key === 'NumberOfConnectors')).toEqual({ key: 'NumberOfConnectors', readonly: true, value: '2' });
      expect(all.configurationKey.find((k: any) => k.key === 'HeartbeatInterval').value).toBe('60'); // from BootNotification.conf
      const some = await cp.call('GetConfiguration', { key: ['MeterValueSampleInterval', 'NoSuchKey'] });
      expect(some).toEqual({ configurationKey: [{ key: 'MeterValueSampleInterval', readonly: false, value: '30' }], unknownKey: ['NoSuchKey'] });

      expect(await cp.call('ChangeConfiguration', { key: 'NoSuchKey', value: '1' })).toEqual({ status: 'NotSupported' });
      expect(await cp.call('ChangeConfiguration', { key: 'NumberOfConnectors', value: '4' })).toEqual({ status: 'Rejected' });
      expect(await cp.call('ChangeConfiguration', { key: 'MeterValueSampleInterval', value: 'often' })).toEqual({ status: 'Rejected' });
      expect(await cp.call('ChangeConfiguration', { key: 'MeterValueSampleInterval', value: '10' })).toEqual({ status: 'Accepted' });
      expect((await cp.call('GetConfiguration', { key: ['MeterValueSampleInterval'] })).configurationKey[0].value).toBe('10');

      const hbBefore = csms.log.filter((e) => e.action === 'Heartbeat').length;
      expect(await cp.call('TriggerMessage', { requestedMessage: 'Heartbeat' })).toEqual({ status: 'Accepted' });
      await waitFor(() => csms.log.filter((e) => e.action === 'Heartbeat').length > hbBefore || undefined, 'triggered Heartbeat');
      const snBefore = csms.log.filter((e) => e.action === 'StatusNotification').length;
      expect(await cp.call('TriggerMessage', { requestedMessage: 'StatusNotification', connectorId: 2 })).toEqual({ status: 'Accepted' });
      await waitFor(() => csms.log.filter((e) => e.action === 'StatusNotification').length > snBefore || undefined, 'triggered StatusNotification');
      expect(csms.log.filter((e) => e.action === 'StatusNotification').at(-1)!.params).toMatchObject({ connectorId: 2, status: 'Available' });
      expect(await cp.call('TriggerMessage', { requestedMessage: 'MeterValues', connectorId: 1 })).toEqual({ status: 'Accepted' });
      await waitFor(() => csms.log.find((e) => e.action === 'MeterValues'), 'triggered MeterValues');
      expect(await cp.call('TriggerMessage', { requestedMessage: 'DiagnosticsStatusNotification' })).toEqual({ status: 'NotImplemented' });
      expect(await cp.call('TriggerMessage', { requestedMessage: 'BootNotification' })).toEqual({ status: 'Accepted' });
      await waitFor(() => csms.log.filter((e) => e.action === 'BootNotification').length === 2 || undefined, 'triggered BootNotification');

      // remote start on connector 1 plugs an EV in and starts a transaction with the given idTag
      expect(await cp.call('RemoteStartTransaction', { connectorId: 1, idTag: 'REMOTE1' })).toEqual({ status: 'Accepted' });
      const start = await waitFor(() => csms.log.find((e) => e.action === 'StartTransaction'), 'StartTransaction');
      expect(start.params).toMatchObject({ connectorId: 1, idTag: 'REMOTE1' });
      await waitFor(() => csms.log.find((e) => e.action === 'StatusNotification' && e.params.status === 'Charging'), 'Charging');
      expect(await cp.call('RemoteStartTransaction', { connectorId: 1, idTag: 'REMOTE2' })).toEqual({ status: 'Rejected' });
      expect(await cp.call('RemoteStopTransaction', { transactionId: 999_999 })).toEqual({ status: 'Rejected' });
      expect(await cp.call('RemoteStopTransaction', { transactionId: 1001 })).toEqual({ status: 'Accepted' });
      const stop = await waitFor(() => csms.log.find((e) => e.action === 'StopTransaction'), 'StopTransaction');
      expect(stop.params).toMatchObject({ transactionId: 1001, reason: 'Remote' });

      // a second session on connector 2, then a soft reset stops it and re-boots
      expect(await cp.call('RemoteStartTransaction', { idTag: 'REMOTE3' })).toEqual({ status: 'Accepted' });
      await waitFor(() => csms.log.filter((e) => e.action === 'StartTransaction').length === 2 || undefined, 'second start');
      expect(csms.log.filter((e) => e.action === 'StartTransaction')[1].params.connectorId).toBe(2);
      expect(await cp.call('Reset', { type: 'Soft' })).toEqual({ status: 'Accepted' });
      await waitFor(() => csms.log.find((e) => e.action === 'StopTransaction' && e.params.reason === 'SoftReset'), 'reset stop');
      await waitFor(() => csms.log.filter((e) => e.action === 'BootNotification').length === 3 || undefined, 'boot after reset');

      // malformed and unknown CALLs get CALLERRORs with 1.6 codes, and the charger lives on
      const cp2 = await waitFor(() => (csms.clients.get('CMD1') !== cp ? csms.clients.get('CMD1') : undefined), 'reconnected client');
      const answers = new Map<string, any[]>();
      cp2.on('message', ({ message, outbound }) => {
        if (outbound) return;
        const m = JSON.parse(String(message));
        if (m[0] === 4 || m[0] === 3) answers.set(m[1], m);
      });
      cp2.sendRaw('[2,"u1","FooBar",{}]');
      cp2.sendRaw('[2,"u2","Reset",{"type":"Sideways"}]');
      cp2.sendRaw('[2,"u3","Reset",{}]');
      cp2.sendRaw('[2,"u4","ChangeConfiguration",{"key":5,"value":"1"}]');
      cp2.sendRaw('[2,"u5","Reset"]');
      cp2.sendRaw('{not json');
      cp2.sendRaw('[2,"u6","UnlockConnector",{"connectorId":1}]');
      await waitFor(() => (answers.size >= 6 ? true : undefined), 'CALLERRORs');
      expect(answers.get('u1')![2]).toBe('NotImplemented');
      expect(answers.get('u2')![2]).toBe('PropertyConstraintViolation');
      expect(answers.get('u3')![2]).toBe('OccurenceConstraintViolation');
      expect(answers.get('u4')![2]).toBe('TypeConstraintViolation');
      expect(answers.get('u5')![2]).toBe('FormationViolation');
      expect(answers.get('u6')![2]).toBe('NotImplemented');
      expect(await cp2.call('GetConfiguration', { key: ['NumberOfConnectors'] })).toMatchObject({ configurationKey: [{ value: '2' }] });
    } finally {
      abort.abort();
    }
    const result = await run;
    await csms.server.close({ force: true });
    // both remote sessions end up in the truth: one stopped remotely, one by the reset
    expect(result.truth.map((t) => [t.connectorId, t.idTag, t.stopReason, t.wireStopReason])).toEqual([
      [1, 'REMOTE1', 'Remote', 'Remote'],
      [2, 'REMOTE3', 'Other', 'SoftReset'],
    ]);
    for (const t of result.truth) expect(t.energyWh).toBe(t.timeline.reduce((s, iv) => s + iv.energyWh, 0));
    expect(result.counters.timeouts).toBe(0);
  }, 20_000);
});
