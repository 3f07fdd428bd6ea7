// STUB: being written. Signatures are the contract.
import type { CostBreakdown, PricingSession, Tariff } from './ocpi.js';

/** Price one session with one OCPI tariff by the rules in the pricing reference. */
export function priceSession(tariff: Tariff, session: PricingSession): CostBreakdown {
  throw new Error(`not implemented: priceSession(${tariff.id}, ${session.start_date_time})`);
}
