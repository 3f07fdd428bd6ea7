// HTML renderings of invoices and statements (rendered on request).
import type { InvoiceView, StatementView, VatLine } from './invoices.js';

const esc = (s: string | number | null): string =>
  String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export const vatRateLabel = (rate: string | null): string => (rate === null ? 'no VAT' : `${rate} %`);

const STYLE = `body{font-family:system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;width:100%;margin:1rem 0}
th,td{padding:.3rem .5rem;border-bottom:1px solid #ddd;text-align:left}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
tfoot td{font-weight:600}.muted{color:#666;font-size:.9em}`;

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>${STYLE}</style></head><body>${body}</body></html>`;
}

function vatTable(vat: VatLine[], currency: string): string {
  const rows = vat
    .map((v) => `<tr><td>VAT ${esc(vatRateLabel(v.rate))}</td><td class="n">${esc(v.base)}</td><td class="n">${esc(v.amount)}</td></tr>`)
    .join('');
  return `<table class="vat"><thead><tr><th>VAT rate</th><th class="n">Base (${esc(currency)})</th><th class="n">VAT (${esc(currency)})</th></tr></thead><tbody>${rows}</tbody></table>`;
}

export function invoiceHtml(inv: InvoiceView): string {
  const items = inv.items
    .map(
      (i) => `<tr><td>${esc(i.description)}</td><td class="n">${esc(i.quantity)} ${esc(i.unit)}</td><td class="n">${esc(i.unitPrice)}</td>
<td class="n">${esc(vatRateLabel(i.vatRate))}</td><td class="n">${esc(i.exclVat)}</td><td class="n">${esc(i.inclVat)}</td></tr>`,
    )
    .join('');
  return page(
    `Invoice ${inv.number}`,
    `<h1>Invoice ${esc(inv.number)}</h1>
<p>Issued ${esc(inv.issuedAt)}<br>Customer: ${esc(inv.idTag)}${inv.group ? ` (group ${esc(inv.group)})` : ''}<br>
Session ${esc(inv.sessionId)} at charger ${esc(inv.chargerId)} connector ${esc(inv.connectorId)}${inv.locationId ? `, location ${esc(inv.locationId)}` : ''}<br>
${esc(inv.startedAt)} to ${esc(inv.stoppedAt)}, ${esc(inv.energyWh)} Wh; tariff ${esc(inv.tariffId)}</p>
<table class="items"><thead><tr><th>Item</th><th class="n">Quantity</th><th class="n">Unit price (${esc(inv.currency)})</th><th class="n">VAT</th>
<th class="n">Excl. VAT</th><th class="n">Incl. VAT</th></tr></thead><tbody>${items}</tbody></table>
${vatTable(inv.vat, inv.currency)}
<table class="totals"><tbody>
<tr><td>Total excl. VAT</td><td class="n">${esc(inv.currency)} ${esc(inv.totalExclVat)}</td></tr>
<tr><td>VAT</td><td class="n">${esc(inv.currency)} ${esc(inv.totalVat)}</td></tr>
<tr><td><strong>Total incl. VAT</strong></td><td class="n"><strong>${esc(inv.currency)} ${esc(inv.totalInclVat)}</strong></td></tr>
</tbody></table>
<p class="muted">Line amounts are exact to 4 decimals; totals are rounded once, half-up, to the currency's minor unit.</p>`,
  );
}

export function statementTitle(st: StatementView): string {
  return `Statement ${st.month} for ${st.idTag !== null ? st.idTag : `group ${st.group}`}`;
}

export function statementHtml(st: StatementView): string {
  const rows = st.invoices
    .map(
      (i) => `<tr><td>${esc(i.number)}</td><td>${esc(i.issuedAt)}</td><td>${esc(i.idTag)}</td><td>${esc(i.chargerId)}</td>
<td class="n">${esc(i.energyWh)}</td><td class="n">${esc(i.currency)} ${esc(i.totalExclVat)}</td><td class="n">${esc(i.currency)} ${esc(i.totalInclVat)}</td></tr>`,
    )
    .join('');
  const totals = st.totals
    .map(
      (t) => `<h2>Totals ${esc(t.currency)}</h2>${vatTable(t.vat, t.currency)}
<table class="totals"><tbody><tr><td>Invoices</td><td class="n">${t.count}</td></tr><tr><td>Energy</td><td class="n">${t.energyWh} Wh</td></tr>
<tr><td>Total excl. VAT</td><td class="n">${esc(t.currency)} ${esc(t.totalExclVat)}</td></tr>
<tr><td>VAT</td><td class="n">${esc(t.currency)} ${esc(t.totalVat)}</td></tr>
<tr><td><strong>Total incl. VAT</strong></td><td class="n"><strong>${esc(t.currency)} ${esc(t.totalInclVat)}</strong></td></tr></tbody></table>`,
    )
    .join('');
  return page(
    statementTitle(st),
    `<h1>${esc(statementTitle(st))}</h1><p class="muted">Invoices issued from ${esc(st.from)} to ${esc(st.to)} (UTC).</p>
<table class="invoices"><thead><tr><th>Invoice</th><th>Issued</th><th>Token</th><th>Charger</th><th class="n">Energy (Wh)</th>
<th class="n">Excl. VAT</th><th class="n">Incl. VAT</th></tr></thead><tbody>${rows}</tbody></table>${totals || '<p>No invoices this month.</p>'}`,
  );
}
