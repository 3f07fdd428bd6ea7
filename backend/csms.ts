// The reference CSMS core: OCPP 1.6 message handling, in-memory state for the hot path
// (chargers, tokens, tariffs, active sessions), and the units of work it commits. The
// transport (ocpp-rpc) lives in ocpp-server.ts; the HTTP API in http-api.ts.
import type { Tariff } from './billing/ocpi.js';
import type { MeterReading, StateChange } from './billing/periods.js';
import { energyWh, isoUtc, readingOf, type MeterValue16 } from './meter.js';
import { billSession, chargingStateOf, vatSummary } from './session-billing.js';
import type { Store } from './store/store.js';
import type { Op } from './store/write-queue.js';
import { dataTransfer, type DataTransferConf, type DataTransferReq } from './vendors.js';

export type TokenStatus = 'Accepted' | 'Blocked' | 'Expired' | 'Invalid';

export interface IdTagInfo {
  status: TokenStatus | 'ConcurrentTx';
  expiryDate?: string;
  parentIdTag?: string;
}

export interface TokenRec {
  idTag: string;
  status: TokenStatus;
  expiryDate: string | null;
  parentIdTag: string | null;
}

export interface ChargerRec {
  id: string;
  connectors: number;
  timeZone: string;
  tariffId: string | null;
}

interface TariffVersion {
  vid: number;
  id: string;
  validFrom: number; // ms, -Infinity when open
  validTo: number; // ms, +Infinity when open
  superseded: boolean;
  tariff: Tariff;
}

interface ActiveSession {
  id: number;
  chargerId: string;
  connectorId: number;
  idTag: string;
  startedAt: string;
  meterStart: number;
  tariffVid: number | null;
  timeZone: string;
  key: string;
  readings: MeterReading[];
  states: StateChange[];
  stopping: Promise<StopConf> | null;
}

interface StartConf {
  transactionId: number;
  idTagInfo: IdTagInfo;
}

interface StopConf {
  idTagInfo?: IdTagInfo;
}

export interface CsmsOptions {
  unknownTagPolicy: 'reject' | 'accept';
  heartbeatIntervalSec: number;
  log: (line: string) => void;
}

/** Thrown for requests the OCPP schema allows but the back end cannot make sense of. */
export class OcppRequestError extends Error {
  constructor(
    readonly rpcCode: 'PropertyConstraintViolation' | 'FormationViolation' | 'GenericError',
    message: string,
  ) {
    super(message);
  }
}

const wallIso = (): string => new Date().toISOString();

function requireIso(ts: string, field: string): string {
  const iso = isoUtc(ts);
  if (iso === null) throw new OcppRequestError('PropertyConstraintViolation', `${field} is not a valid date-time: ${ts}`);
  return iso;
}

/** Status changes remembered per connector, so a session can pick up ones that raced its start. */
const RECENT_STATES = 8;

export class Csms {
  readonly chargers = new Map<string, ChargerRec>();
  readonly tokens = new Map<string, TokenRec>();
  private readonly tariffVersions = new Map<number, TariffVersion>();
  private readonly tariffsById = new Map<string, TariffVersion[]>();
  private defaultTariffId: string | null = null;
  private nextTariffVid = 1;

  private nextSessionId = 1;
  private readonly active = new Map<number, ActiveSession>();
  private readonly activeByConnector = new Map<string, ActiveSession>();
  private readonly startsByKey = new Map<string, Promise<StartConf>>();
  private readonly recentStates = new Map<string, StateChange[]>();
  /** Latest sim time (ms) seen in a message from each charger: "now" for Authorize. */
  private readonly simNow = new Map<string, number>();

  private constructor(
    readonly store: Store,
    readonly opts: CsmsOptions,
  ) {}

  static async create(store: Store, opts: CsmsOptions): Promise<Csms> {
    const c = new Csms(store, opts);
    await c.hydrate();
    return c;
  }

  // ---------------------------------------------------------------- start-up

  private async hydrate(): Promise<void> {
    const s = this.store;
    for (const r of await s.queryWriter<{ id: string; connectors: number; time_zone: string; tariff_id: string | null }>(
      'SELECT id, connectors, time_zone, tariff_id FROM chargers',
    )) {
      this.chargers.set(r.id, { id: r.id, connectors: r.connectors, timeZone: r.time_zone, tariffId: r.tariff_id });
    }
    for (const r of await s.queryWriter<{ id_tag: string; status: TokenStatus; expiry_date: string | null; parent_id_tag: string | null }>(
      'SELECT id_tag, status, expiry_date, parent_id_tag FROM tokens',
    )) {
      this.tokens.set(r.id_tag, { idTag: r.id_tag, status: r.status, expiryDate: r.expiry_date, parentIdTag: r.parent_id_tag });
    }
    for (const r of await s.queryWriter<{ vid: number; json: string; superseded: number }>(
      'SELECT vid, json, superseded FROM tariffs ORDER BY vid',
    )) {
      this.addTariffVersion(r.vid, JSON.parse(r.json) as Tariff, r.superseded === 1);
    }
    const def = await s.queryWriter<{ value: string }>(`SELECT value FROM settings WHERE key = 'default_tariff_id'`);
    this.defaultTariffId = def[0]?.value ?? null;
    const maxId = await s.queryWriter<{ m: number | null }>('SELECT MAX(id) AS m FROM sessions');
    const maxUnmatched = await s.queryWriter<{ m: number | null }>('SELECT MAX(transaction_id) AS m FROM unmatched_stops');
    // Never hand out an id a charger has already used in an unmatched stop.
    this.nextSessionId = Math.max(maxId[0]?.m ?? 0, maxUnmatched[0]?.m ?? 0) + 1;

    const actives = await s.queryWriter<{
      id: number;
      charger_id: string;
      connector_id: number;
      id_tag: string;
      started_at: string;
      meter_start: number;
      tariff_vid: number | null;
      time_zone: string;
    }>(`SELECT id, charger_id, connector_id, id_tag, started_at, meter_start, tariff_vid, time_zone FROM sessions WHERE state = 'active'`);
    for (const r of actives) {
      const sess: ActiveSession = {
        id: r.id,
        chargerId: r.charger_id,
        connectorId: r.connector_id,
        idTag: r.id_tag,
        startedAt: r.started_at,
        meterStart: r.meter_start,
        tariffVid: r.tariff_vid,
        timeZone: r.time_zone,
        key: startKey(r.charger_id, r.connector_id, r.id_tag, r.started_at, r.meter_start),
        readings: [],
        states: [],
        stopping: null,
      };
      this.active.set(sess.id, sess);
      this.activeByConnector.set(connKey(sess.chargerId, sess.connectorId), sess);
      this.startsByKey.set(sess.key, Promise.resolve({ transactionId: sess.id, idTagInfo: { status: 'Accepted' } }));
    }
    if (actives.length > 0) {
      // Meter readings and status changes of the sessions that were open when we stopped.
      const mvRows = await s.queryWriter<{
        session_id: number;
        at: string;
        measurand: string | null;
        phase: string | null;
        unit: string | null;
        format: string | null;
        value: string;
      }>(`SELECT mv.session_id, mv.at, mv.measurand, mv.phase, mv.unit, mv.format, mv.value
          FROM meter_values mv JOIN sessions s ON s.id = mv.session_id
          WHERE s.state = 'active' ORDER BY mv.session_id, mv.at, mv.id`);
      let cur: { sid: number; mv: MeterValue16 } | null = null;
      const flush = (): void => {
        if (!cur) return;
        const sess = this.active.get(cur.sid);
        const reading = readingOf(cur.mv, cur.mv.timestamp);
        if (sess && reading) sess.readings.push(reading);
      };
      for (const r of mvRows) {
        if (!cur || cur.sid !== r.session_id || cur.mv.timestamp !== r.at) {
          flush();
          cur = { sid: r.session_id, mv: { timestamp: r.at, sampledValue: [] } };
        }
        cur.mv.sampledValue.push({
          value: r.value,
          ...(r.measurand !== null ? { measurand: r.measurand } : {}),
          ...(r.phase !== null ? { phase: r.phase } : {}),
          ...(r.unit !== null ? { unit: r.unit } : {}),
          ...(r.format !== null ? { format: r.format } : {}),
        });
      }
      flush();
      const stRows = await s.queryWriter<{ id: number; status: string; at: string }>(
        `SELECT s.id, sh.status, sh.at FROM status_history sh
           JOIN sessions s ON s.state = 'active' AND sh.charger_id = s.charger_id AND sh.connector_id = s.connector_id
           AND sh.at > s.started_at ORDER BY sh.id`,
      );
      for (const r of stRows) {
        const charging = chargingStateOf(r.status);
        const sess = this.active.get(r.id);
        if (sess && charging !== null) sess.states.push({ at: r.at, charging });
      }
    }
  }

  // ---------------------------------------------------------------- helpers

  private seeSimTime(chargerId: string, iso: string): void {
    const t = Date.parse(iso);
    const prev = this.simNow.get(chargerId);
    if (prev === undefined || t > prev) this.simNow.set(chargerId, t);
  }

  /** Sim "now" for a charger: the latest timestamp it sent, or the wall clock before it sent any. */
  nowFor(chargerId: string): number {
    return this.simNow.get(chargerId) ?? Date.now();
  }

  /** Make sure a charger that talks to us has a row (BootNotification registers it properly). */
  ensureCharger(chargerId: string): void {
    if (this.chargers.has(chargerId)) return;
    this.chargers.set(chargerId, { id: chargerId, connectors: 1, timeZone: 'UTC', tariffId: null });
    this.store.commit(this.store.op('chargerEnsure', [chargerId, wallIso()])).catch((err: Error) => {
      this.opts.log(`charger ${chargerId}: could not register: ${err.message}`);
    });
  }

  authorizeTag(idTag: string, nowMs: number): IdTagInfo {
    const t = this.tokens.get(idTag);
    if (!t) return { status: this.opts.unknownTagPolicy === 'accept' ? 'Accepted' : 'Invalid' };
    const info: IdTagInfo = { status: this.effectiveStatus(t, nowMs, 0) };
    if (t.expiryDate) info.expiryDate = t.expiryDate;
    if (t.parentIdTag) info.parentIdTag = t.parentIdTag;
    return info;
  }

  private effectiveStatus(t: TokenRec, nowMs: number, depth: number): TokenStatus {
    if (t.status !== 'Accepted') return t.status;
    if (t.expiryDate && Date.parse(t.expiryDate) <= nowMs) return 'Expired';
    if (t.parentIdTag && depth < 8 && t.parentIdTag !== t.idTag) {
      const parent = this.tokens.get(t.parentIdTag);
      if (parent) {
        const ps = this.effectiveStatus(parent, nowMs, depth + 1);
        // A blocked (or expired) group blocks (or expires) its members.
        if (ps === 'Blocked' || ps === 'Expired') return ps;
      }
    }
    return 'Accepted';
  }

  // ---------------------------------------------------------------- tariffs

  private addTariffVersion(vid: number, tariff: Tariff, superseded: boolean): TariffVersion {
    const v: TariffVersion = {
      vid,
      id: tariff.id,
      validFrom: tariff.start_date_time ? Date.parse(tariff.start_date_time) : -Infinity,
      validTo: tariff.end_date_time ? Date.parse(tariff.end_date_time) : Infinity,
      superseded,
      tariff,
    };
    this.tariffVersions.set(vid, v);
    let list = this.tariffsById.get(tariff.id);
    if (!list) this.tariffsById.set(tariff.id, (list = []));
    if (!superseded) {
      for (const o of list) {
        if (!o.superseded && o.validFrom === v.validFrom && o.validTo === v.validTo) o.superseded = true;
      }
    }
    list.push(v);
    if (vid >= this.nextTariffVid) this.nextTariffVid = vid + 1;
    return v;
  }

  /** The version of the charger's tariff (or the default) valid at the given instant. */
  private tariffAt(chargerId: string, atMs: number): TariffVersion | null {
    const id = this.chargers.get(chargerId)?.tariffId ?? this.defaultTariffId;
    if (!id) return null;
    const list = this.tariffsById.get(id);
    if (!list) return null;
    for (let i = list.length - 1; i >= 0; i--) {
      const v = list[i];
      if (!v.superseded && atMs >= v.validFrom && atMs < v.validTo) return v;
    }
    return null;
  }

  hasTariff(id: string): boolean {
    return this.tariffsById.has(id);
  }

  currentTariffs(): Tariff[] {
    const out: Tariff[] = [];
    for (const list of this.tariffsById.values()) for (const v of list) if (!v.superseded) out.push(v.tariff);
    return out;
  }

  getDefaultTariffId(): string | null {
    return this.defaultTariffId;
  }

  async putTariff(tariff: Tariff, makeDefault: boolean): Promise<{ version: number; isDefault: boolean }> {
    const vid = this.nextTariffVid++;
    const s = this.store;
    const ops: Op[] = [
      s.op('tariffInsert', [vid, tariff.id, tariff.start_date_time ?? null, tariff.end_date_time ?? null, JSON.stringify(tariff), wallIso()]),
      s.op('tariffSupersede', [tariff.id, vid, tariff.start_date_time ?? null, tariff.end_date_time ?? null]),
    ];
    const becomesDefault = makeDefault || this.defaultTariffId === null;
    if (becomesDefault) ops.push(s.op('setting', ['default_tariff_id', tariff.id]));
    await s.commit(...ops);
    this.addTariffVersion(vid, tariff, false);
    if (becomesDefault) this.defaultTariffId = tariff.id;
    return { version: vid, isDefault: this.defaultTariffId === tariff.id };
  }

  // ---------------------------------------------------------------- admin writes

  async putTokens(tokens: TokenRec[]): Promise<void> {
    const now = wallIso();
    await this.store.commit(
      ...tokens.map((t) => this.store.op('token', [t.idTag, t.status, t.expiryDate, t.parentIdTag, now])),
    );
    for (const t of tokens) this.tokens.set(t.idTag, t);
  }

  async putChargers(chargers: ChargerRec[]): Promise<void> {
    const now = wallIso();
    await this.store.commit(
      ...chargers.map((c) => this.store.op('chargerAdmin', [c.id, c.connectors, c.timeZone, c.tariffId, now])),
    );
    for (const c of chargers) this.chargers.set(c.id, c);
  }

  // ---------------------------------------------------------------- OCPP 1.6

  async bootNotification(
    chargerId: string,
    p: { chargePointVendor: string; chargePointModel: string; chargePointSerialNumber?: string; firmwareVersion?: string },
  ): Promise<{ status: 'Accepted'; currentTime: string; interval: number }> {
    const now = wallIso();
    if (!this.chargers.has(chargerId)) {
      this.chargers.set(chargerId, { id: chargerId, connectors: 1, timeZone: 'UTC', tariffId: null });
    }
    await this.store.commit(
      this.store.op('chargerBoot', [
        chargerId,
        p.chargePointVendor,
        p.chargePointModel,
        p.chargePointSerialNumber ?? null,
        p.firmwareVersion ?? null,
        now,
      ]),
    );
    return { status: 'Accepted', currentTime: now, interval: this.opts.heartbeatIntervalSec };
  }

  async heartbeat(chargerId: string): Promise<{ currentTime: string }> {
    const now = wallIso();
    await this.store.commit(this.store.op('chargerHeartbeat', [chargerId, now]));
    return { currentTime: now };
  }

  async statusNotification(
    chargerId: string,
    p: {
      connectorId: number;
      errorCode: string;
      status: string;
      info?: string;
      timestamp?: string;
      vendorId?: string;
      vendorErrorCode?: string;
    },
  ): Promise<Record<string, never>> {
    const received = wallIso();
    let at: string;
    let fromMessage = 0;
    if (p.timestamp !== undefined) {
      at = requireIso(p.timestamp, 'timestamp');
      fromMessage = 1;
      this.seeSimTime(chargerId, at);
    } else {
      const sim = this.simNow.get(chargerId);
      at = sim !== undefined ? new Date(sim).toISOString() : received;
    }
    await this.store.commit(
      this.store.op('status', [
        chargerId,
        p.connectorId,
        p.status,
        p.errorCode,
        p.info ?? null,
        p.vendorId ?? null,
        p.vendorErrorCode ?? null,
        at,
        fromMessage,
        received,
      ]),
    );
    const charging = chargingStateOf(p.status);
    if (charging !== null && p.connectorId > 0) {
      const change: StateChange = { at, charging };
      const ck = connKey(chargerId, p.connectorId);
      const sess = this.activeByConnector.get(ck);
      if (sess && !sess.stopping) sess.states.push(change);
      let recent = this.recentStates.get(ck);
      if (!recent) this.recentStates.set(ck, (recent = []));
      recent.push(change);
      if (recent.length > RECENT_STATES) recent.shift();
    }
    return {};
  }

  authorize(chargerId: string, p: { idTag: string }): { idTagInfo: IdTagInfo } {
    return { idTagInfo: this.authorizeTag(p.idTag, this.nowFor(chargerId)) };
  }

  startTransaction(
    chargerId: string,
    p: { connectorId: number; idTag: string; meterStart: number; timestamp: string; reservationId?: number },
  ): Promise<StartConf> {
    const startedAt = requireIso(p.timestamp, 'timestamp');
    this.seeSimTime(chargerId, startedAt);
    const key = startKey(chargerId, p.connectorId, p.idTag, startedAt, p.meterStart);
    const same = this.startsByKey.get(key);
    if (same) return same; // a retried start: same id, nothing new
    const pending = this.doStart(chargerId, p, startedAt, key);
    this.startsByKey.set(key, pending);
    pending.then(
      (conf) => {
        // Only accepted starts stay remembered (until the session ends).
        if (!this.active.has(conf.transactionId)) this.startsByKey.delete(key);
      },
      () => this.startsByKey.delete(key),
    );
    return pending;
  }

  private async doStart(
    chargerId: string,
    p: { connectorId: number; idTag: string; meterStart: number; reservationId?: number },
    startedAt: string,
    key: string,
  ): Promise<StartConf> {
    const startMs = Date.parse(startedAt);
    const idTagInfo = this.authorizeTag(p.idTag, startMs);
    if (idTagInfo.status !== 'Accepted') {
      // OCPP 1.6: the charger ends the transaction on a non-Accepted idTagInfo; nothing to bill.
      // It was committed before? Then the retry of a once-accepted start answers from the store.
      const prior = await this.store.read<{ id: number }>('sessionByKey', [chargerId, p.connectorId, p.idTag, startedAt, p.meterStart]);
      if (prior) return { transactionId: prior.id, idTagInfo: { ...idTagInfo, status: 'Accepted' } };
      return { transactionId: 0, idTagInfo };
    }
    const charger = this.chargers.get(chargerId);
    const tariff = this.tariffAt(chargerId, startMs);
    const sess: ActiveSession = {
      id: this.nextSessionId++,
      chargerId,
      connectorId: p.connectorId,
      idTag: p.idTag,
      startedAt,
      meterStart: p.meterStart,
      tariffVid: tariff?.vid ?? null,
      timeZone: charger?.timeZone ?? 'UTC',
      key,
      readings: [],
      states: [],
      stopping: null,
    };
    // Status changes that raced ahead of the StartTransaction.
    const ck = connKey(chargerId, p.connectorId);
    for (const st of this.recentStates.get(ck) ?? []) if (Date.parse(st.at) > startMs) sess.states.push(st);
    this.active.set(sess.id, sess);
    const previous = this.activeByConnector.get(ck);
    this.activeByConnector.set(ck, sess);
    try {
      await this.store.commit(
        this.store.op('sessionStart', [
          sess.id,
          chargerId,
          p.connectorId,
          p.idTag,
          startedAt,
          p.meterStart,
          p.reservationId ?? null,
          sess.tariffVid,
          tariff?.id ?? null,
          sess.timeZone,
          wallIso(),
        ]),
      );
    } catch (err) {
      this.active.delete(sess.id);
      if (this.activeByConnector.get(ck) === sess) {
        if (previous) this.activeByConnector.set(ck, previous);
        else this.activeByConnector.delete(ck);
      }
      // The same start committed earlier (its session is already completed): same id.
      if (/UNIQUE constraint failed: sessions\./.test((err as Error).message)) {
        const prior = await this.store.read<{ id: number }>('sessionByKey', [chargerId, p.connectorId, p.idTag, startedAt, p.meterStart]);
        if (prior) return { transactionId: prior.id, idTagInfo };
      }
      throw err;
    }
    return { transactionId: sess.id, idTagInfo };
  }

  async meterValues(
    chargerId: string,
    p: { connectorId: number; transactionId?: number; meterValue: MeterValue16[] },
  ): Promise<Record<string, never>> {
    let sess: ActiveSession | undefined;
    let sessionId: number | null = null;
    if (p.transactionId !== undefined) {
      sess = this.active.get(p.transactionId);
      if (sess && sess.chargerId !== chargerId) sess = undefined;
      sessionId = sess ? sess.id : await this.knownSessionId(p.transactionId, chargerId);
    } else if (p.connectorId > 0) {
      sess = this.activeByConnector.get(connKey(chargerId, p.connectorId));
      sessionId = sess ? sess.id : null;
    }
    const rows = this.meterRows(chargerId, p.meterValue);
    await this.store.commit(
      this.store.op('meterValues', [sessionId, chargerId, p.connectorId, 'MeterValues', wallIso(), rows]),
    );
    // Readings count for billing only while the session is open (late Transaction.End
    // values after the stop are stored, never used to reopen or rebill).
    if (sess && !sess.stopping && this.active.has(sess.id)) {
      for (const mv of p.meterValue) {
        const r = readingOf(mv, isoUtc(mv.timestamp) ?? mv.timestamp);
        if (r) sess.readings.push(r);
      }
    }
    return {};
  }

  /** Session id if it exists in the store for this charger (completed sessions), else null. */
  private async knownSessionId(id: number, chargerId: string): Promise<number | null> {
    if (id <= 0) return null;
    const row = await this.store.read<{ id: number; charger_id: string }>('sessionById', [id]);
    return row && row.charger_id === chargerId ? row.id : null;
  }

  /** Sampled values as the JSON rows the meterValues statement expands. */
  private meterRows(chargerId: string, meterValue: MeterValue16[]): string {
    const rows: unknown[] = [];
    for (const mv of meterValue) {
      const at = requireIso(mv.timestamp, 'meterValue.timestamp');
      this.seeSimTime(chargerId, at);
      for (const sv of mv.sampledValue) {
        const wh = energyWh(sv);
        rows.push([
          at,
          sv.context ?? null,
          sv.measurand ?? null,
          sv.phase ?? null,
          sv.unit ?? null,
          sv.location ?? null,
          sv.format ?? null,
          sv.value,
          wh === null ? null : Number(wh),
        ]);
      }
    }
    return JSON.stringify(rows);
  }

  async stopTransaction(
    chargerId: string,
    p: {
      transactionId: number;
      idTag?: string;
      meterStop: number;
      timestamp: string;
      reason?: string;
      transactionData?: MeterValue16[];
    },
  ): Promise<StopConf> {
    const stoppedAt = requireIso(p.timestamp, 'timestamp');
    this.seeSimTime(chargerId, stoppedAt);
    const sess = this.active.get(p.transactionId);
    if (sess && sess.chargerId === chargerId) {
      if (!sess.stopping) {
        sess.stopping = this.doStop(sess, p, stoppedAt);
        sess.stopping.catch(() => {
          sess.stopping = null; // not committed: a retry may try again
        });
      }
      return sess.stopping;
    }
    if (p.transactionId > 0 && !sess) {
      const row = await this.store.read<{ charger_id: string; state: string; stop_response: string | null }>('sessionById', [
        p.transactionId,
      ]);
      if (row && row.charger_id === chargerId && row.state === 'completed' && row.stop_response) {
        return JSON.parse(row.stop_response) as StopConf; // a repeated stop: one stop, one bill
      }
    }
    // Unknown (or 0 / -1): acknowledge so the charger stops retrying, keep it for reconciliation.
    const conf: StopConf = p.idTag !== undefined ? { idTagInfo: { status: 'Accepted' } } : {};
    await this.store.commit(
      this.store.op('unmatchedStop', [
        chargerId,
        p.transactionId,
        p.idTag ?? null,
        stoppedAt,
        p.meterStop,
        p.reason ?? null,
        p.transactionData ? JSON.stringify(p.transactionData) : null,
        wallIso(),
      ]),
    );
    return conf;
  }

  private async doStop(
    sess: ActiveSession,
    p: { transactionId: number; idTag?: string; meterStop: number; reason?: string; transactionData?: MeterValue16[] },
    stoppedAt: string,
  ): Promise<StopConf> {
    const s = this.store;
    const ops: Op[] = [];
    const readings = sess.readings.slice();
    if (p.transactionData && p.transactionData.length > 0) {
      ops.push(s.op('meterValues', [sess.id, sess.chargerId, sess.connectorId, 'StopTransaction', wallIso(), this.meterRows(sess.chargerId, p.transactionData)]));
      for (const mv of p.transactionData) {
        const r = readingOf(mv, isoUtc(mv.timestamp) ?? mv.timestamp);
        if (r) readings.push(r);
      }
    }
    const conf: StopConf = p.idTag !== undefined ? { idTagInfo: this.authorizeTag(p.idTag, Date.parse(stoppedAt)) } : {};
    const version = sess.tariffVid !== null ? this.tariffVersions.get(sess.tariffVid) : undefined;
    const bill = billSession({
      startedAt: sess.startedAt,
      stoppedAt,
      meterStartWh: sess.meterStart,
      meterStopWh: p.meterStop,
      readings,
      states: sess.states,
      timeZone: sess.timeZone,
      tariff: version?.tariff ?? null,
    });
    if (bill.pricingError !== null) {
      this.opts.log(`session ${sess.id}: pricing failed, closed unbilled: ${bill.pricingError}`);
    }
    const cost = bill.cost;
    let costJson: string | null = null;
    if (cost) {
      const { lines: _lines, ...totals } = cost;
      costJson = JSON.stringify({ ...totals, flat_count: cost.lines.filter((l) => l.dimension === 'FLAT').length });
    }
    ops.unshift(
      s.op('sessionStop', [
        sess.id,
        stoppedAt,
        p.meterStop,
        p.reason ?? null,
        p.idTag ?? null,
        JSON.stringify(conf),
        bill.energyWh,
        bill.chargingSeconds,
        bill.parkingSeconds,
        JSON.stringify(bill.flags),
        bill.pricingError,
        cost?.currency ?? null,
        cost?.total_cost.excl_vat ?? null,
        cost?.total_cost.incl_vat ?? null,
        costJson,
        cost ? sess.id : null,
        wallIso(),
      ]),
    );
    if (cost) {
      ops.push(s.op('costLines', [sess.id, JSON.stringify(cost.lines)]));
      ops.push(
        s.op('invoice', [
          sess.id,
          new Date(Date.parse(stoppedAt)).getUTCFullYear(),
          stoppedAt,
          cost.currency,
          cost.total_cost.excl_vat,
          cost.total_cost.incl_vat,
          JSON.stringify(vatSummary(cost)),
        ]),
      );
    }
    await s.commit(...ops);
    this.active.delete(sess.id);
    this.startsByKey.delete(sess.key);
    const ck = connKey(sess.chargerId, sess.connectorId);
    if (this.activeByConnector.get(ck) === sess) this.activeByConnector.delete(ck);
    return conf;
  }

  dataTransfer(_chargerId: string, p: DataTransferReq): DataTransferConf {
    return dataTransfer(p);
  }

  activeSessionCount(): number {
    return this.active.size;
  }
}

function startKey(chargerId: string, connectorId: number, idTag: string, startedAt: string, meterStart: number): string {
  return `${chargerId}\u0000${connectorId}\u0000${idTag}\u0000${startedAt}\u0000${meterStart}`;
}

function connKey(chargerId: string, connectorId: number): string {
  return `${chargerId}\u0000${connectorId}`;
}
