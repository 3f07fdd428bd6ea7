// What an independently written OCPP 1.6 charger sends, and the reference back end must bill
// right: decimal readings with an integer stop register a fraction below them, statuses without
// timestamps, a reboot with sessions open, a stop with no reason, a zero-energy session, an
// upgrade with the wrong subprotocol. Real WebSocket, real sqlite file, real HTTP.
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RPCClient } from 'ocpp-rpc';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../backend/server.js';
import { testCharger, type ChargerHandler } from './helpers/test-charger.js';

let dir: string;
let backend: Backend;
let base: string;
const logged: string[] = [];
const clients: RPCClient[] = [];

async function charger(id: string, onCost?: (messageId: string) => string): Promise<RPCClient> {
  const c = testCharger(backend.port, id);
  if (onCost)
    c.handle('DataTransfer', (({ params }: { params: { vendorId: string; messageId?: string } }) => ({
      status: onCost(params.messageId ?? ''),
    })) as unknown as ChargerHandler);
  await c.connect();
  clients.push(c);
  return c;
}

async function api<T = any>(path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(base + path, init);
  return (await res.json()) as T;
}
const post = (path: string, body: unknown) => api(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

const T0 = Date.parse('2026-03-02T08:00:00Z');
const at = (sec: number) => new Date(T0 + sec * 1000).toISOString();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const reading = (c: RPCClient, connectorId: number, transactionId: number, sec: number, value: string) =>
  c.call('MeterValues', {
    connectorId,
    transactionId,
    meterValue: [{ timestamp: at(sec), sampledValue: [{ value, measurand: 'Energy.Active.Import.Register', unit: 'Wh', context: 'Sample.Periodic' }] }],
  });

async function start(c: RPCClient, connectorId: number, idTag: string, meterStart: number, sec: number): Promise<number> {
  const r = (await c.call('StartTransaction', { connectorId, idTag, meterStart, timestamp: at(sec) })) as { transactionId: number };
  return r.transactionId;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cb-foreign-'));
  backend = await startBackend({ port: 0, dbPath: join(dir, 'test.db'), runningCostIntervalSec: 0, log: (l) => logged.push(l) });
  base = `http://127.0.0.1:${backend.port}/api`;
  await post('/tariffs', {
    id: 'FOREIGN',
    currency: 'EUR',
    elements: [
      {
        price_components: [
          { type: 'FLAT', price: '0.50', vat: '19', step_size: 1 },
          { type: 'ENERGY', price: '0.40', vat: '19', step_size: 1 },
          { type: 'PARKING_TIME', price: '6.00', vat: '19', step_size: 1 },
        ],
      },
    ],
  });
  await post('/tokens', [{ idTag: 'F-1' }, { idTag: 'F-2' }, { idTag: 'F-3' }]);
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close({ force: true })));
});

afterAll(async () => {
  await backend.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('decimal readings with an integer stop register', () => {
  it('bills the energy once when meterStop is a fraction of a Wh below the last reading', async () => {
    const c = await charger('FC-DEC-1');
    const id = await start(c, 1, 'F-1', 0, 0);
    await reading(c, 1, id, 60, '190.57');
    await reading(c, 1, id, 119, '380.22');
    await c.call('StopTransaction', { transactionId: id, idTag: 'F-1', meterStop: 380, timestamp: at(120), reason: 'EVDisconnected' });
    const s = await api(`/sessions/${id}`);
    expect(s.flags).toEqual([]);
    expect(s.energyWh).toBe(380);
    expect(s.cost.dimensions.ENERGY.quantity).toBe('0.38');
    // The CDR's periods place the same energy in time.
    const cdr = (await api(`/cdrs?sessionId=${id}`)).items[0];
    expect(cdr.total_energy).toBe(0.38);
  });

  it('takes a Transaction.End reading above meterStop at an earlier instant as the same register', async () => {
    const c = await charger('FC-DEC-2');
    const id = await start(c, 1, 'F-1', 1000, 0);
    await reading(c, 1, id, 60, '1380.9');
    // Parked after the EV was full: the register stood still, the stop is written as an integer.
    await c.call('StopTransaction', { transactionId: id, meterStop: 1380, timestamp: at(600) });
    const s = await api(`/sessions/${id}`);
    expect(s.flags).toEqual([]);
    expect(s.energyWh).toBe(380);
    expect(s.cost.dimensions.ENERGY.quantity).toBe('0.38');
  });

  it('still takes a fall that rounding cannot explain as a meter reset', async () => {
    const c = await charger('FC-DEC-3');
    const id = await start(c, 1, 'F-1', 5000, 0);
    await reading(c, 1, id, 60, '5400.5');
    await c.call('StopTransaction', { transactionId: id, meterStop: 300, timestamp: at(120) });
    const s = await api(`/sessions/${id}`);
    expect(s.flags).toContain('meter-reset');
    expect(s.energyWh).toBe(701); // 400.5 before the reset, 300 since: what the readings support
  });
});

describe('statuses without a timestamp', () => {
  it('are dated at the charger time they arrived, not at its previous message', async () => {
    const c = await charger('FC-TS-1');
    const id = await start(c, 1, 'F-2', 0, 0);
    await c.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Charging' });
    await reading(c, 1, id, 10, '100');
    await sleep(1_300);
    // This charger sends Finishing before StopTransaction, without a timestamp.
    await c.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Finishing' });
    await c.call('StopTransaction', { transactionId: id, meterStop: 100, timestamp: at(12) });
    const hist = await api('/chargers/FC-TS-1/status-history?connectorId=1');
    const [charging, finishing] = hist.items;
    expect(charging.at).toBe(at(0)); // arrived right after the start: the start's second
    // 1.3 s of wall time after the reading at 10 s, at the resolution of the charger's clock.
    expect([at(11), at(12)]).toContain(finishing.at);
    const s = await api(`/sessions/${id}`);
    expect(s.parkingSeconds).toBeLessThanOrEqual(1); // dated at the reading, it was 2 s of parking
  });
});

describe('sessions the charger lost', () => {
  it('closes them at their last reading when the charger boots, bills them once, and matches a late stop', async () => {
    const c = await charger('FC-BOOT-1');
    await c.call('BootNotification', { chargePointVendor: 'Other', chargePointModel: 'Sim' });
    const a = await start(c, 1, 'F-1', 1000, 0);
    const b = await start(c, 2, 'F-2', 2000, 30);
    await reading(c, 1, a, 60, '1250.75');
    await reading(c, 2, b, 90, '2100');
    await c.close({ force: true });

    const again = await charger('FC-BOOT-1');
    await again.call('BootNotification', { chargePointVendor: 'Other', chargePointModel: 'Sim' });
    const sa = await api(`/sessions/${a}`);
    expect(sa).toMatchObject({ state: 'completed', stoppedAt: at(60), meterStopWh: 1250, energyWh: 250, stopReason: null });
    expect(sa.flags).toEqual(['closed-without-stop']);
    expect(sa.closeReason).toMatch(/BootNotification/);
    expect(sa.cost.totalInclVat).toBe('0.71'); // 0.50 + 0.25 kWh x 0.40, incl. 19 % VAT
    const sb = await api(`/sessions/${b}`);
    expect(sb).toMatchObject({ state: 'completed', stoppedAt: at(90), energyWh: 100 });

    // The charger sends the stop for one of them after all: matched to it, kept, not billed again.
    const conf = await again.call('StopTransaction', { transactionId: a, idTag: 'F-1', meterStop: 1300, timestamp: at(200), reason: 'PowerLoss' });
    expect(conf).toEqual({ idTagInfo: { status: 'Accepted' } });
    await again.call('StopTransaction', { transactionId: a, meterStop: 1300, timestamp: at(200), reason: 'PowerLoss' });
    const late = await api(`/sessions/${a}`);
    expect(late.flags).toEqual(['closed-without-stop', 'late-stop']);
    expect(late.lateStop).toMatchObject({ timestamp: at(200), meterStop: 1300, reason: 'PowerLoss' });
    expect(late.cost.totalInclVat).toBe('0.71');
    expect((await api(`/cdrs?sessionId=${a}`)).total).toBe(1);
    expect((await api('/unmatched-stops')).items.filter((u: any) => u.transactionId === a)).toEqual([]);
    expect(logged.some((l) => l.includes(`session ${a}`) && l.includes('closed without a stop'))).toBe(true);
  });

  it('closes a session never used (started during a shutdown) at its start with no energy', async () => {
    const c = await charger('FC-BOOT-2');
    const id = await start(c, 1, 'F-3', 700, 0);
    await c.call('BootNotification', { chargePointVendor: 'Other', chargePointModel: 'Sim' });
    const s = await api(`/sessions/${id}`);
    expect(s).toMatchObject({ state: 'completed', stoppedAt: at(0), energyWh: 0, flags: ['closed-without-stop'] });
    expect(s.cost.totalInclVat).toBe('0.60');
  });

  it('closes the open session when a new StartTransaction or an Available comes for its connector', async () => {
    const c = await charger('FC-NEW-1');
    const first = await start(c, 1, 'F-1', 0, 0);
    await reading(c, 1, first, 60, '500');
    const second = await start(c, 1, 'F-2', 500, 120);
    expect(second).not.toBe(first);
    const s1 = await api(`/sessions/${first}`);
    expect(s1).toMatchObject({ state: 'completed', stoppedAt: at(60), energyWh: 500, flags: ['closed-without-stop'] });
    expect(s1.closeReason).toMatch(/StartTransaction/);

    await reading(c, 1, second, 180, '600');
    await c.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: at(200) });
    const s2 = await api(`/sessions/${second}`);
    expect(s2).toMatchObject({ state: 'completed', stoppedAt: at(180), energyWh: 100, flags: ['closed-without-stop'] });
    expect(s2.closeReason).toMatch(/Available/);
    expect((await api('/sessions?chargerId=FC-NEW-1&state=active')).total).toBe(0);
  });
});

describe('defaults and zero energy', () => {
  it('stores a stop without a reason as Local and bills a genuine 0 -> 0 session without a flag', async () => {
    const c = await charger('FC-ZERO-1');
    const id = await start(c, 1, 'F-1', 0, 0);
    await c.call('StopTransaction', { transactionId: id, meterStop: 0, timestamp: at(300) });
    const s = await api(`/sessions/${id}`);
    expect(s).toMatchObject({ stopReason: 'Local', energyWh: 0, flags: [] });
    await c.call('StopTransaction', { transactionId: 987_654, meterStop: 5, timestamp: at(300) });
    const unmatched = (await api('/unmatched-stops')).items.find((u: any) => u.transactionId === 987_654);
    expect(unmatched.reason).toBe('Local');
  });

  it('still flags a lost stop register (0 after energy was metered)', async () => {
    const c = await charger('FC-ZERO-2');
    const id = await start(c, 1, 'F-1', 0, 0);
    await reading(c, 1, id, 60, '250');
    await c.call('StopTransaction', { transactionId: id, meterStop: 0, timestamp: at(120) });
    const s = await api(`/sessions/${id}`);
    expect(s.flags).toEqual(['missing-stop-reading']);
    expect(s.energyWh).toBe(250);
  });
});

describe('cost messages are learnt again at boot', () => {
  it('sends SetUserPrice again after a charger that declined it reboots', async () => {
    const asked: string[] = [];
    let answer = 'UnknownVendorId';
    const c = await charger('FC-COST-1', (m) => {
      asked.push(m);
      return answer;
    });
    await c.call('BootNotification', { chargePointVendor: 'Other', chargePointModel: 'Sim' });
    await c.call('Authorize', { idTag: 'F-1' });
    await sleep(150);
    await c.call('Authorize', { idTag: 'F-1' });
    await sleep(150);
    expect(asked).toEqual(['SetUserPrice']); // declined: no more after the first
    answer = 'Accepted'; // new firmware
    await c.call('BootNotification', { chargePointVendor: 'Other', chargePointModel: 'Sim' });
    await c.call('Authorize', { idTag: 'F-1' });
    await sleep(150);
    expect(asked).toEqual(['SetUserPrice', 'SetUserPrice']);
  });
});

describe('refused upgrades', () => {
  /** A raw upgrade request: what came back before the server closed. */
  const upgrade = (path: string, protocol: string | null) =>
    new Promise<Buffer>((resolve, reject) => {
      const socket = connect(backend.port, '127.0.0.1');
      const chunks: Buffer[] = [];
      socket.on('data', (d) => chunks.push(d));
      socket.on('close', () => resolve(Buffer.concat(chunks)));
      socket.on('error', reject);
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n` +
          (protocol ? `Sec-WebSocket-Protocol: ${protocol}\r\n` : '') +
          '\r\n',
      );
      setTimeout(() => socket.end(), 1000);
    });

  it('completes the handshake without a subprotocol and closes with 1002 and a reason; logs and counts each refusal', async () => {
    const before = (await api('/stats')).refusedUpgrades;
    const answer = await upgrade('/ocpp/FC-201', 'ocpp2.0.1');
    const head = answer.subarray(0, answer.indexOf('\r\n\r\n')).toString();
    expect(head).toMatch(/^HTTP\/1\.1 101/);
    expect(head.toLowerCase()).not.toContain('sec-websocket-protocol');
    const frame = answer.subarray(answer.indexOf('\r\n\r\n') + 4);
    expect(frame[0]).toBe(0x88); // a close frame
    expect(frame.readUInt16BE(2)).toBe(1002);
    expect(frame.subarray(4).toString()).toBe('This back end speaks ocpp1.6; offered: ocpp2.0.1');

    const wrongPath = await upgrade('/somewhere/FC-201', 'ocpp1.6');
    expect(wrongPath.toString()).toMatch(/^HTTP\/1\.1 404/);

    const after = (await api('/stats')).refusedUpgrades;
    expect(after.subprotocol).toBe(before.subprotocol + 1);
    expect(after.path).toBe(before.path + 1);
    const line = logged.find((l) => l.includes('charger FC-201'));
    expect(line).toMatch(/refused the WebSocket upgrade of charger FC-201 from 127\.0\.0\.1:\d+ \(subprotocols offered: ocpp2\.0\.1\)/);
    expect(logged.some((l) => l.includes('path /somewhere/FC-201'))).toBe(true);
  });
});
