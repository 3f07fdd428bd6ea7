// The pricing thread: prices StopTransactions (stop-pricing.ts) off the OCPP thread. Tariff
// versions never change, so each arrives once, with the first stop that needs it.
import { parentPort } from 'node:worker_threads';
import { priceStop, type StopPricing, type StopPricingInput, type TariffForms } from './stop-pricing.js';

export interface PricingRequest {
  id: number;
  input: StopPricingInput;
  /** Tariff versions this thread has not been sent yet. */
  tariffs: Array<[number, TariffForms]>;
}

export type PricingReply = { id: number; pricing: StopPricing } | { id: number; error: string };

const port = parentPort;
if (port) {
  const tariffs = new Map<number, TariffForms>();
  port.on('message', (m: PricingRequest) => {
    for (const [vid, forms] of m.tariffs) tariffs.set(vid, forms);
    let reply: PricingReply;
    try {
      const vid = m.input.tariffVid;
      const forms = vid === null ? null : tariffs.get(vid);
      if (forms === undefined) throw new Error(`tariff version ${vid} was never sent to the pricing thread`);
      reply = { id: m.id, pricing: priceStop(m.input, forms) };
    } catch (err) {
      reply = { id: m.id, error: err instanceof Error ? err.message : String(err) };
    }
    port.postMessage(reply);
  });
}
