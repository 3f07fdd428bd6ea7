// Session-by-session reconciliation of what the simulator lived (truth, priced by the
// oracle) with what the back end billed.
import { Decimal } from 'decimal.js';
import type { Tariff } from '../backend/billing/ocpi.js';
import type { TruthSession } from '../sim/types.js';
import type { ReconciliationRow, SessionCounts } from '../reports/model.js';
import type { BilledSession } from './backend-client.js';
import { diffBills, priceTruth } from './oracle/index.js';

export interface Reconciliation {
  counts: SessionCounts;
  rows: ReconciliationRow[];
  currency: string;
  expectedTotal: string;
  billedTotal: string;
  maxAbsError: string;
}

/** A session as both sides know it: charger, connector and start instant. */
export const sessionKey = (chargerId: string, connectorId: number, start: string) => `${chargerId}|${connectorId}|${Date.parse(start)}`;

/** Billed sessions by sessionKey (more than one under a key is a duplicate bill). */
export function billedBySession(billed: BilledSession[]): Map<string, BilledSession[]> {
  const byKey = new Map<string, BilledSession[]>();
  for (const session of billed) {
    const key = sessionKey(session.chargerId, session.connectorId, session.startedAt);
    const list = byKey.get(key);
    if (list) list.push(session);
    else byKey.set(key, [session]);
  }
  return byKey;
}

/**
 * `tariff` is the public tariff (and names the currency); `tariffOf`, when given, says which
 * tariff applies to a session (a membership tariff for its token's group).
 */
export function reconcile(
  truth: TruthSession[],
  billed: BilledSession[],
  tariff: Tariff,
  timeZone: string,
  tariffOf: (session: TruthSession) => Tariff = () => tariff,
): Reconciliation {
  const billedByKey = billedBySession(billed);

  const counts: SessionCounts = { truth: truth.length, billed: billed.length, matched: 0, mismatched: 0, missing: 0, duplicate: 0, unexpected: 0 };
  const rows: ReconciliationRow[] = [];
  let expectedTotal = new Decimal(0);
  let billedTotal = new Decimal(0);
  let maxAbsError = new Decimal(0);

  for (const session of truth) {
    const key = sessionKey(session.chargerId, session.connectorId, session.startAt);
    const expected = priceTruth(tariffOf(session), session, timeZone);
    expectedTotal = expectedTotal.plus(expected.totalInclVat);
    const matches = billedByKey.get(key) ?? [];
    billedByKey.delete(key);
    const row: ReconciliationRow = {
      chargerId: session.chargerId,
      connectorId: session.connectorId,
      startAt: session.startAt,
      status: 'matched',
      expectedTotal: expected.totalInclVat,
      billedTotal: null,
      absError: expected.totalInclVat,
      detail: '',
    };
    if (matches.length === 0) {
      counts.missing++;
      rows.push({ ...row, status: 'missing', detail: 'the back end has no session for this charger, connector and start' });
      maxAbsError = Decimal.max(maxAbsError, expected.totalInclVat);
      continue;
    }
    if (matches.length > 1) {
      counts.duplicate++;
      rows.push({ ...row, status: 'duplicate', detail: `billed ${matches.length} times (ids ${matches.map((m) => m.id).join(', ')})` });
    }
    const bill = matches[0];
    const billedInclVat = bill.cost?.totalInclVat ?? '0';
    billedTotal = billedTotal.plus(billedInclVat);
    const absError = new Decimal(expected.totalInclVat).minus(billedInclVat).abs();
    maxAbsError = Decimal.max(maxAbsError, absError);
    if (matches.length > 1) continue;
    const diffs = bill.cost
      ? diffBills(expected, {
          totalExclVat: bill.cost.totalExclVat,
          totalInclVat: bill.cost.totalInclVat,
          energyWh: bill.energyWh ?? 0,
          dimensions: bill.cost.dimensions,
        })
      : [{ dimension: 'TOTAL_INCL_VAT' as const, expected: expected.totalInclVat, billed: 'not priced' }];
    if (diffs.length === 0) {
      counts.matched++;
      rows.push({ ...row, billedTotal: billedInclVat, absError: absError.toFixed(), detail: '' });
    } else {
      counts.mismatched++;
      rows.push({
        ...row,
        status: 'mismatched',
        billedTotal: billedInclVat,
        absError: absError.toFixed(),
        detail: diffs.map((d) => `${d.dimension} expected ${d.expected} billed ${d.billed}`).join('; '),
      });
    }
  }

  for (const leftovers of billedByKey.values()) {
    for (const bill of leftovers) {
      counts.unexpected++;
      rows.push({
        chargerId: bill.chargerId,
        connectorId: bill.connectorId,
        startAt: bill.startedAt,
        status: 'unexpected',
        expectedTotal: null,
        billedTotal: bill.cost?.totalInclVat ?? null,
        absError: bill.cost?.totalInclVat ?? '0',
        detail: `billed session ${bill.id} matches no session the simulator lived`,
      });
    }
  }

  const severity = (r: ReconciliationRow) => (r.status === 'matched' ? 0 : 1);
  rows.sort((a, b) => severity(b) - severity(a) || new Decimal(b.absError).comparedTo(a.absError));
  return {
    counts,
    rows,
    currency: tariff.currency,
    expectedTotal: expectedTotal.toFixed(2),
    billedTotal: billedTotal.toFixed(2),
    maxAbsError: maxAbsError.toFixed(2),
  };
}
