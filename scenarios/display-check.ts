// What the charger displays showed against what the back end billed: the final cost shown must
// be the invoice total, and running costs must never go down during a session.
import { Decimal } from 'decimal.js';
import type { CheckResult, DisplaySummary } from '../reports/model.js';
import { displayChecks, type DisplayExamples } from '../reports/run-checks.js';
import type { TruthSession } from '../sim/types.js';
import type { BilledSession } from './backend-client.js';
import { billedBySession, sessionKey } from './reconcile.js';

export interface DisplayCheck {
  counts: DisplaySummary;
  /** A few sessions to name in the checks' details. */
  examples: DisplayExamples;
  checks: CheckResult[];
}

/**
 * `finalCostRequired`: the back end is known to send FinalCost (the embedded one), so a session
 * without one fails; for a foreign CSMS the count is information only.
 */
export function checkDisplayedCosts(truth: TruthSession[], billed: BilledSession[], finalCostRequired: boolean): DisplayCheck {
  const billedByKey = billedBySession(billed);
  const counts: DisplaySummary = {
    finalCostShown: 0,
    finalCostMatches: 0,
    finalCostMismatched: 0,
    finalCostMissing: 0,
    runningCostSessions: 0,
    runningCostDecreases: 0,
  };
  const mismatches: string[] = [];
  const decreases: string[] = [];
  for (const t of truth) {
    const running = t.display?.runningCosts ?? [];
    if (running.length >= 2) {
      counts.runningCostSessions++;
      const ordered = [...running].sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp));
      const down = ordered.findIndex((r, i) => i > 0 && new Decimal(r.cost).lt(ordered[i - 1].cost));
      if (down > 0) {
        counts.runningCostDecreases++;
        if (decreases.length < 3)
          decreases.push(`${t.chargerId}/${t.connectorId} ${ordered[down - 1].cost} -> ${ordered[down].cost} at ${ordered[down].timestamp}`);
      }
    }
    const matches = billedByKey.get(sessionKey(t.chargerId, t.connectorId, t.startAt)) ?? [];
    const total = matches.length === 1 ? matches[0].cost?.totalInclVat : undefined;
    if (total === undefined) continue;
    const shown = t.display?.finalCost;
    if (shown === undefined) {
      counts.finalCostMissing++;
      continue;
    }
    counts.finalCostShown++;
    if (new Decimal(shown).eq(total)) counts.finalCostMatches++;
    else {
      counts.finalCostMismatched++;
      if (mismatches.length < 3) mismatches.push(`${t.chargerId}/${t.connectorId} shown ${shown}, invoiced ${total}`);
    }
  }
  return {
    counts,
    examples: { finalCostMismatches: mismatches, runningCostDecreases: decreases },
    checks: displayChecks(counts, finalCostRequired, { finalCostMismatches: mismatches, runningCostDecreases: decreases }),
  };
}
