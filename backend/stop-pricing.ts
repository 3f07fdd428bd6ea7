// Everything a StopTransaction prices, as one pure function of plain data: the bill, its cost
// lines and VAT summary, and the CDR, each already in the text form the store keeps. Plain
// data in and out, so it can run on the pricing thread (stop-pricer.ts) as well as inline.
import { buildCdr, cdrTotals, type CdrInput } from './cdr.js';
import type { Tariff } from './billing/ocpi.js';
import { billSession, vatSummary, type SessionFacts } from './session-billing.js';

/** A tariff version in both forms: the one it is priced with, and the one its CDRs publish. */
export interface TariffForms {
  tariff: Tariff;
  published: Tariff;
}

export interface StopPricingInput {
  facts: Omit<SessionFacts, 'tariff'>;
  /** The session's tariff version (see TariffForms), or null when it has none. */
  tariffVid: number | null;
  /** What the CDR needs beyond the bill. */
  cdr: Omit<CdrInput, 'stoppedAt' | 'tariff' | 'periods' | 'cost'>;
}

export interface StopPricing {
  energyWh: number;
  chargingSeconds: number;
  parkingSeconds: number;
  flagsJson: string;
  pricingError: string | null;
  /** Null when the session was not priced. */
  cost: {
    currency: string;
    exclVat: string;
    inclVat: string;
    /** The totals without the lines, with the number of FLAT lines. */
    totalsJson: string;
    linesJson: string;
    vatJson: string;
  } | null;
  cdr: { id: string; currency: string; exclVat: string; inclVat: string; json: string } | null;
}

export function priceStop(input: StopPricingInput, forms: TariffForms | null): StopPricing {
  const bill = billSession({ ...input.facts, tariff: forms?.tariff ?? null });
  const cost = bill.cost;
  const out: StopPricing = {
    energyWh: bill.energyWh,
    chargingSeconds: bill.chargingSeconds,
    parkingSeconds: bill.parkingSeconds,
    flagsJson: JSON.stringify(bill.flags),
    pricingError: bill.pricingError,
    cost: null,
    cdr: null,
  };
  if (!cost) return out;
  const { lines, ...totals } = cost;
  out.cost = {
    currency: cost.currency,
    exclVat: cost.total_cost.excl_vat,
    inclVat: cost.total_cost.incl_vat,
    totalsJson: JSON.stringify({ ...totals, flat_count: lines.filter((l) => l.dimension === 'FLAT').length }),
    linesJson: JSON.stringify(lines),
    vatJson: JSON.stringify(vatSummary(cost)),
  };
  if (forms) {
    const cdr = buildCdr({ ...input.cdr, stoppedAt: bill.stopAt, tariff: forms.published, periods: bill.periods ?? [], cost });
    const t = cdrTotals(cdr);
    out.cdr = { id: cdr.id, currency: cdr.currency, exclVat: t.excl, inclVat: t.incl, json: JSON.stringify(cdr) };
  }
  return out;
}
