// The reference CSMS over a real WebSocket (ocpp-rpc RPCClient as the charger), a real
// sqlite file in a temp dir, and real HTTP. Nothing here depends on the billing engine.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RPCClient } from 'ocpp-rpc';
import { WebSocket } from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../backend/server.js';
import { testCharger } from './helpers/test-charger.js';

let dir: string;
let backend: Backend;
let base: string;
const clients: RPCClient[] = [];

async function charger(id: string): Promise<RPCClient> {
  const c = testCharger(backend.port, id);
  await c.connect();
  clients.push(c);
  return c;
}

async function api<T = any>(path: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const res = await fetch(base + path, init);
  return { status: res.status, body: (await res.json()) as T };
}

const post = (path: string, body: unknown) => api(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cb-backend-ocpp-'));
  backend = await startBackend({ port: 0, dbPath: join(dir, 'test.db'), heartbeatIntervalSec: 60, log: () => undefined });
  base = `http://127.0.0.1:${backend.port}/api`;
  await post('/tokens', [
    { idTag: 'OK-1' },
    { idTag: 'OK-2' },
    { idTag: 'BLOCKED-1', status: 'Blocked' },
    { idTag: 'EXP-1', expiryDate: '2026-03-01T00:00:00Z' },
    { idTag: 'GROUP-B', status: 'Blocked' },
    { idTag: 'CHILD-B', parentIdTag: 'GROUP-B' },
    { idTag: 'GROUP-OK' },
    { idTag: 'CHILD-OK', parentIdTag: 'GROUP-OK' },
  ]);
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close({ force: true })));
});

afterAll(async () => {
  await backend.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('boot, heartbeat, status', () => {
  it('registers an unknown charger at BootNotification and answers Accepted with the interval', async () => {
    const c = await charger('CB-BOOT-1');
    const boot = (await c.call('BootNotification', { chargePointVendor: 'ACME', chargePointModel: 'X1' })) as any;
    expect(boot.status).toBe('Accepted');
    expect(boot.interval).toBe(60);
    expect(Number.isNaN(Date.parse(boot.currentTime))).toBe(false);
    const hb = (await c.call('Heartbeat', {})) as any;
    expect(Number.isNaN(Date.parse(hb.currentTime))).toBe(false);
    const { body } = await api('/chargers');
    const ch = body.items.find((x: any) => x.id === 'CB-BOOT-1');
    expect(ch).toMatchObject({ vendor: 'ACME', model: 'X1', registered: true, connected: true, timeZone: 'UTC' });
    expect(ch.lastHeartbeatAt).not.toBeNull();
  });

  it('keeps the current status per connector and the history with message and received times', async () => {
    const c = await charger('CB-STATUS-1');
    await c.call('BootNotification', { chargePointVendor: 'ACME', chargePointModel: 'X1' });
    await c.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: '2026-03-02T08:00:00Z' });
    await c.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Preparing', timestamp: '2026-03-02T08:01:00+01:00' });
    await c.call('StatusNotification', { connectorId: 2, errorCode: 'NoError', status: 'Available' });
    const { body } = await api('/chargers');
    const ch = body.items.find((x: any) => x.id === 'CB-STATUS-1');
    expect(ch.connectorStatus).toEqual([
      { connectorId: 1, status: 'Preparing', errorCode: 'NoError', at: '2026-03-02T07:01:00.000Z' },
      expect.objectContaining({ connectorId: 2, status: 'Available' }),
    ]);
    const hist = await api('/chargers/CB-STATUS-1/status-history?connectorId=1');
    expect(hist.body.items.map((x: any) => [x.status, x.at])).toEqual([
      ['Available', '2026-03-02T08:00:00.000Z'],
      ['Preparing', '2026-03-02T07:01:00.000Z'],
    ]);
    for (const h of hist.body.items) expect(Number.isNaN(Date.parse(h.receivedAt))).toBe(false);
  });

  it('tracks connections by instance: an old socket closing after a reconnect does not mark the charger offline', async () => {
    const first = await charger('CB-RECONNECT');
    const second = await charger('CB-RECONNECT');
    await second.call('Heartbeat', {});
    await first.close({ force: true });
    await new Promise((r) => setTimeout(r, 100));
    const { body } = await api('/chargers');
    expect(body.items.find((x: any) => x.id === 'CB-RECONNECT').connected).toBe(true);
    await second.close({ force: true });
    await new Promise((r) => setTimeout(r, 100));
    const after = await api('/chargers');
    expect(after.body.items.find((x: any) => x.id === 'CB-RECONNECT').connected).toBe(false);
  });
});

describe('Authorize', () => {
  it("answers from the token table, with expiry against the charger's latest sim time and parent blocking", async () => {
    const c = await charger('CB-AUTH-1');
    const auth = async (idTag: string) => ((await c.call('Authorize', { idTag })) as any).idTagInfo;
    expect((await auth('OK-1')).status).toBe('Accepted');
    expect((await auth('BLOCKED-1')).status).toBe('Blocked');
    expect((await auth('NOPE-1')).status).toBe('Invalid');
    expect(await auth('CHILD-B')).toEqual({ status: 'Blocked', parentIdTag: 'GROUP-B' });
    expect(await auth('CHILD-OK')).toEqual({ status: 'Accepted', parentIdTag: 'GROUP-OK' });
    // The charger's clock says February 2026: EXP-1 (expires 1 March 2026) is still valid.
    await c.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: '2026-02-27T10:00:00Z' });
    expect(await auth('EXP-1')).toEqual({ status: 'Accepted', expiryDate: '2026-03-01T00:00:00.000Z' });
    // ... and after the charger reports March, it has expired.
    await c.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: '2026-03-01T00:00:01Z' });
    expect((await auth('EXP-1')).status).toBe('Expired');
  });

  it('accepts unknown tags when the policy says so', async () => {
    const d2 = mkdtempSync(join(tmpdir(), 'cb-backend-accept-'));
    const b2 = await startBackend({ port: 0, dbPath: join(d2, 'a.db'), unknownTagPolicy: 'accept', log: () => undefined });
    try {
      const c = testCharger(b2.port, 'CB-ACCEPT');
      await c.connect();
      expect(((await c.call('Authorize', { idTag: 'WHOEVER' })) as any).idTagInfo.status).toBe('Accepted');
      const start = (await c.call('StartTransaction', {
        connectorId: 1,
        idTag: 'WHOEVER',
        meterStart: 0,
        timestamp: '2026-03-02T08:00:00Z',
      })) as any;
      expect(start.transactionId).toBeGreaterThan(0);
      await c.close({ force: true });
    } finally {
      await b2.close();
      rmSync(d2, { recursive: true, force: true });
    }
  });
});

describe('StartTransaction', () => {
  it('gives transaction ids unique across chargers, and the same id to an identical retried start', async () => {
    const a = await charger('CB-START-A');
    const b = await charger('CB-START-B');
    const req = { connectorId: 1, idTag: 'OK-1', meterStart: 1000, timestamp: '2026-03-02T08:00:00Z' };
    const [ra, rb] = (await Promise.all([a.call('StartTransaction', req), b.call('StartTransaction', req)])) as any[];
    expect(ra.idTagInfo.status).toBe('Accepted');
    expect(rb.idTagInfo.status).toBe('Accepted');
    expect(ra.transactionId).not.toBe(rb.transactionId);
    // Retried (also concurrently) with identical content: same id, one session.
    const [r1, r2] = (await Promise.all([a.call('StartTransaction', req), a.call('StartTransaction', req)])) as any[];
    expect(r1.transactionId).toBe(ra.transactionId);
    expect(r2.transactionId).toBe(ra.transactionId);
    const { body } = await api('/sessions?chargerId=CB-START-A');
    expect(body.total).toBe(1);
    expect(body.items[0]).toMatchObject({ id: ra.transactionId, transactionId: ra.transactionId, state: 'active', cost: null, meterStartWh: 1000 });
  });

  it('re-checks the idTag: a blocked tag gets its status and no session', async () => {
    const c = await charger('CB-START-BLOCKED');
    const r = (await c.call('StartTransaction', {
      connectorId: 1,
      idTag: 'BLOCKED-1',
      meterStart: 0,
      timestamp: '2026-03-02T08:00:00Z',
    })) as any;
    expect(r.idTagInfo.status).toBe('Blocked');
    const { body } = await api('/sessions?chargerId=CB-START-BLOCKED');
    expect(body.total).toBe(0);
  });
});

describe('StopTransaction', () => {
  it('is idempotent: one stop, one closing; a repeat answers the same', async () => {
    const c = await charger('CB-STOP-1');
    const { transactionId } = (await c.call('StartTransaction', {
      connectorId: 1,
      idTag: 'OK-2',
      meterStart: 5000,
      timestamp: '2026-03-02T08:00:00Z',
    })) as any;
    const stop = { transactionId, idTag: 'OK-2', meterStop: 7500, timestamp: '2026-03-02T09:00:00Z', reason: 'Local' };
    const [s1, s2] = (await Promise.all([c.call('StopTransaction', stop), c.call('StopTransaction', stop)])) as any[];
    const s3 = (await c.call('StopTransaction', stop)) as any;
    expect(s1).toEqual({ idTagInfo: { status: 'Accepted' } });
    expect(s2).toEqual(s1);
    expect(s3).toEqual(s1);
    const { body } = await api(`/sessions/${transactionId}`);
    expect(body).toMatchObject({ state: 'completed', meterStopWh: 7500, energyWh: 2500, stopReason: 'Local', stoppedAt: '2026-03-02T09:00:00.000Z' });
    const un = await api('/unmatched-stops');
    expect(un.body.items.filter((x: any) => x.transactionId === transactionId)).toEqual([]);
  });

  it('acknowledges stops for unknown transactions (and 0 / -1) and lists them for reconciliation', async () => {
    const c = await charger('CB-STOP-UNKNOWN');
    const r1 = await c.call('StopTransaction', { transactionId: 987654, idTag: 'OK-1', meterStop: 100, timestamp: '2026-03-02T09:00:00Z' });
    expect(r1).toEqual({ idTagInfo: { status: 'Accepted' } });
    expect(await c.call('StopTransaction', { transactionId: -1, meterStop: 100, timestamp: '2026-03-02T09:01:00Z' })).toEqual({});
    expect(await c.call('StopTransaction', { transactionId: 0, meterStop: 100, timestamp: '2026-03-02T09:02:00Z' })).toEqual({});
    // the same unknown stop again is recorded once
    await c.call('StopTransaction', { transactionId: 987654, idTag: 'OK-1', meterStop: 100, timestamp: '2026-03-02T09:00:00Z' });
    const { body } = await api('/unmatched-stops');
    const mine = body.items.filter((x: any) => x.chargerId === 'CB-STOP-UNKNOWN');
    expect(mine.map((x: any) => x.transactionId).sort((a: number, b: number) => a - b)).toEqual([-1, 0, 987654]);
    expect(mine.find((x: any) => x.transactionId === 987654)).toMatchObject({ idTag: 'OK-1', meterStop: 100, timestamp: '2026-03-02T09:00:00.000Z' });
  });

  it('stores transactionData and late Transaction.End values do not reopen the session', async () => {
    const c = await charger('CB-STOP-TXDATA');
    const { transactionId } = (await c.call('StartTransaction', {
      connectorId: 1,
      idTag: 'OK-1',
      meterStart: 0,
      timestamp: '2026-03-02T08:00:00Z',
    })) as any;
    await c.call('StopTransaction', {
      transactionId,
      meterStop: 3000,
      timestamp: '2026-03-02T09:00:00Z',
      transactionData: [
        { timestamp: '2026-03-02T08:00:00Z', sampledValue: [{ value: '0', context: 'Transaction.Begin' }] },
        { timestamp: '2026-03-02T08:30:00Z', sampledValue: [{ value: '1.5', unit: 'kWh', context: 'Sample.Periodic' }] },
        { timestamp: '2026-03-02T09:00:00Z', sampledValue: [{ value: '3000', unit: 'Wh', context: 'Transaction.End' }] },
      ],
    });
    await c.call('MeterValues', {
      connectorId: 1,
      transactionId,
      meterValue: [{ timestamp: '2026-03-02T09:00:05Z', sampledValue: [{ value: '3100', context: 'Transaction.End' }] }],
    });
    const { body } = await api(`/sessions/${transactionId}`);
    expect(body.state).toBe('completed');
    expect(body.energyWh).toBe(3000);
    expect(body.meterValues.map((m: any) => [m.context, m.valueWh])).toEqual([
      ['Transaction.Begin', 0],
      ['Sample.Periodic', 1500],
      ['Transaction.End', 3000],
      ['Transaction.End', 3100],
    ]);
  });
});

describe('MeterValues', () => {
  it('stores every sampled value with its attributes, kWh normalised to Wh, fractions kept', async () => {
    const c = await charger('CB-METER-1');
    const { transactionId } = (await c.call('StartTransaction', {
      connectorId: 1,
      idTag: 'OK-1',
      meterStart: 2000,
      timestamp: '2026-03-02T08:00:00Z',
    })) as any;
    await c.call('MeterValues', {
      connectorId: 1,
      transactionId,
      meterValue: [
        {
          timestamp: '2026-03-02T08:15:00Z',
          sampledValue: [
            { value: '2100.5', measurand: 'Energy.Active.Import.Register', unit: 'Wh', context: 'Sample.Periodic', location: 'Outlet', format: 'Raw' },
            { value: '7.4', measurand: 'Power.Active.Import', unit: 'kW', context: 'Sample.Periodic' },
            { value: '10.7', measurand: 'Current.Import', unit: 'A', phase: 'L1' },
          ],
        },
        { timestamp: '2026-03-02T08:30:00Z', sampledValue: [{ value: '4.0125', unit: 'kWh', context: 'Sample.Clock' }] },
      ],
    });
    // no transactionId: attributed to the connector's active session
    await c.call('MeterValues', {
      connectorId: 1,
      meterValue: [{ timestamp: '2026-03-02T08:45:00Z', sampledValue: [{ value: '5000' }] }],
    });
    const { body } = await api(`/sessions/${transactionId}`);
    expect(body.meterValues).toEqual([
      {
        at: '2026-03-02T08:15:00.000Z',
        measurand: 'Energy.Active.Import.Register',
        phase: null,
        unit: 'Wh',
        context: 'Sample.Periodic',
        location: 'Outlet',
        format: 'Raw',
        value: '2100.5',
        valueWh: 2100.5,
      },
      {
        at: '2026-03-02T08:15:00.000Z',
        measurand: 'Power.Active.Import',
        phase: null,
        unit: 'kW',
        context: 'Sample.Periodic',
        location: null,
        format: null,
        value: '7.4',
      },
      { at: '2026-03-02T08:15:00.000Z', measurand: 'Current.Import', phase: 'L1', unit: 'A', context: null, location: null, format: null, value: '10.7' },
      {
        at: '2026-03-02T08:30:00.000Z',
        measurand: 'Energy.Active.Import.Register',
        phase: null,
        unit: 'kWh',
        context: 'Sample.Clock',
        location: null,
        format: null,
        value: '4.0125',
        valueWh: 4012.5,
      },
      {
        at: '2026-03-02T08:45:00.000Z',
        measurand: 'Energy.Active.Import.Register',
        phase: null,
        unit: null,
        context: null,
        location: null,
        format: null,
        value: '5000',
        valueWh: 5000,
      },
    ]);
  });
});

describe('protocol robustness', () => {
  it('answers a malformed frame with a CALLERROR and keeps the connection working', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${backend.port}/ocpp/CB-RAW-1`, ['ocpp1.6']);
    const messages: any[] = [];
    const next = () =>
      new Promise<any>((resolve) => {
        if (messages.length) return resolve(messages.shift());
        ws.once('message', () => resolve(messages.shift()));
      });
    ws.on('message', (m) => messages.push(JSON.parse(m.toString())));
    await new Promise((r, j) => {
      ws.once('open', r);
      ws.once('error', j);
    });
    ws.send('this is not json [');
    const err = await next();
    expect(err[0]).toBe(4);
    expect(err[2]).toBe('RpcFrameworkError');
    ws.send(JSON.stringify([2, 'm-2', 'Heartbeat', { unexpected: true }]));
    const err2 = await next();
    expect(err2[0]).toBe(4);
    expect(err2[1]).toBe('m-2');
    ws.send(JSON.stringify([2, 'm-3', 'NoSuchAction', {}]));
    const err3 = await next();
    expect(err3.slice(0, 3)).toEqual([4, 'm-3', 'NotImplemented']);
    ws.send(JSON.stringify([2, 'm-4', 'Heartbeat', {}]));
    const ok = await next();
    expect(ok[0]).toBe(3);
    expect(ok[1]).toBe('m-4');
    expect(typeof ok[2].currentTime).toBe('string');
    ws.close();
  });

  it('refuses WebSocket upgrades outside /ocpp/ and without the ocpp1.6 subprotocol', async () => {
    const tryOpen = (url: string, protocols: string[]) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(url, protocols);
        ws.once('open', () => {
          ws.close();
          resolve('open');
        });
        ws.once('unexpected-response', (_req, res) => {
          resolve(String(res.statusCode));
          ws.terminate();
        });
        ws.once('error', () => resolve('error'));
      });
    expect(await tryOpen(`ws://127.0.0.1:${backend.port}/elsewhere/X`, ['ocpp1.6'])).toBe('404');
    // OCPP-J: the handshake completes without a subprotocol, then the server closes
    // (backend-foreign-charger.test.ts reads the close frame); this client gives up at once.
    expect(await tryOpen(`ws://127.0.0.1:${backend.port}/ocpp/X`, ['ocpp2.0.1'])).toBe('error');
  });

  it('answers DataTransfer: UnknownVendorId unless the vendor is known', async () => {
    const c = await charger('CB-DT-1');
    expect(await c.call('DataTransfer', { vendorId: 'com.example' })).toEqual({ status: 'UnknownVendorId' });
    expect(await c.call('DataTransfer', { vendorId: 'chargebench', messageId: 'echo', data: 'hi' })).toEqual({ status: 'Accepted', data: 'hi' });
    expect(await c.call('DataTransfer', { vendorId: 'chargebench', messageId: 'nope' })).toEqual({ status: 'UnknownMessageId' });
  });
});
