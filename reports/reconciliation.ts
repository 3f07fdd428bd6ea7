// Ordering of billing reconciliation rows for reports: worst first.

import { Decimal } from 'decimal.js';
import type { ReconciliationRow } from './model.js';

const STATUS_SEVERITY: Record<ReconciliationRow['status'], number> = {
  missing: 0,
  duplicate: 1,
  unexpected: 2,
  mismatched: 3,
  matched: 4,
};

function absErrorOf(row: ReconciliationRow): Decimal {
  try {
    return new Decimal(row.absError || '0').abs();
  } catch {
    return new Decimal(0);
  }
}

/**
 * A new array sorted worst first: largest |expected - billed| (exact decimal comparison), then
 * by status (missing, duplicate, unexpected, mismatched, matched), then charger, connector, start.
 */
export function sortWorstFirst(rows: readonly ReconciliationRow[]): ReconciliationRow[] {
  const keyed = rows.map((row) => ({ row, err: absErrorOf(row) }));
  keyed.sort(
    (a, b) =>
      b.err.comparedTo(a.err) ||
      STATUS_SEVERITY[a.row.status] - STATUS_SEVERITY[b.row.status] ||
      a.row.chargerId.localeCompare(b.row.chargerId) ||
      a.row.connectorId - b.row.connectorId ||
      a.row.startAt.localeCompare(b.row.startAt),
  );
  return keyed.map((k) => k.row);
}

/** How many rows have each status. */
export function countByStatus(rows: readonly ReconciliationRow[]): Record<ReconciliationRow['status'], number> {
  const out: Record<ReconciliationRow['status'], number> = { matched: 0, mismatched: 0, missing: 0, duplicate: 0, unexpected: 0 };
  for (const r of rows) out[r.status] = (out[r.status] ?? 0) + 1;
  return out;
}
