// How sessions end: a stop (a repeated one answered as the first), a session the charger lost
// (closed at its last reading), a stop that arrives after that, and a stop that matches no
// session (kept for reconciliation). Every close is settled in one commit (settlement.ts).
import { Dec } from '../billing/money.js';
import type { MeterReading } from '../billing/periods.js';
import type { Store } from '../store/store.js';
import type { Op } from '../store/write-queue.js';
import type { Authorization, Authorizer } from './authorization.js';
import { wallIso } from './clock.js';
import type { ActiveSession, MeterBatch, OpenSessions } from './open-sessions.js';
import type { Settlement } from './settlement.js';

export interface StopRequest {
  sessionId: number;
  token?: string;
  meterStopWh: number;
  /** UTC ISO. */
  stoppedAt: string;
  reason: string;
  /** The stop's own readings (null: none), decoded only when it closes an open session, and stored with it. */
  values: (() => MeterBatch) | null;
  /** The stop's own values as JSON, kept with a stop that matches no session (serialised only then). */
  valuesJson: () => string | null;
  /** The answer to the charger, from the token's authorization at the stop (null without a token). */
  answer: (authorization: Authorization | null) => object;
}

const NO_ANSWER = (): object => ({});
const NO_VALUES = (): null => null;

export class SessionStops {
  constructor(
    private readonly state: OpenSessions,
    private readonly store: Store,
    private readonly authorizer: Authorizer,
    private readonly settlement: Settlement,
    private readonly log: (line: string) => void,
  ) {}

  /** A stop: closes and bills the open session; a repeated stop gets the first one's answer. Resolves to the answer. */
  async stop(chargerId: string, req: StopRequest): Promise<unknown> {
    const sess = this.state.active.get(req.sessionId);
    if (sess && sess.chargerId === chargerId) {
      if (!sess.stopping) {
        const stopping = this.doStop(sess, req, null);
        sess.stopping = stopping;
        stopping.catch(() => {
          sess.stopping = null; // not committed: a retry may try again
        });
      }
      return sess.stopping;
    }
    if (req.sessionId > 0 && !sess) {
      const row = await this.store.read<{ charger_id: string; state: string; stop_response: string | null; close_reason: string | null }>('sessionById', [
        req.sessionId,
      ]);
      if (row && row.charger_id === chargerId && row.state === 'completed') {
        if (row.close_reason !== null) return this.lateStop(req);
        if (row.stop_response) return JSON.parse(row.stop_response) as unknown; // a repeated stop: one stop, one bill
      }
    }
    // Unknown (or 0 / -1): acknowledge so the charger stops retrying, keep it for reconciliation.
    const answer = req.answer(req.token !== undefined ? { status: 'Accepted' } : null);
    await this.store.commit(
      this.store.writes.unmatchedStop({
        chargerId,
        transactionId: req.sessionId,
        idTag: req.token ?? null,
        timestamp: req.stoppedAt,
        meterStop: req.meterStopWh,
        reason: req.reason,
        transactionData: req.valuesJson(),
        receivedAt: wallIso(),
      }),
    );
    return answer;
  }

  /**
   * The stop of a session the back end had closed without one (the charger lost it, then sent
   * the stop after all): matched to it and kept with it, never billed again. The bill stands at
   * the last reading; what the stop says beyond it is there for a correction.
   */
  private async lateStop(req: StopRequest): Promise<unknown> {
    const answer = req.answer(req.token !== undefined ? this.authorizer.authorize(req.token, Date.parse(req.stoppedAt)) : null);
    const late = { timestamp: req.stoppedAt, meterStop: req.meterStopWh, reason: req.reason, idTag: req.token ?? null, receivedAt: wallIso() };
    await this.store.commit(this.store.writes.sessionLateStop({ id: req.sessionId, lateStop: JSON.stringify(late) }));
    return answer;
  }

  /**
   * Closes a session the charger lost (it rebooted, started another transaction on the connector,
   * or reported the connector free) at its last reading, flagged `closed-without-stop`, and
   * bills it. The stop register is that reading rounded down to a whole Wh, the resolution of the
   * transaction's own registers, so the energy is a difference of like registers.
   */
  closeWithoutStop(sess: ActiveSession, why: string): Promise<unknown> {
    if (sess.stopping) return sess.stopping;
    const startMs = Date.parse(sess.startedAt);
    let last: MeterReading | null = null;
    let lastMs = startMs;
    for (const r of sess.readings) {
      const t = Date.parse(r.at);
      if (t >= lastMs) {
        last = r;
        lastMs = t;
      }
    }
    const meterStopWh = last ? new Dec(last.registerWh).floor().toNumber() : sess.meterStart;
    this.log(`session ${sess.id} (charger ${sess.chargerId}, connector ${sess.connectorId}) closed without a stop: ${why}`);
    const stop: StopRequest = {
      sessionId: sess.id,
      meterStopWh,
      stoppedAt: new Date(lastMs).toISOString(),
      reason: '',
      values: null,
      valuesJson: NO_VALUES,
      answer: NO_ANSWER,
    };
    const stopping = this.doStop(sess, stop, why);
    sess.stopping = stopping;
    stopping.catch(() => {
      sess.stopping = null;
    });
    return stopping;
  }

  private async doStop(sess: ActiveSession, req: StopRequest, closedWithoutStop: string | null): Promise<unknown> {
    const readings = sess.readings.slice();
    let valuesOp: Op | null = null;
    if (req.values) {
      const batch = req.values();
      valuesOp = this.store.writes.meterValues({
        sessionId: sess.id,
        chargerId: sess.chargerId,
        connectorId: sess.connectorId,
        source: batch.source,
        receivedAt: wallIso(),
        rows: batch.rows,
      });
      for (const r of batch.readings) readings.push(r);
    }
    const answer = req.answer(req.token !== undefined ? this.authorizer.authorize(req.token, Date.parse(req.stoppedAt)) : null);
    const ops = this.settlement.ops(sess, {
      stoppedAt: req.stoppedAt,
      meterStopWh: req.meterStopWh,
      readings,
      reason: closedWithoutStop !== null ? null : req.reason,
      token: req.token ?? null,
      answerJson: JSON.stringify(answer),
      closedWithoutStop,
    });
    // The stop's own readings follow the session row, as they always have.
    if (valuesOp) ops.splice(1, 0, valuesOp);
    await this.store.commit(...ops);
    this.state.closed(sess);
    return answer;
  }
}
