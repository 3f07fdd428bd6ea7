// The session lifecycle: a start (a retry is answered with the same id), readings and charging
// state changes; session-stops.ts closes what a start opened. Sessions are addressed by the back
// end's session id; what a charger's protocol calls them is the protocol handlers' business.
import type { MeterReading, StateChange } from '../billing/periods.js';
import type { AuthMethod } from '../cdrs/cdr.js';
import type { StartupState } from '../store/state-reads.js';
import type { Store } from '../store/store.js';
import type { Authorization, Authorizer } from './authorization.js';
import { wallIso } from './clock.js';
import type { Registry } from './registry.js';
import { connKey, OpenSessions, RECENT_STATES, startKey, type ActiveSession, type MeterBatch } from './open-sessions.js';
import { SessionStops, type StopRequest } from './session-stops.js';
import type { Settlement, SessionToSettle } from './settlement.js';
import type { Tariffs } from './tariffs.js';

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

/** A connector's status as reported. */
export interface ConnectorStatusReport {
  connectorId: number;
  /** When it happened (UTC ISO), and whether the report said so (else it is when it arrived). */
  at: string;
  atFromMessage: 0 | 1;
  receivedAt: string;
  /** true: charging, false: parked (not charging), null: no change. */
  charging: boolean | null;
  /** The connector is free: a session still open on it was lost, for this reason (made only then). */
  freedWhy: (() => string) | null;
  /** The report as status_history keeps it. */
  status: string;
  errorCode: string;
  info: string | null;
  vendorId: string | null;
  vendorErrorCode: string | null;
}
export type { MeterBatch } from './open-sessions.js';
export type { StopRequest } from './session-stops.js';

export class Sessions {
  private nextSessionId = 1;
  private readonly state = new OpenSessions();
  private readonly stops: SessionStops;

  constructor(
    private readonly store: Store,
    private readonly registry: Registry,
    private readonly tariffs: Tariffs,
    private readonly authorizer: Authorizer,
    settlement: Settlement,
    log: (line: string) => void,
  ) {
    this.stops = new SessionStops(this.state, store, authorizer, settlement, log);
  }

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
      this.state.active.set(sess.id, sess);
      this.state.byConnector.set(connKey(sess.chargerId, sess.connectorId), sess);
      this.state.startsByKey.set(sess.key, Promise.resolve({ sessionId: sess.id, authorization: { status: 'Accepted' } }));
    }
    for (const { sessionId, reading } of state.openReadings) this.state.active.get(sessionId)?.readings.push(reading);
    for (const { sessionId, state: st } of state.openStates) this.state.active.get(sessionId)?.states.push(st);
  }

  get count(): number {
    return this.state.active.size;
  }

  /** An open session of this charger (by id, else by connector); null once it is stopping. */
  open(chargerId: string, ref: { sessionId?: number; connectorId?: number }): (SessionToSettle & { readings: readonly MeterReading[] }) | null {
    const sess =
      ref.sessionId !== undefined
        ? this.state.active.get(ref.sessionId)
        : ref.connectorId !== undefined && ref.connectorId > 0
          ? this.state.byConnector.get(connKey(chargerId, ref.connectorId))
          : undefined;
    if (!sess || sess.chargerId !== chargerId || sess.stopping) return null;
    return sess;
  }

  /** The charger restarted: every session it still has open is one it lost. */
  async closeAllOf(chargerId: string, why: string): Promise<void> {
    const lost: Promise<unknown>[] = [];
    for (const sess of this.state.active.values()) if (sess.chargerId === chargerId) lost.push(this.stops.closeWithoutStop(sess, why));
    await Promise.all(lost);
  }

  /** A start; retried with the same facts, it gets the same answer and nothing new. `openWhy`: why a session open on the connector was lost. */
  start(chargerId: string, req: StartRequest, openWhy: () => string): Promise<StartResult> {
    const key = startKey(chargerId, req.connectorId, req.token, req.startedAt, req.meterStartWh);
    const same = this.state.startsByKey.get(key);
    if (same) return same; // a retried start: same id, nothing new
    const pending = this.doStart(chargerId, req, key, openWhy);
    this.state.startsByKey.set(key, pending);
    pending.then(
      (res) => {
        // Only accepted starts stay remembered (until the session ends).
        if (!this.state.active.has(res.sessionId)) this.state.startsByKey.delete(key);
      },
      () => this.state.startsByKey.delete(key),
    );
    return pending;
  }

  private async doStart(chargerId: string, req: StartRequest, key: string, openWhy: () => string): Promise<StartResult> {
    const { startedAt } = req;
    const startMs = Date.parse(startedAt);
    // A new transaction on the connector, accepted or not: the charger no longer has the open one.
    const ck = connKey(chargerId, req.connectorId);
    const open = this.state.byConnector.get(ck);
    if (open) await this.stops.closeWithoutStop(open, openWhy());
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
    for (const st of this.state.recentStates.get(ck) ?? []) if (Date.parse(st.at) > startMs) sess.states.push(st);
    this.state.active.set(sess.id, sess);
    const previous = this.state.byConnector.get(ck);
    this.state.byConnector.set(ck, sess);
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
      this.state.active.delete(sess.id);
      if (this.state.byConnector.get(ck) === sess) {
        if (previous) this.state.byConnector.set(ck, previous);
        else this.state.byConnector.delete(ck);
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
      sess = this.state.active.get(ref.sessionId);
      if (sess && sess.chargerId !== chargerId) sess = undefined;
      sessionId = sess ? sess.id : await this.knownSessionId(ref.sessionId, chargerId);
    } else if (ref.connectorId > 0) {
      sess = this.state.byConnector.get(connKey(chargerId, ref.connectorId));
      sessionId = sess ? sess.id : null;
    }
    const { source, rows, readings } = batch();
    await this.store.commit(this.store.writes.meterValues({ sessionId, chargerId, connectorId: ref.connectorId, source, receivedAt: wallIso(), rows }));
    // Readings count for billing only while the session is open (late values after the stop
    // are stored, never used to reopen or rebill).
    if (sess && !sess.stopping && this.state.active.has(sess.id)) for (const r of readings) sess.readings.push(r);
  }

  /** Session id if it exists in the store for this charger (completed sessions), else null. */
  private async knownSessionId(id: number, chargerId: string): Promise<number | null> {
    if (id <= 0) return null;
    const row = await this.store.read<{ id: number; charger_id: string }>('sessionById', [id]);
    return row && row.charger_id === chargerId ? row.id : null;
  }

  async connectorStatus(chargerId: string, r: ConnectorStatusReport): Promise<void> {
    const lost = r.freedWhy !== null && r.connectorId > 0 ? this.state.byConnector.get(connKey(chargerId, r.connectorId)) : undefined;
    const closing = lost && Date.parse(r.at) >= Date.parse(lost.startedAt) ? this.stops.closeWithoutStop(lost, r.freedWhy!()) : null;
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
      const sess = this.state.byConnector.get(ck);
      if (sess && !sess.stopping) sess.states.push(change);
      let recent = this.state.recentStates.get(ck);
      if (!recent) this.state.recentStates.set(ck, (recent = []));
      recent.push(change);
      if (recent.length > RECENT_STATES) recent.shift();
    }
  }

  /** A stop: see SessionStops.stop. */
  stop(chargerId: string, req: StopRequest): Promise<unknown> {
    return this.stops.stop(chargerId, req);
  }
}
