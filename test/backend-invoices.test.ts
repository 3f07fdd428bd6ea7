// Invoices over real HTTP and OCPP: gapless numbering per year (concurrent stops, a restart),
// itemized lines and VAT lines, HTML and PDF renderings (the PDF's text read back), statements.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { RPCClient } from 'ocpp-rpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../backend/server.js';
import { testCharger } from './helpers/test-charger.js';

let dir: string;
let backend: Backend;
let base: string;

async function post(path: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}
const get = async (path: string): Promise<any> => (await fetch(base + path)).json();

async function charger(id: string): Promise<RPCClient> {
  const c = testCharger(backend.port, id);
  await c.connect();
  return c;
}

/** Reference vector: FLAT 0.50 (VAT 20 %) + ENERGY 0.25/kWh (VAT 10 %); 20 kWh = 5.50 / 6.10. */
const TARIFF = {
  id: 'INV',
  currency: 'EUR',
  elements: [
    {
      price_components: [
        { type: 'FLAT', price: 0.5, vat: 20, step_size: 1 },
        { type: 'ENERGY', price: 0.25, vat: 10, step_size: 1 },
      ],
    },
  ],
};

async function start(c: RPCClient, connectorId: number, idTag: string, at: string): Promise<number> {
  return ((await c.call('StartTransaction', { connectorId, idTag, meterStart: 0, timestamp: at })) as any).transactionId;
}
const stop = (c: RPCClient, tx: number, at: string, wh = 20000) => c.call('StopTransaction', { transactionId: tx, meterStop: wh, timestamp: at });

/**
 * The text of a PDF as pdfkit writes it: content streams (Flate-compressed or not), text shown
 * with Tj / TJ as hex strings of WinAnsi codes; one string per text operator.
 */
function pdfText(pdf: Buffer): string[] {
  const raw = pdf.toString('latin1');
  const out: string[] = [];
  const streamRe = /<<([^]*?)>>\s*stream\r?\n/g;
  let m: RegExpExecArray | null;
  while ((m = streamRe.exec(raw))) {
    const startAt = m.index + m[0].length;
    const endAt = raw.indexOf('endstream', startAt);
    let bytes = pdf.subarray(startAt, endAt);
    if (/\/FlateDecode/.test(m[1])) {
      try {
        bytes = inflateSync(bytes);
      } catch {
        continue; // a font or image stream we do not need
      }
    }
    const content = bytes.toString('latin1');
    const hex = (h: string) => Buffer.from(h, 'hex').toString('latin1');
    for (const t of content.matchAll(/\[((?:<[0-9a-fA-F]*>|[-\d.\s])*)\]\s*TJ|<([0-9a-fA-F]*)>\s*Tj/g)) {
      out.push(t[1] !== undefined ? [...t[1].matchAll(/<([0-9a-fA-F]*)>/g)].map((x) => hex(x[1])).join('') : hex(t[2]));
    }
  }
  return out;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cb-invoices-'));
  backend = await startBackend({ port: 0, dbPath: join(dir, 'inv.db'), unknownTagPolicy: 'accept', log: () => undefined });
  base = `http://127.0.0.1:${backend.port}/api`;
  expect((await post('/tariffs', TARIFF)).status).toBe(201);
  expect(
    (
      await post('/tokens', [
        { idTag: 'ANNA', group: 'acme' },
        { idTag: 'BOB', group: 'acme' },
      ])
    ).status,
  ).toBe(200);
});
afterAll(async () => {
  await backend.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('invoices', () => {
  let firstInvoice: any;

  it('numbers are gapless per calendar year, also under concurrent stops and across a restart', async () => {
    const c = await charger('CB-INV-1');
    const a = await start(c, 1, 'ANNA', '2026-12-31T20:00:00Z');
    await stop(c, a, '2026-12-31T21:00:00Z');
    const b = await start(c, 1, 'BOB', '2026-12-31T22:00:00Z');
    await stop(c, b, '2026-12-31T23:59:59Z', 10000);
    // Six sessions on six chargers stop at once, in the new year.
    const chargers = await Promise.all(Array.from({ length: 6 }, (_, i) => charger(`CB-INV-P${i}`)));
    const txs = await Promise.all(chargers.map((ch, i) => start(ch, 1, i % 2 ? 'ANNA' : 'BOB', `2026-12-31T23:0${i}:00Z`)));
    await Promise.all(chargers.map((ch, i) => stop(ch, txs[i], `2027-01-01T00:1${i}:00Z`)));
    await Promise.all(chargers.map((ch) => ch.close({ force: true })));
    await c.close({ force: true });

    // A restart in between: numbering continues from the store.
    await backend.close();
    backend = await startBackend({ port: 0, dbPath: join(dir, 'inv.db'), unknownTagPolicy: 'accept', log: () => undefined });
    base = `http://127.0.0.1:${backend.port}/api`;
    const c2 = await charger('CB-INV-1');
    const late = await start(c2, 1, 'ANNA', '2027-01-02T08:00:00Z');
    await stop(c2, late, '2027-01-02T09:00:00Z');
    await c2.close({ force: true });

    const numbers: string[] = [];
    for (const id of [a, b, ...txs, late]) numbers.push((await get(`/invoices/${id}`)).number);
    expect(numbers.slice(0, 2)).toEqual(['2026-000001', '2026-000002']);
    expect(numbers.slice(2).sort()).toEqual(['2027-000001', '2027-000002', '2027-000003', '2027-000004', '2027-000005', '2027-000006', '2027-000007']);
    expect(numbers[8]).toBe('2027-000007');
    firstInvoice = await get(`/invoices/${a}`);
  });

  it('an invoice has itemized lines, a VAT line per rate and totals', () => {
    const inv = firstInvoice;
    expect(inv).toMatchObject({ number: '2026-000001', year: 2026, currency: 'EUR', idTag: 'ANNA', group: 'acme', chargerId: 'CB-INV-1', energyWh: 20000 });
    expect(inv.items).toEqual([
      { kind: 'flat-fee', description: 'Session fee', quantity: '1', unit: 'fee', unitPrice: '0.5', vatRate: '20', exclVat: '0.5000', inclVat: '0.6000' },
      { kind: 'energy', description: 'Energy', quantity: '20', unit: 'kWh', unitPrice: '0.25', vatRate: '10', exclVat: '5.0000', inclVat: '5.5000' },
    ]);
    expect(inv.vat).toEqual([
      { rate: '20', base: '0.5000', amount: '0.1000' },
      { rate: '10', base: '5.0000', amount: '0.5000' },
    ]);
    expect(inv).toMatchObject({ totalExclVat: '5.50', totalVat: '0.60', totalInclVat: '6.10' });
    expect(inv.lines.length).toBeGreaterThanOrEqual(2);
  });

  it('renders HTML and a PDF download whose text carries number, lines, VAT and totals', async () => {
    const id = firstInvoice.id;
    const html = await fetch(`${base}/invoices/${id}.html`);
    expect(html.headers.get('content-type')).toMatch(/text\/html/);
    const page = await html.text();
    expect(page).toContain('Invoice 2026-000001');
    expect(page).toContain('EUR 6.10');

    const res = await fetch(`${base}/invoices/${id}.pdf`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="invoice-2026-000001.pdf"');
    const pdf = Buffer.from(await res.arrayBuffer());
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    const text = pdfText(pdf);
    expect(text).toContain('Invoice 2026-000001');
    expect(text).toContain('Customer: ANNA (group acme)');
    expect(text).toContain('Energy');
    expect(text).toContain('20 kWh');
    expect(text).toContain('VAT 10 %');
    expect(text).toContain('VAT 20 %');
    expect(text).toContain('0.5000');
    expect(text).toContain('Total excl. VAT');
    expect(text).toContain('EUR 5.50');
    expect(text).toContain('EUR 0.60');
    expect(text).toContain('Total incl. VAT');
    expect(text).toContain('EUR 6.10');
    // The same invoice renders to the same bytes.
    expect(Buffer.from(await (await fetch(`${base}/invoices/${id}.pdf`)).arrayBuffer()).equals(pdf)).toBe(true);
    expect((await fetch(`${base}/invoices/999999.pdf`)).status).toBe(404);
  });

  it('monthly statements per token and per group list that month’s invoices with totals', async () => {
    const anna = await get('/statements?idTag=ANNA&month=2026-12');
    expect(anna.invoices.map((i: any) => i.number)).toEqual(['2026-000001']);
    expect(anna.totals).toEqual([
      {
        currency: 'EUR',
        count: 1,
        energyWh: 20000,
        totalExclVat: '5.50',
        totalVat: '0.60',
        totalInclVat: '6.10',
        vat: [
          { rate: '20', base: '0.5000', amount: '0.1000' },
          { rate: '10', base: '5.0000', amount: '0.5000' },
        ],
      },
    ]);
    // January 2027 for ANNA: 3 concurrent-stop sessions (odd chargers) + the one after the restart, 20 kWh each.
    const jan = await get('/statements?idTag=ANNA&month=2027-01');
    expect(jan.invoices).toHaveLength(4);
    expect(jan.totals[0]).toMatchObject({ count: 4, energyWh: 80000, totalExclVat: '22.00', totalInclVat: '24.40' });
    // The group: BOB's 10 kWh session (3.00 / 3.35) joins ANNA's in December.
    const acme = await get('/statements?group=acme&month=2026-12');
    expect(acme.invoices.map((i: any) => i.number)).toEqual(['2026-000001', '2026-000002']);
    expect(acme.totals[0]).toMatchObject({ count: 2, energyWh: 30000, totalExclVat: '8.50', totalVat: '0.95', totalInclVat: '9.45' });
    expect((await get('/statements?idTag=ANNA&month=2026-11')).invoices).toEqual([]);

    const res = await fetch(`${base}/statements.pdf?group=acme&month=2026-12`);
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="statement-acme-2026-12.pdf"');
    const text = pdfText(Buffer.from(await res.arrayBuffer()));
    expect(text).toContain('Statement 2026-12 for group acme');
    expect(text).toContain('2026-000002');
    expect(text).toContain('EUR 9.45');
    expect(await (await fetch(`${base}/statements.html?idTag=ANNA&month=2027-01`)).text()).toContain('EUR 24.40');

    expect((await get('/statements?idTag=ANNA&month=2026-13')).field).toBe('month');
    expect((await get('/statements?month=2026-12')).field).toBe('idTag');
  });
});
