// OCPI CDRs and tariffs over real HTTP, sessions over a real OCPP WebSocket (ocpp-rpc client),
// store in a real sqlite file: the CDR field by field against the reference's CDR list,
// pagination and date filters, the envelope, token auth, corrections and immutability.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Decimal } from 'decimal.js';
import { RPCClient } from 'ocpp-rpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../backend/server.js';
import { Db } from '../backend/store/db.js';
import { testCharger } from './helpers/test-charger.js';

let dir: string;
let backend: Backend;
let root: string;

const json = { 'content-type': 'application/json' };
async function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: any; text: string }> {
  const res = await fetch(root + path, { headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: JSON.parse(text), text };
}
async function post(path: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(root + path, { method: 'POST', headers: json, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

async function charger(port: number, id: string): Promise<RPCClient> {
  const c = testCharger(port, id);
  await c.connect();
  return c;
}

const TARIFF = {
  id: 'CDR-T',
  currency: 'EUR',
  elements: [
    {
      price_components: [
        { type: 'FLAT', price: 0.5, vat: 20, step_size: 1 },
        { type: 'ENERGY', price: 0.25, vat: 10, step_size: 1 },
        { type: 'TIME', price: 1.0, vat: 10, step_size: 1 },
        { type: 'PARKING_TIME', price: 2.0, vat: 20, step_size: 1 },
      ],
    },
  ],
};

/** One session: 22 kWh, 2 h charging, 30 min parking (SuspendedEV). */
async function session(c: RPCClient, idTag: string, day: string): Promise<number> {
  const start = (await c.call('StartTransaction', { connectorId: 1, idTag, meterStart: 1000, timestamp: `${day}T08:00:00Z` })) as any;
  const tx = start.transactionId as number;
  await c.call('MeterValues', {
    connectorId: 1,
    transactionId: tx,
    meterValue: [{ timestamp: `${day}T09:00:00Z`, sampledValue: [{ value: '12000', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }],
  });
  await c.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'SuspendedEV', timestamp: `${day}T10:00:00Z` });
  await c.call('StopTransaction', { transactionId: tx, meterStop: 23000, timestamp: `${day}T10:30:00Z`, idTag });
  await c.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: `${day}T10:31:00Z` });
  return tx;
}

const isIso = (v: unknown) => typeof v === 'string' && !Number.isNaN(Date.parse(v)) && v.endsWith('Z');
const priceOf = (excl: string, incl: string) => ({ excl_vat: Number(excl), incl_vat: Number(incl) });
const sumOf = (cdr: any, types: string[]) =>
  cdr.charging_periods
    .flatMap((p: any) => p.dimensions)
    .filter((d: any) => types.includes(d.type))
    .reduce((t: Decimal, d: any) => t.plus(String(d.volume)), new Decimal(0));

const txs: number[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cb-ocpi-'));
  backend = await startBackend({ port: 0, dbPath: join(dir, 'ocpi.db'), unknownTagPolicy: 'accept', log: () => undefined });
  root = `http://127.0.0.1:${backend.port}`;
  expect((await post('/api/tariffs', TARIFF)).status).toBe(201);
  expect(
    (
      await post('/api/locations', {
        id: 'LOC-AMS',
        name: 'Depot Amsterdam',
        timeZone: 'Europe/Amsterdam',
        address: { address: 'Kade 1', city: 'Amsterdam', postalCode: '1011AA', country: 'NLD' },
      })
    ).status,
  ).toBe(200);
  expect((await post('/api/chargers', { id: 'CB-OCPI-1', locationId: 'LOC-AMS' })).status).toBe(200);
  expect((await post('/api/tokens', { idTag: 'DRIVER-1' })).status).toBe(200);
  const c = await charger(backend.port, 'CB-OCPI-1');
  for (let i = 0; i < 5; i++) {
    txs.push(await session(c, i === 4 ? 'STRANGER' : 'DRIVER-1', `2026-03-0${i + 1}`));
    await new Promise((r) => setTimeout(r, 5)); // distinct last_updated instants
  }
  await c.close({ force: true });
});
afterAll(async () => {
  await backend.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('OCPI CDRs', () => {
  it('a finished session has one CDR with every field of the reference list, totals equal to the priced session', async () => {
    const tx = txs[0];
    const { body: page } = await get('/ocpi/2.2.1/cdrs');
    const cdrs = page.data.filter((c: any) => c.session_id === String(tx));
    expect(cdrs).toHaveLength(1);
    const cdr = cdrs[0];
    const { body: s } = await get(`/api/sessions/${tx}`);

    expect(cdr.country_code).toBe('NL');
    expect(cdr.party_id).toBe('CBX');
    expect(cdr.id).toBe(String(tx));
    expect(cdr.start_date_time).toBe('2026-03-01T08:00:00.000Z');
    expect(cdr.end_date_time).toBe('2026-03-01T10:30:00.000Z');
    expect(cdr.session_id).toBe(String(tx));
    expect(cdr.cdr_token).toEqual({ country_code: 'NL', party_id: 'CBX', uid: 'DRIVER-1', type: 'RFID', contract_id: 'DRIVER-1' });
    expect(cdr.auth_method).toBe('WHITELIST');
    expect(cdr.cdr_location).toMatchObject({
      id: 'LOC-AMS',
      name: 'Depot Amsterdam',
      address: 'Kade 1',
      city: 'Amsterdam',
      postal_code: '1011AA',
      country: 'NLD',
      evse_uid: 'CB-OCPI-1-1',
      connector_id: '1',
      time_zone: 'Europe/Amsterdam',
    });
    for (const k of ['evse_id', 'connector_standard', 'connector_format', 'connector_power_type']) expect(typeof cdr.cdr_location[k]).toBe('string');
    expect(cdr.currency).toBe('EUR');
    expect(cdr.tariffs).toHaveLength(1);
    expect(cdr.tariffs[0]).toMatchObject({ ...TARIFF, country_code: 'NL', party_id: 'CBX' });
    expect(isIso(cdr.tariffs[0].last_updated)).toBe(true);

    expect(cdr.charging_periods.length).toBeGreaterThanOrEqual(2);
    for (const p of cdr.charging_periods) {
      expect(isIso(p.start_date_time)).toBe(true);
      expect(p.tariff_id).toBe('CDR-T');
      for (const d of p.dimensions) {
        expect(['ENERGY', 'TIME', 'PARKING_TIME', 'MAX_POWER', 'MIN_POWER', 'MAX_CURRENT', 'MIN_CURRENT', 'RESERVATION_TIME']).toContain(d.type);
        expect(typeof d.volume).toBe('number');
      }
    }
    // The periods add up to the totals.
    expect(sumOf(cdr, ['ENERGY']).toNumber()).toBe(cdr.total_energy);
    expect(sumOf(cdr, ['TIME', 'PARKING_TIME']).toNumber()).toBe(cdr.total_time);
    expect(sumOf(cdr, ['PARKING_TIME']).toNumber()).toBe(cdr.total_parking_time);
    expect(cdr.total_energy).toBe(22);
    expect(cdr.total_time).toBe(2.5);
    expect(cdr.total_parking_time).toBe(0.5);

    // Costs equal what the session was priced at.
    expect(s.cost.totalExclVat).toBe('9.00');
    expect(s.cost.totalInclVat).toBe('10.05');
    expect(cdr.total_cost).toEqual(priceOf(s.cost.totalExclVat, s.cost.totalInclVat));
    const d = s.cost.dimensions;
    expect(cdr.total_fixed_cost).toEqual(priceOf(d.FLAT.exclVat, d.FLAT.inclVat));
    expect(cdr.total_energy_cost).toEqual(priceOf(d.ENERGY.exclVat, d.ENERGY.inclVat));
    expect(cdr.total_time_cost).toEqual(priceOf(d.TIME.exclVat, d.TIME.inclVat));
    expect(cdr.total_parking_cost).toEqual(priceOf(d.PARKING_TIME.exclVat, d.PARKING_TIME.inclVat));
    expect(cdr.total_reservation_cost).toEqual({ excl_vat: 0, incl_vat: 0 });
    expect(cdr.total_energy_cost).toEqual({ excl_vat: 5.5, incl_vat: 6.05 });
    expect(isIso(cdr.last_updated)).toBe(true);
    expect(cdr.credit).toBeUndefined();

    // The session says which tariff and version priced it, and why.
    expect(s).toMatchObject({ tariffId: 'CDR-T', tariffScope: 'default', locationId: 'LOC-AMS', timeZone: 'Europe/Amsterdam', authMethod: 'WHITELIST' });
    expect(typeof s.tariffVersion).toBe('number');

    // An unknown token let through by policy is not a whitelist hit.
    const stranger = page.data.find((c: any) => c.session_id === String(txs[4]));
    expect(stranger.auth_method).toBe('AUTH_REQUEST');
    // The REST views serve the same object.
    expect((await get(`/api/cdrs/${cdr.id}`)).body).toEqual(cdr);
    expect((await get(`/api/cdrs?sessionId=${tx}`)).body).toMatchObject({ total: 1, items: [cdr] });
  });

  it('envelope, pagination headers with a next link carrying the filters, and a capped limit', async () => {
    const first = await get('/ocpi/2.2.1/cdrs?limit=2');
    expect(first.status).toBe(200);
    expect(Object.keys(first.body).sort()).toEqual(['data', 'status_code', 'status_message', 'timestamp']);
    expect(first.body.status_code).toBe(1000);
    expect(typeof first.body.status_message).toBe('string');
    expect(isIso(first.body.timestamp)).toBe(true);
    expect(first.headers.get('x-total-count')).toBe('5');
    expect(first.headers.get('x-limit')).toBe('100');
    expect(first.body.data).toHaveLength(2);

    const seen: string[] = first.body.data.map((c: any) => c.id);
    let link = first.headers.get('link');
    let pages = 1;
    while (link) {
      const m = /^<([^>]+)>; rel="next"$/.exec(link);
      expect(m).not.toBeNull();
      const url = new URL(m![1]);
      expect(url.searchParams.get('limit')).toBe('2');
      const next = await get(url.pathname + url.search);
      seen.push(...next.body.data.map((c: any) => c.id));
      link = next.headers.get('link');
      pages++;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(txs.map(String));

    const capped = await get('/ocpi/2.2.1/cdrs?limit=5000');
    expect(capped.headers.get('x-limit')).toBe('100');
    expect(capped.body.data).toHaveLength(5);
    expect(capped.headers.get('link')).toBeNull();
  });

  it('date_from is inclusive, date_to exclusive, on last_updated; the next link keeps them', async () => {
    const all = (await get('/ocpi/2.2.1/cdrs')).body.data;
    const from = all[1].last_updated;
    const to = all[4].last_updated;
    const r = await get(`/ocpi/2.2.1/cdrs?date_from=${encodeURIComponent(from)}&date_to=${encodeURIComponent(to)}&limit=2`);
    expect(r.headers.get('x-total-count')).toBe('3');
    expect(r.body.data.map((c: any) => c.id)).toEqual([all[1].id, all[2].id]);
    const next = new URL(/^<([^>]+)>/.exec(r.headers.get('link')!)![1]);
    expect(next.searchParams.get('date_from')).toBe(from);
    expect(next.searchParams.get('date_to')).toBe(to);
    expect(next.searchParams.get('offset')).toBe('2');
    const rest = await get(next.pathname + next.search);
    expect(rest.body.data.map((c: any) => c.id)).toEqual([all[3].id]);
  });

  it('bad parameters answer OCPI 2001 envelopes', async () => {
    for (const q of ['limit=abc', 'offset=-1', 'date_from=yesterday', 'limit=0']) {
      const r = await get(`/ocpi/2.2.1/cdrs?${q}`);
      expect(r.status).toBe(400);
      expect(r.body.status_code).toBe(2001);
      expect(r.body.data).toBeUndefined();
      expect(typeof r.body.status_message).toBe('string');
      expect(isIso(r.body.timestamp)).toBe(true);
    }
    const unknown = await get('/ocpi/2.2.1/sessions');
    expect(unknown.status).toBe(404);
    expect(unknown.body.status_code).toBe(2000);
  });

  it('tariffs are published in OCPI form, paginated the same way', async () => {
    const r = await get('/ocpi/2.2.1/tariffs?limit=1');
    expect(r.body.status_code).toBe(1000);
    expect(r.headers.get('x-total-count')).toBe('1');
    expect(r.body.data[0]).toMatchObject({ ...TARIFF, country_code: 'NL', party_id: 'CBX' });
    expect(isIso(r.body.data[0].last_updated)).toBe(true);
    const future = await get('/ocpi/2.2.1/tariffs?date_from=2999-01-01T00:00:00Z');
    expect(future.body.data).toEqual([]);
    expect((await get('/api/tariffs/ocpi')).body).toMatchObject({ total: 1, items: [r.body.data[0]] });
  });
});

describe('CDR corrections', () => {
  it('a correction creates a credit CDR and a new CDR; the original stays byte-identical', async () => {
    expect(
      (await post('/api/tariffs', { id: 'CHEAP', currency: 'EUR', elements: [{ price_components: [{ type: 'ENERGY', price: 0.1, vat: 10, step_size: 1 }] }] }))
        .status,
    ).toBe(201);
    const id = String(txs[1]);
    const before = await get(`/api/cdrs/${id}`);
    const r = await post(`/api/cdrs/${id}/corrections`, { tariffId: 'CHEAP', remark: 'wrong tariff' });
    expect(r.status).toBe(201);
    const { credit, cdr } = r.body;
    const original = before.body;

    expect(credit.id).toBe(`${id}-C`);
    expect(credit.credit).toBe(true);
    expect(credit.credit_reference_id).toBe(id);
    for (const f of ['total_cost', 'total_fixed_cost', 'total_energy_cost', 'total_time_cost', 'total_parking_cost']) {
      expect(credit[f]).toEqual({
        excl_vat: original[f].excl_vat === 0 ? 0 : -original[f].excl_vat,
        incl_vat: original[f].incl_vat === 0 ? 0 : -original[f].incl_vat,
      });
    }
    expect(credit.total_cost).toEqual({ excl_vat: -9, incl_vat: -10.05 });
    expect(credit.charging_periods).toEqual(original.charging_periods);
    expect(credit.tariffs).toEqual(original.tariffs);
    expect(credit.total_energy).toBe(original.total_energy);

    expect(cdr.id).toBe(`${id}-1`);
    expect(cdr.credit).toBeUndefined();
    expect(cdr.session_id).toBe(id);
    expect(cdr.tariffs[0].id).toBe('CHEAP');
    expect(cdr.total_cost).toEqual({ excl_vat: 2.2, incl_vat: 2.42 });
    expect(cdr.total_energy).toBe(22);
    expect(cdr.charging_periods.every((p: any) => p.tariff_id === 'CHEAP')).toBe(true);

    const after = await get(`/api/cdrs/${id}`);
    expect(after.text).toBe(before.text);
    const listed = await get(`/api/cdrs?sessionId=${id}`);
    expect(listed.body.items.map((c: any) => c.id)).toEqual([id, `${id}-C`, `${id}-1`]);
    // All three are published over OCPI.
    expect((await get('/ocpi/2.2.1/cdrs')).headers.get('x-total-count')).toBe('7');

    // Credited once only; a credit CDR cannot be corrected; the replacement can.
    expect((await post(`/api/cdrs/${id}/corrections`, { tariffId: 'CHEAP' })).status).toBe(409);
    expect((await post(`/api/cdrs/${id}-C/corrections`, { tariffId: 'CHEAP' })).status).toBe(409);
    const again = await post(`/api/cdrs/${id}-1/corrections`, { meterStopWh: 21000 });
    expect(again.status).toBe(201);
    expect(again.body.credit).toMatchObject({ id: `${id}-1-C`, credit_reference_id: `${id}-1`, total_cost: { excl_vat: -2.2, incl_vat: -2.42 } });
    expect(again.body.cdr).toMatchObject({ id: `${id}-2`, total_energy: 20, total_cost: { excl_vat: 2, incl_vat: 2.2 } });
    expect((await get(`/api/cdrs/${id}`)).text).toBe(before.text);

    expect((await post(`/api/cdrs/${id}-2/corrections`, {})).body.field).toBe('(body)');
    expect((await post(`/api/cdrs/${id}-2/corrections`, { tariffId: 'NOPE' })).body.field).toBe('tariffId');
    expect((await post('/api/cdrs/nope/corrections', { tariffId: 'CHEAP' })).status).toBe(404);
  });

  it('the store refuses to change or delete a CDR', async () => {
    const db = await Db.open(join(dir, 'ocpi.db'));
    await expect(db.run(`UPDATE cdrs SET json = '{}' WHERE id = ?`, [String(txs[0])])).rejects.toThrow(/immutable/);
    await expect(db.run(`DELETE FROM cdrs WHERE id = ?`, [String(txs[0])])).rejects.toThrow(/immutable/);
    await db.close();
  });
});

describe('OCPI token auth', () => {
  it('when configured, requires Authorization: Token <base64>', async () => {
    const b = await startBackend({
      port: 0,
      dbPath: join(dir, 'auth.db'),
      log: () => undefined,
      ocpi: { token: 'secret-token', partyId: 'XYZ', countryCode: 'DE' },
    });
    try {
      const url = `http://127.0.0.1:${b.port}/ocpi/2.2.1/tariffs`;
      const none = await fetch(url);
      expect(none.status).toBe(401);
      expect(((await none.json()) as any).status_code).toBe(2000);
      const wrong = await fetch(url, { headers: { authorization: `Token ${Buffer.from('nope').toString('base64')}` } });
      expect(wrong.status).toBe(401);
      const ok = await fetch(url, { headers: { authorization: `Token ${Buffer.from('secret-token').toString('base64')}` } });
      expect(ok.status).toBe(200);
      expect(((await ok.json()) as any).status_code).toBe(1000);
      // The REST API is not behind the OCPI token.
      expect((await fetch(`http://127.0.0.1:${b.port}/api/health`)).status).toBe(200);
    } finally {
      await b.close();
    }
  });
});
