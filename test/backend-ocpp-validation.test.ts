// Strict validation of what chargers send stays strict with the back end's cached validator:
// a raw socket sends requests the schema refuses and gets OCPP 1.6 CALLERRORs, never a result.
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createValidator } from 'ocpp-rpc';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ocpp16Validator } from '../ocpp-j/index.js';
import { startBackend, type Backend } from '../backend/server.js';

let dir: string;
let backend: Backend;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cb-ocpp-validation-'));
  backend = await startBackend({ port: 0, dbPath: join(dir, 'test.db'), unknownTagPolicy: 'accept', log: () => undefined });
});
afterAll(async () => {
  await backend.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Sends raw OCPP-J frames and collects the answers by message id. */
async function rawCharger(id: string): Promise<{ call: (msgId: string, action: string, payload: unknown) => Promise<unknown[]>; close: () => void }> {
  const ws = new WebSocket(`ws://127.0.0.1:${backend.port}/ocpp/${id}`, ['ocpp1.6']);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const waiting = new Map<string, (frame: unknown[]) => void>();
  ws.on('message', (data) => {
    const frame = JSON.parse(String(data)) as unknown[];
    waiting.get(frame[1] as string)?.(frame);
  });
  return {
    call: (msgId, action, payload) =>
      new Promise((resolve) => {
        waiting.set(msgId, resolve);
        ws.send(JSON.stringify([2, msgId, action, payload]));
      }),
    close: () => ws.close(),
  };
}

describe('strict OCPP 1.6 validation of incoming calls', () => {
  it('refuses a missing field, a wrong type, an unknown property and an unknown enum value; answers a valid call', async () => {
    const c = await rawCharger('CB-VAL-1');
    const missing = await c.call('m1', 'StartTransaction', { connectorId: 1, meterStart: 0, timestamp: '2026-03-02T08:00:00Z' });
    expect(missing.slice(0, 3)).toEqual([4, 'm1', 'OccurrenceConstraintViolation']);
    const wrongType = await c.call('m2', 'StatusNotification', { connectorId: '1', errorCode: 'NoError', status: 'Available' });
    expect(wrongType.slice(0, 3)).toEqual([4, 'm2', 'TypeConstraintViolation']);
    const extra = await c.call('m3', 'Heartbeat', { surprise: true });
    expect(extra.slice(0, 3)).toEqual([4, 'm3', 'PropertyConstraintViolation']);
    const badEnum = await c.call('m4', 'StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Sleeping' });
    expect(badEnum.slice(0, 3)).toEqual([4, 'm4', 'FormationViolation']); // ocpp-rpc's code for an enum miss
    const ok = await c.call('m5', 'StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' });
    expect(ok).toEqual([3, 'm5', {}]);
    c.close();
  });

  it('the cached validator accepts and refuses exactly what the library validator does, with the same errors', () => {
    const cached = ocpp16Validator()!;
    const require = createRequire(import.meta.url);
    const reference = createValidator('ocpp1.6', require('ocpp-rpc/lib/schemas/ocpp1_6.json'));
    const cases: Array<[string, unknown]> = [
      ['urn:Authorize.req', { idTag: 'A' }],
      ['urn:Authorize.req', { idTag: 'x'.repeat(21) }],
      ['urn:Authorize.req', {}],
      ['urn:StartTransaction.conf', { transactionId: 1, idTagInfo: { status: 'Accepted' } }],
      ['urn:StartTransaction.conf', { transactionId: 1.5, idTagInfo: { status: 'Accepted' } }],
      ['urn:MeterValues.req', { connectorId: 1, meterValue: [{ timestamp: 'not a date', sampledValue: [{ value: '1' }] }] }],
      ['urn:NoSuchAction.req', {}],
    ];
    const outcome = (v: { validate(id: string, p: unknown): unknown }, id: string, p: unknown): unknown => {
      try {
        return v.validate(id, p);
      } catch (err) {
        const e = err as Error & { rpcErrorCode?: string };
        return { code: e.rpcErrorCode, message: e.message };
      }
    };
    for (const [id, p] of cases) {
      expect(outcome(cached, id, p)).toEqual(outcome(reference, id, p));
      expect(outcome(cached, id, p)).toEqual(outcome(reference, id, p)); // second time from the cache
    }
  });
});
