// The invoice reads: an invoice with the session it bills, by id or by holder and month.
import type { Store } from './store.js';

export interface InvoiceRow {
  id: number;
  number: string;
  year: number;
  session_id: number;
  issued_at: string;
  currency: string;
  total_excl_vat: string;
  total_incl_vat: string;
  vat_json: string;
  id_tag: string;
  token_group: string | null;
  charger_id: string;
  connector_id: number;
  location_id: string | null;
  started_at: string;
  stopped_at: string;
  energy_wh: number;
  tariff_id: string | null;
  cost_json: string | null;
}

const INVOICE_SQL = `SELECT i.*, s.id_tag, s.token_group, s.charger_id, s.connector_id, s.location_id, s.started_at, s.stopped_at,
    s.energy_wh, s.tariff_id, s.cost_json
  FROM invoices i JOIN sessions s ON s.id = i.session_id`;

export async function readInvoice(store: Store, id: number): Promise<InvoiceRow | undefined> {
  const [row] = await store.query<InvoiceRow>(`${INVOICE_SQL} WHERE i.id = ?`, [id]);
  return row;
}

/** The invoices of one token (or one customer group) issued in [from, to), in number order. */
export function readInvoicesIssued(store: Store, holder: { idTag: string } | { group: string }, from: string, to: string): Promise<InvoiceRow[]> {
  const byTag = 'idTag' in holder;
  return store.query<InvoiceRow>(
    `${INVOICE_SQL} WHERE ${byTag ? 's.id_tag' : 's.token_group'} = ? AND i.issued_at >= ? AND i.issued_at < ? ORDER BY i.year, i.seq`,
    [byTag ? holder.idTag : holder.group, from, to],
  );
}
