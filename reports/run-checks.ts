// The checks of a run, judged from counts alone, so that a merge of shard results judges them
// again on the merged counts with the same names and rules as a single run.

import type { CheckPlan, CheckResult, DisplaySummary, SessionCounts, Summary } from './model.js';

export interface RunCheckInput {
  chargers: number;
  /** Most chargers connected at once (for a merge: the sum of the shards' peaks). */
  chargersConnectedMax: number;
  sessions: SessionCounts;
  currency: string;
  maxAbsError: string;
  /** All calls of the run, answered or not. */
  calls: number;
  callErrors: number;
  timeouts: number;
  display?: DisplaySummary;
}

/** The check input of a run or a merge: its summary plus the fleet's call counters. */
export function checkInputOf(summary: Summary, calls: { calls: number; callErrors: number; timeouts: number }): RunCheckInput {
  return {
    chargers: summary.chargers,
    chargersConnectedMax: summary.chargersConnectedMax ?? 0,
    sessions: summary.sessions,
    currency: summary.billing.currency,
    maxAbsError: summary.billing.maxAbsError,
    calls: calls.calls,
    callErrors: calls.callErrors,
    timeouts: calls.timeouts,
    display: summary.display,
  };
}

/** A few sessions to name in the display checks' details (a single run has them, a merge does not). */
export interface DisplayExamples {
  finalCostMismatches: string[];
  runningCostDecreases: string[];
}

export function runChecks(input: RunCheckInput, plan: CheckPlan, examples?: DisplayExamples): CheckResult[] {
  const s = input.sessions;
  const checks: CheckResult[] = [];
  if (plan.requireAllConnected) {
    checks.push({
      name: 'all chargers connected',
      passed: input.chargersConnectedMax === input.chargers,
      detail: `at most ${input.chargersConnectedMax} of ${input.chargers} chargers were connected at once`,
    });
  }
  if (plan.expectSessions) {
    checks.push({ name: 'sessions happened', passed: s.truth > 0, detail: `${s.truth} sessions lived by the fleet` });
  }
  checks.push(
    {
      name: 'every session billed once',
      passed: s.missing === 0 && s.duplicate === 0,
      detail: `${s.missing} missing, ${s.duplicate} billed more than once`,
    },
    {
      name: 'every bill matches the oracle',
      passed: s.mismatched === 0,
      detail: `${s.mismatched} of ${s.truth} differ; largest error ${input.maxAbsError} ${input.currency}`,
    },
    { name: 'no unexpected sessions', passed: s.unexpected === 0, detail: `${s.unexpected} billed sessions the fleet never lived` },
    {
      name: 'every call answered',
      passed: input.callErrors === 0 && input.timeouts === 0,
      detail: `${input.calls} calls, ${input.callErrors} CALLERROR answers, ${input.timeouts} timeouts`,
    },
  );
  if (input.display) checks.push(...displayChecks(input.display, plan.finalCostRequired, examples));
  return checks;
}

/**
 * The final cost shown must be the invoice total; running costs must never go down.
 * `finalCostRequired`: a billed session without a final cost shown fails (else it is information).
 */
export function displayChecks(counts: DisplaySummary, finalCostRequired: boolean, examples?: DisplayExamples): CheckResult[] {
  const missingFails = finalCostRequired && counts.finalCostMissing > 0;
  const eg = (list: string[] | undefined) => (list && list.length > 0 ? `; e.g. ${list.join('; ')}` : '');
  return [
    {
      name: 'final displayed cost equals the invoice',
      passed: counts.finalCostMismatched === 0 && !missingFails,
      detail:
        `${counts.finalCostMatches} of ${counts.finalCostShown} shown final costs equal the billed total, ` +
        `${counts.finalCostMissing} billed sessions without a final cost shown${finalCostRequired ? '' : ' (the target need not send them)'}` +
        eg(examples?.finalCostMismatches),
    },
    {
      name: 'running cost never goes down',
      passed: counts.runningCostDecreases === 0,
      detail: `${counts.runningCostDecreases} of ${counts.runningCostSessions} sessions with 2+ running costs showed a lower one later${eg(examples?.runningCostDecreases)}`,
    },
  ];
}
