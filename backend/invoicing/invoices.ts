// Itemized invoices and monthly statements, assembled from committed rows on request (never on
// the OCPP hot path). Invoice numbers are assigned inside the stop's transaction (store.ts).
// Line amounts are the engine's unrounded 4-decimal subtotals; totals are the session totals,
// rounded once (half-up) to the currency's minor unit as the tariff rules say.
import { Decimal } from 'decimal.js';
import { readInvoice, readInvoicesIssued, type InvoiceRow } from '../store/invoice-reads.js';
import type { Store } from '../store/store.js';

export interface InvoiceItem {
  kind: 'energy' | 'charging-time' | 'parking-time' | 'flat-fee' | 'reservation' | 'price-limit';
  description: string;
  /** kWh, h, or the number of fees. */
  quantity: string;
  unit: 'kWh' | 'h' | 'fee';
  /** Excl. VAT per unit; for price-limit, the adjustment itself. */
  unitPrice: string;
  /** VAT percent; null when no VAT applies. */
  vatRate: string | null;
  exclVat: string;
  inclVat: string;
}

export interface VatLine {
  rate: string | null;
  base: string;
  amount: string;
}

export interface InvoiceView {
  id: number;
  number: string;
  year: number;
  issuedAt: string;
  currency: string;
  sessionId: number;
  idTag: string;
  group: string | null;
  chargerId: string;
  connectorId: number;
  locationId: string | null;
  startedAt: string;
  stoppedAt: string;
  energyWh: number;
  tariffId: string | null;
  items: InvoiceItem[];
  vat: VatLine[];
  totalExclVat: string;
  totalVat: string;
  totalInclVat: string;
}

export interface CostLineRow {
  idx: number;
  dimension: string;
  period_start: string;
  quantity: string;
  unit_price: string;
  vat: string | null;
  excl_vat: string;
  incl_vat: string;
  tariff_element: number;
  reservation?: number;
}

const ITEM_OF: Record<string, Pick<InvoiceItem, 'kind' | 'description' | 'unit'>> = {
  ENERGY: { kind: 'energy', description: 'Energy', unit: 'kWh' },
  TIME: { kind: 'charging-time', description: 'Charging time', unit: 'h' },
  PARKING_TIME: { kind: 'parking-time', description: 'Parking time', unit: 'h' },
  FLAT: { kind: 'flat-fee', description: 'Session fee', unit: 'fee' },
  'reservation:TIME': { kind: 'reservation', description: 'Reservation time', unit: 'h' },
  'reservation:FLAT': { kind: 'reservation', description: 'Reservation fee', unit: 'fee' },
};

/** Cost lines summed per dimension, unit price and VAT rate, in order of first appearance. */
export function invoiceItems(lines: CostLineRow[]): InvoiceItem[] {
  const byKey = new Map<string, { item: InvoiceItem; quantity: Decimal; excl: Decimal; incl: Decimal }>();
  for (const l of lines) {
    const dim = l.reservation ? `reservation:${l.dimension}` : l.dimension;
    const key = `${dim}|${l.unit_price}|${l.vat ?? ''}`;
    let e = byKey.get(key);
    if (!e) {
      const base = ITEM_OF[dim] ?? { kind: 'flat-fee', description: l.dimension, unit: 'fee' };
      e = {
        item: { ...base, quantity: '', unitPrice: l.unit_price, vatRate: l.vat, exclVat: '', inclVat: '' },
        quantity: new Decimal(0),
        excl: new Decimal(0),
        incl: new Decimal(0),
      };
      byKey.set(key, e);
    }
    e.quantity = e.quantity.plus(l.quantity);
    e.excl = e.excl.plus(l.excl_vat);
    e.incl = e.incl.plus(l.incl_vat);
  }
  return [...byKey.values()].map((e) => ({
    ...e.item,
    quantity: e.quantity.toDecimalPlaces(10).toFixed(),
    exclVat: e.excl.toFixed(4),
    inclVat: e.incl.toFixed(4),
  }));
}

/** When min_price / max_price moved the totals, the difference is an item of its own. */
function priceLimitItem(costJson: string | null, items: InvoiceItem[], totalExcl: string, totalIncl: string): InvoiceItem | null {
  if (costJson === null) return null;
  const limits = (JSON.parse(costJson) as { price_limit_applied?: { excl_vat?: string; incl_vat?: string } }).price_limit_applied;
  if (!limits) return null;
  const sum = (f: 'exclVat' | 'inclVat') => items.reduce((t, i) => t.plus(i[f]), new Decimal(0));
  const excl = new Decimal(totalExcl).minus(sum('exclVat'));
  const incl = new Decimal(totalIncl).minus(sum('inclVat'));
  const kind = limits.excl_vat ?? limits.incl_vat;
  return {
    kind: 'price-limit',
    description: kind === 'MAX_PRICE' ? 'Maximum price applied' : 'Minimum price applied',
    quantity: '1',
    unit: 'fee',
    unitPrice: excl.toFixed(4),
    vatRate: null,
    exclVat: excl.toFixed(4),
    inclVat: incl.toFixed(4),
  };
}

function invoiceView(r: InvoiceRow, lines: CostLineRow[]): InvoiceView {
  const items = invoiceItems(lines);
  const limit = priceLimitItem(r.cost_json, items, r.total_excl_vat, r.total_incl_vat);
  if (limit) items.push(limit);
  return {
    id: r.id,
    number: r.number,
    year: r.year,
    issuedAt: r.issued_at,
    currency: r.currency,
    sessionId: r.session_id,
    idTag: r.id_tag,
    group: r.token_group,
    chargerId: r.charger_id,
    connectorId: r.connector_id,
    locationId: r.location_id,
    startedAt: r.started_at,
    stoppedAt: r.stopped_at,
    energyWh: r.energy_wh,
    tariffId: r.tariff_id,
    items,
    vat: JSON.parse(r.vat_json) as VatLine[],
    totalExclVat: r.total_excl_vat,
    totalVat: new Decimal(r.total_incl_vat).minus(r.total_excl_vat).toFixed(decimalsOf(r.total_excl_vat)),
    totalInclVat: r.total_incl_vat,
  };
}

const decimalsOf = (amount: string): number => (amount.includes('.') ? amount.length - amount.indexOf('.') - 1 : 0);

export async function loadInvoice(store: Store, id: number): Promise<{ view: InvoiceView; lines: CostLineRow[] } | null> {
  const row = await readInvoice(store, id);
  if (!row) return null;
  const lines = await store.readAll<CostLineRow>('costLinesOfSession', [row.session_id]);
  return { view: invoiceView(row, lines), lines };
}

export interface StatementQuery {
  idTag?: string;
  group?: string;
  /** YYYY-MM; invoices issued (session stopped) in that UTC month. */
  month: string;
}

export interface StatementInvoice {
  id: number;
  number: string;
  issuedAt: string;
  sessionId: number;
  idTag: string;
  chargerId: string;
  energyWh: number;
  currency: string;
  totalExclVat: string;
  totalInclVat: string;
}

export interface StatementTotal {
  currency: string;
  count: number;
  energyWh: number;
  totalExclVat: string;
  totalVat: string;
  totalInclVat: string;
  vat: VatLine[];
}

export interface StatementView {
  idTag: string | null;
  group: string | null;
  month: string;
  from: string;
  to: string;
  invoices: StatementInvoice[];
  /** One per currency. */
  totals: StatementTotal[];
}

export function monthRange(month: string): { from: string; to: string } {
  const [y, m] = month.split('-').map(Number);
  const from = new Date(Date.UTC(y, m - 1, 1)).toISOString();
  const to = new Date(Date.UTC(y, m, 1)).toISOString();
  return { from, to };
}

export async function loadStatement(store: Store, q: StatementQuery): Promise<StatementView> {
  const { from, to } = monthRange(q.month);
  const byTag = q.idTag !== undefined;
  const rows = await readInvoicesIssued(store, byTag ? { idTag: q.idTag! } : { group: q.group! }, from, to);
  const totals = new Map<
    string,
    { count: number; energyWh: number; excl: Decimal; incl: Decimal; vat: Map<string, { rate: string | null; base: Decimal; amount: Decimal }> }
  >();
  for (const r of rows) {
    let t = totals.get(r.currency);
    if (!t) totals.set(r.currency, (t = { count: 0, energyWh: 0, excl: new Decimal(0), incl: new Decimal(0), vat: new Map() }));
    t.count++;
    t.energyWh += r.energy_wh;
    t.excl = t.excl.plus(r.total_excl_vat);
    t.incl = t.incl.plus(r.total_incl_vat);
    for (const v of JSON.parse(r.vat_json) as VatLine[]) {
      const key = v.rate ?? 'none';
      let e = t.vat.get(key);
      if (!e) t.vat.set(key, (e = { rate: v.rate, base: new Decimal(0), amount: new Decimal(0) }));
      e.base = e.base.plus(v.base);
      e.amount = e.amount.plus(v.amount);
    }
  }
  return {
    idTag: q.idTag ?? null,
    group: q.group ?? null,
    month: q.month,
    from,
    to,
    invoices: rows.map((r) => ({
      id: r.id,
      number: r.number,
      issuedAt: r.issued_at,
      sessionId: r.session_id,
      idTag: r.id_tag,
      chargerId: r.charger_id,
      energyWh: r.energy_wh,
      currency: r.currency,
      totalExclVat: r.total_excl_vat,
      totalInclVat: r.total_incl_vat,
    })),
    totals: [...totals].map(([currency, t]) => {
      const places = rows.find((r) => r.currency === currency)!.total_excl_vat;
      const dp = decimalsOf(places);
      return {
        currency,
        count: t.count,
        energyWh: t.energyWh,
        totalExclVat: t.excl.toFixed(dp),
        totalVat: t.incl.minus(t.excl).toFixed(dp),
        totalInclVat: t.incl.toFixed(dp),
        vat: [...t.vat.values()].map((e) => ({ rate: e.rate, base: e.base.toFixed(4), amount: e.amount.toFixed(4) })),
      };
    }),
  };
}
