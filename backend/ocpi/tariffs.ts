// The OCPI tariffs module (sender): current tariff versions in their published form, also
// behind GET /api/tariffs/ocpi.
import type { Tariff } from '../billing/ocpi.js';
import { publishedTariff, type OcpiParty } from '../cdrs/cdr.js';
import { currentTariffPage, type LastUpdatedWindow, type Slice } from '../store/queries.js';
import type { Store } from '../store/store.js';

/** Current tariff versions in their OCPI published form, by last_updated. */
export async function listTariffs(store: Store, party: OcpiParty, page: Slice & LastUpdatedWindow): Promise<{ items: Tariff[]; total: number }> {
  const { rows, total } = await currentTariffPage(store, page, page);
  return { items: rows.map((r) => publishedTariff(JSON.parse(r.json) as Tariff, party, r.last_updated)), total };
}
