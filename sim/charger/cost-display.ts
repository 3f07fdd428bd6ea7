// The charger's cost display: which session each cost message is about, and the sessions whose
// FinalCost is still to come (the charger is not settled while one is awaited).

import type { TruthSession } from '../types.js';
import type { Charger } from './charger.js';
import { emptyDisplay, readCostMessage, showOn, type SessionDisplay } from './cost-messages.js';
import type { Visit } from './model.js';

/** An id a CSMS gave and may send cost messages for (1.6 ids are positive; -1 or 0 stand for none). */
function isCsmsTransactionId(id: string | null): id is string {
  return id !== null && Number(id) > 0;
}

export class CostDisplay {
  /** The CSMS sends cost messages: a stopped transaction waits for its FinalCost before the charger is settled. */
  private costMessagesSeen = false;
  private readonly finalCostAwaited = new Set<string>();
  /** Emitted truth by transaction id until its FinalCost comes: it may arrive after the driver unplugged. */
  private readonly truthAwaitingFinalCost = new Map<string, TruthSession>();
  /** Visits authorized, in answer order: a CSMS sends each its SetUserPrice in that order. */
  private readonly userPriceAwaited: Visit[] = [];

  constructor(private readonly ch: Charger) {}

  /** A stopped transaction's FinalCost is still to come. */
  get awaitingFinalCost(): boolean {
    return this.finalCostAwaited.size > 0;
  }

  /** What was not shown on this connection will not come. */
  connectionClosed(): void {
    this.finalCostAwaited.clear();
  }

  /** Shows a cost message and keeps it with the session it is about; the answer status. */
  show(messageId: string | null, data: string | null): string {
    const read = readCostMessage(messageId, data);
    if (!read.ok) return read.status;
    this.costMessagesSeen = true;
    const m = read.message;
    if (m.kind === 'userPrice') {
      const v = this.visitAwaitingPrice(m.idToken);
      if (v) showOn((v.display ??= emptyDisplay()), m);
      return 'Accepted';
    }
    const display = this.displayOfTransaction(m.transactionId);
    if (display) showOn(display, m);
    if (m.kind === 'finalCost') {
      this.finalCostAwaited.delete(m.transactionId);
      this.truthAwaitingFinalCost.delete(m.transactionId);
    }
    return 'Accepted';
  }

  awaitUserPrice(v: Visit): void {
    this.userPriceAwaited.push(v);
    if (this.userPriceAwaited.length > 4 * this.ch.connectors.length) this.userPriceAwaited.shift();
  }

  /**
   * The visit a user price is for: the earliest authorized one of this token still plugged in
   * (the same token may be on two connectors); else, after a start without authorization, the
   * token's latest visit not shown a price yet.
   */
  private visitAwaitingPrice(idTag: string): Visit | null {
    const queue = this.userPriceAwaited;
    for (let i = 0; i < queue.length; i++) {
      const v = queue[i];
      if (v.idTag !== idTag) continue;
      queue.splice(i--, 1);
      if (v.connector.visit === v) return v;
    }
    let best: Visit | null = null;
    for (const c of this.ch.connectors) {
      const v = c.visit;
      if (!v || v.idTag !== idTag || v.display?.userPrice !== undefined || (v.phase !== 'starting' && v.phase !== 'charging')) continue;
      if (!best || v.plugInSec > best.plugInSec) best = v;
    }
    return best;
  }

  private displayOfTransaction(transactionId: string): SessionDisplay | null {
    for (const c of this.ch.connectors) {
      const v = c.visit;
      if (v && v.transactionId === transactionId && (v.phase === 'charging' || v.phase === 'stopped')) return (v.display ??= emptyDisplay());
    }
    const t = this.truthAwaitingFinalCost.get(transactionId);
    return t ? (t.display ??= emptyDisplay()) : null;
  }

  /** Truth carries the visit's display record, the same object: a FinalCost after the unplug still lands in it (truth leaves the worker at the end of the run). */
  withDisplay(v: Visit, truth: TruthSession): TruthSession {
    if (v.display) truth.display = v.display;
    // Kept until its FinalCost comes, however late (a busy CSMS queues cost messages): the
    // record is held for the end of the run anyway. A CSMS that shows no costs keeps nothing here.
    if (this.costMessagesSeen && isCsmsTransactionId(v.transactionId) && truth.display?.finalCost === undefined) {
      this.truthAwaitingFinalCost.set(v.transactionId, truth);
    }
    return truth;
  }

  /** The stop was answered: its final cost is awaited, if the CSMS sends cost messages at all. */
  awaitFinalCost(v: Visit): void {
    if (!this.costMessagesSeen || !isCsmsTransactionId(v.transactionId) || v.display?.finalCost !== undefined) return;
    this.finalCostAwaited.add(v.transactionId);
  }
}
