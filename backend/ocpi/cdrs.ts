// The OCPI CDRs module (sender): CDRs as stored, also behind GET /api/cdrs.
import { cdrPage, type LastUpdatedWindow, type Slice } from '../store/queries.js';
import type { Store } from '../store/store.js';

/** CDRs by last_updated (then creation order), as stored. */
export async function listCdrs(store: Store, page: Slice & LastUpdatedWindow, sessionId?: number): Promise<{ items: unknown[]; total: number }> {
  const { rows, total } = await cdrPage(store, page, page, sessionId);
  return { items: rows.map((r) => JSON.parse(r.json)), total };
}
