// The session lifecycle: a start (retries answered with the same id), readings, charging state
// changes, a stop (a repeated one answered as the first), a session the charger lost (closed at
// its last reading), and a stop that arrives after that. Sessions are addressed by the back
// end's session id; what a charger's protocol calls them is the protocol handlers' business.
import type { MeterReading, StateChange } from '../billing/periods.js';
import { Dec } from '../billing/money.js';
import type { AuthMethod } from '../cdrs/cdr.js';
import type { StartupState } from '../store/state-reads.js';
import type { Store } from '../store/store.js';
import type { Op } from '../store/write-queue.js';
import type { Authorization, Authorizer } from './authorization.js';
import { wallIso } from './clock.js';
import type { Registry } from './registry.js';
import type { Settlement, SessionToSettle } from './settlement.js';
import type { Tariffs } from './tariffs.js';

/** Status changes remembered per connector, so a session can pick up ones that raced its start. */
const RECENT_STATES = 8;

interface ActiveSession extends SessionToSettle {
  key: string;
  readings: MeterReading[];
  stopping: Promise<unknown> | null;
}

export interface StartRequest {
  connectorId: number;
  token: string;
  meterStartWh: number;
  /** UTC ISO. */
  startedAt: string;
  reservationId?: number;
}

export interface StartResult {
  /** 0 when the start was not accepted. */
  sessionId: number;
  authorization: Authorization;
}

/** Readings as one report brought them: as the store keeps them, and as billing reads them. */
export interface MeterBatch {
  /** The message that carried them (meter_values.source). */
  source: string;
  /** The meter_values rows as the JSON array the meterValues write expands. */
  rows: string;
  readings: MeterReading[];
}

/** A connector's status as reported. */
export interface ConnectorStatusReport {
  connectorId: number;
  /** When it happened (UTC ISO), and whether the report said so (else it is when it arrived). */
  at: string;
  atFromMessage: 0 | 1;
  receivedAt: string;
  /** true: charging, false: parked (not charging), null: no change. */
  charging: boolean | null;
  /** The connector is free: a session still open on it was lost, for this reason. */
  freedWhy: string | null;
  /** The report as status_history keeps it. */
  status: string;
  errorCode: string;
  info: string | null;
  vendorId: string | null;
  vendorErrorCode: string | null;
}

export interface StopRequest {
  sessionId: number;
  token?: string;
  meterStopWh: number;
  /** UTC ISO. */
  stoppedAt: string;
  reason: string;
  /** The stop's own readings (null: none), decoded only when it closes an open session, and stored with it. */
  values: (() => MeterBatch) | null;
  /** The stop's own values as JSON, kept with a stop that matches no session. */
  valuesJson: string | null;
  /** The answer to the charger, from the token's authorization at the stop (null without a token). */
  answer: (authorization: Authorization | null) => object;
}

const NO_ANSWER = (): object => ({});

export class Sessions {
  private nextSessionId = 1;
  private readonly active = new Map<number, ActiveSession>();
  private readonly byConnector = new Map<string, ActiveSession>();
  private readonly startsByKey = new Map<string, Promise<StartResult>>();
  private readonly recentStates = new Map<string, StateChange[]>();

  constructor(
    private readonly store: Store,
    private readonly registry: Registry,
    private readonly tariffs: Tariffs,
    private readonly authorizer: Authorizer,
    private readonly settlement: Settlement,
    private readonly log: (line: string) => void,
  ) {}

  load(state: StartupState): void {
    // Never hand out an id a charger has already used in an unmatched stop.
    this.nextSessionId = state.highestSessionId + 1;
    for (const r of state.openSessions) {
      const sess: ActiveSession = {
        id: r.id,
        chargerId: r.chargerId,
        connectorId: r.connectorId,
        token: r.idTag,
        startedAt: r.startedAt,
        meterStart: r.meterStart,
        tariffVid: r.tariffVid,
        timeZone: r.timeZone,
        locationId: r.locationId,
        authMethod: (r.authMethod as AuthMethod | null) ?? 'WHITELIST',
        key: startKey(r.chargerId, r.connectorId, r.idTag, r.startedAt, r.meterStart),
        readings: [],
        states: [],
        stopping: null,
      };
      this.active.set(sess.id, sess);
      this.byConnector.set(connKey(sess.chargerId, sess.connectorId), sess);
      this.startsByKey.set(sess.key, Promise.resolve({ sessionId: sess.id, authorization: { status: 'Accepted' } }));
    }
    for (const { sessionId, reading } of state.openReadings) this.active.get(sessionId)?.readings.push(reading);
    for (const { sessionId, state: st } of state.openStates) this.active.get(sessionId)?.states.push(st);
  }

  get count(): number {
    return this.active.size;
  }

  /** An open session of this charger (by id, else by connector); null once it is stopping. */
  open(chargerId: string, ref: { sessionId?: number; connectorId?: number }): (SessionToSettle & { readings: readonly MeterReading[] }) | null {
    const sess =
      ref.sessionId !== undefined
        ? this.active.get(ref.sessionId)
        : ref.connectorId !== undefined && ref.connectorId > 0
          ? this.byConnector.get(connKey(chargerId, ref.connectorId))
          : undefined;
    if (!sess || sess.chargerId !== chargerId || sess.stopping) return null;
    return sess;
  }

  /** The charger restarted: every session it still has open is one it lost. */
  async closeAllOf(chargerId: string, why: string): Promise<void> {
    const lost: Promise<unknown>[] = [];
    for (const sess of this.active.values()) if (sess.chargerId === chargerId) lost.push(this.closeWithoutStop(sess, why));
    await Promise.all(lost);
  }

  /** A start; retried with the same facts, it gets the same answer and nothing new. `openWhy`: why a session open on the connector was lost. */
  start(chargerId: string, req: StartRequest, openWhy: string): Promise<StartResult> {
    const key = startKey(chargerId, req.connectorId, req.token, req.startedAt, req.meterStartWh);
    const same = this.startsByKey.get(key);
    if (same) return same; // a retried start: same id, nothing new
    const pending = this.doStart(chargerId, req, key, openWhy);
    this.startsByKey.set(key, pending);
    pending.then(
      (res) => {
        // Only accepted starts stay remembered (until the session ends).
        if (!this.active.has(res.sessionId)) this.startsByKey.delete(key);
      },
      () => this.startsByKey.delete(key),
    );
    return pending;
  }

  private async doStart(chargerId: string, req: StartRequest, key: string, openWhy: string): Promise<StartResult> {
    const { startedAt } = req;
    const startMs = Date.parse(startedAt);
    // A new transaction on the connector, accepted or not: the charger no longer has the open one.
    const ck = connKey(chargerId, req.connectorId);
    const open = this.byConnector.get(ck);
    if (open) await this.closeWithoutStop(open, openWhy);
    const authorization = this.authorizer.authorize(req.token, startMs);
    if (authorization.status !== 'Accepted') {
      // The charger ends a transaction that was not accepted; nothing to bill.
      // It was committed before? Then the retry of a once-accepted start answers from the store.
      const prior = await this.store.read<{ id: number }>('sessionByKey', [chargerId, req.connectorId, req.token, startedAt, req.meterStartWh]);
      if (prior) return { sessionId: prior.id, authorization: { ...authorization, status: 'Accepted' } };
      return { sessionId: 0, authorization };
    }
    const charger = this.registry.chargers.get(chargerId);
    const token = this.registry.tokens.get(req.token);
    const group = token?.group ?? null;
    const choice = this.tariffs.choose(chargerId, req.connectorId, group, startMs);
    const tariff = choice?.version ?? null;
    const location = charger?.locationId ? this.registry.locations.get(charger.locationId) : undefined;
    const sess: ActiveSession = {
      id: this.nextSessionId++,
      chargerId,
      connectorId: req.connectorId,
      token: req.token,
      startedAt,
      meterStart: req.meterStartWh,
      tariffVid: tariff?.vid ?? null,
      // Tariffs are evaluated in the location's time zone.
      timeZone: location?.timeZone ?? charger?.timeZone ?? 'UTC',
      locationId: location?.id ?? null,
      // A token on the local list is a whitelist hit; an unknown one let through by policy stands in for a remote authorisation.
      authMethod: token ? 'WHITELIST' : 'AUTH_REQUEST',
      key,
      readings: [],
      states: [],
      stopping: null,
    };
    // Status changes that raced ahead of the start.
    for (const st of this.recentStates.get(ck) ?? []) if (Date.parse(st.at) > startMs) sess.states.push(st);
    this.active.set(sess.id, sess);
    const previous = this.byConnector.get(ck);
    this.byConnector.set(ck, sess);
    try {
      await this.store.commit(
        this.store.writes.sessionStart({
          id: sess.id,
          chargerId,
          connectorId: req.connectorId,
          idTag: req.token,
          startedAt,
          meterStart: req.meterStartWh,
          reservationId: req.reservationId ?? null,
          tariffVid: sess.tariffVid,
          tariffId: tariff?.id ?? null,
          timeZone: sess.timeZone,
          receivedAt: wallIso(),
          tariffScope: choice?.scope ?? null,
          locationId: sess.locationId,
          tokenGroup: group,
          authMethod: sess.authMethod,
        }),
      );
    } catch (err) {
      this.active.delete(sess.id);
      if (this.byConnector.get(ck) === sess) {
        if (previous) this.byConnector.set(ck, previous);
        else this.byConnector.delete(ck);
      }
      // The same start committed earlier (its session is already completed): same id.
      if (/UNIQUE constraint failed: sessions\./.test((err as Error).message)) {
        const prior = await this.store.read<{ id: number }>('sessionByKey', [chargerId, req.connectorId, req.token, startedAt, req.meterStartWh]);
        if (prior) return { sessionId: prior.id, authorization };
      }
      throw err;
    }
    return { sessionId: sess.id, authorization };
  }

  /** Readings of a session (by id, else the connector's open one); kept even when no session matches. */
  async recordReadings(chargerId: string, ref: { sessionId?: number; connectorId: number }, batch: () => MeterBatch): Promise<void> {
    let sess: ActiveSession | undefined;
    let sessionId: number | null = null;
    if (ref.sessionId !== undefined) {
      sess = this.active.get(ref.sessionId);
      if (sess && sess.chargerId !== chargerId) sess = undefined;
      sessionId = sess ? sess.id : await this.knownSessionId(ref.sessionId, chargerId);
    } else if (ref.connectorId > 0) {
      sess = this.byConnector.get(connKey(chargerId, ref.connectorId));
      sessionId = sess ? sess.id : null;
    }
    const { source, rows, readings } = batch();
    await this.store.commit(this.store.writes.meterValues({ sessionId, chargerId, connectorId: ref.connectorId, source, receivedAt: wallIso(), rows }));
    // Readings count for billing only while the session is open (late values after the stop
    // are stored, never used to reopen or rebill).
    if (sess && !sess.stopping && this.active.has(sess.id)) for (const r of readings) sess.readings.push(r);
  }

  /** Session id if it exists in the store for this charger (completed sessions), else null. */
  private async knownSessionId(id: number, chargerId: string): Promise<number | null> {
    if (id <= 0) return null;
    const row = await this.store.read<{ id: number; charger_id: string }>('sessionById', [id]);
    return row && row.charger_id === chargerId ? row.id : null;
  }

  async connectorStatus(chargerId: string, r: ConnectorStatusReport): Promise<void> {
    const lost = r.freedWhy !== null && r.connectorId > 0 ? this.byConnector.get(connKey(chargerId, r.connectorId)) : undefined;
    const closing = lost && Date.parse(r.at) >= Date.parse(lost.startedAt) ? this.closeWithoutStop(lost, r.freedWhy!) : null;
    await this.store.commit(
      this.store.writes.status({
        chargerId,
        connectorId: r.connectorId,
        status: r.status,
        errorCode: r.errorCode,
        info: r.info,
        vendorId: r.vendorId,
        vendorErrorCode: r.vendorErrorCode,
        at: r.at,
        atFromMessage: r.atFromMessage,
        receivedAt: r.receivedAt,
      }),
    );
    if (closing) await closing;
    if (r.charging !== null && r.connectorId > 0) {
      const change: StateChange = { at: r.at, charging: r.charging };
      const ck = connKey(chargerId, r.connectorId);
      const sess = this.byConnector.get(ck);
      if (sess && !sess.stopping) sess.states.push(change);
      let recent = this.recentStates.get(ck);
      if (!recent) this.recentStates.set(ck, (recent = []));
      recent.push(change);
      if (recent.length > RECENT_STATES) recent.shift();
    }
  }

  /** A stop: closes and bills the open session; a repeated stop gets the first one's answer. Resolves to the answer. */
  async stop(chargerId: string, req: StopRequest): Promise<unknown> {
    const sess = this.active.get(req.sessionId);
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
      const row = await this.store.read<{ charger_id: string; state: string; stop_response: string | null; close_reason: string | null }>(
        'sessionById',
        [req.sessionId],
      );
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
        transactionData: req.valuesJson,
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
  private closeWithoutStop(sess: ActiveSession, why: string): Promise<unknown> {
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
    const stop: StopRequest = { sessionId: sess.id, meterStopWh, stoppedAt: new Date(lastMs).toISOString(), reason: '', values: null, valuesJson: null, answer: NO_ANSWER };
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
    this.active.delete(sess.id);
    this.startsByKey.delete(sess.key);
    const ck = connKey(sess.chargerId, sess.connectorId);
    if (this.byConnector.get(ck) === sess) this.byConnector.delete(ck);
    return answer;
  }
}

function startKey(chargerId: string, connectorId: number, token: string, startedAt: string, meterStart: number): string {
  return `${chargerId}\u0000${connectorId}\u0000${token}\u0000${startedAt}\u0000${meterStart}`;
}

function connKey(chargerId: string, connectorId: number): string {
  return `${chargerId}\u0000${connectorId}`;
}
