// A cost line as sessions and invoices show it.
import type { CostLineRow } from '../invoicing/invoices.js';

export function lineJson(l: CostLineRow): Record<string, unknown> {
  return {
    dimension: l.dimension,
    periodStart: l.period_start,
    quantity: l.quantity,
    unitPrice: l.unit_price,
    vat: l.vat,
    exclVat: l.excl_vat,
    inclVat: l.incl_vat,
    tariffElement: l.tariff_element,
  };
}
