// The reference CSMS core: OCPP 1.6 message handling, in-memory state for the hot path
// (chargers, tokens, tariffs, active sessions), and the units of work it commits. The
// endpoint lives in ocpp/endpoint.ts (its transport in ocpp/transport/); the HTTP API in http-api.ts.
import type { ChargingPeriod, CostBreakdown, Tariff } from '../billing/ocpi.js';
import type { MeterReading, StateChange } from '../billing/periods.js';
import { tariffValidAt } from '../billing/pricing.js';
import { buildCdr, cdrLocation, cdrTotals, DEFAULT_PARTY, publishedTariff, type AuthMethod, type LocationRec, type OcpiParty } from '../cdrs/cdr.js';
import { Dec } from '../billing/money.js';
import { energyWh, isoUtc, readingOf, type MeterValue16 } from '../metering/sampled-values.js';
import { billSession, vatSummary } from './session-billing.js';
import { chargingStateOf } from '../metering/connector-states.js';
import type { Store } from '../store/store.js';
import type { Op } from '../store/write-queue.js';
import { connectorTarget, TariffAssignments, type AssignmentScope, type TableScope, type TariffAssignment } from './tariff-assignments.js';
import { dataTransfer, type DataTransferConf, type DataTransferReq } from '../ocpp/v16/data-transfer-registry.js';

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
  /** Customer group: a group's tariff overrides the public ones. */
  group: string | null;
}

export interface ChargerRec {
  id: string;
  connectors: number;
  timeZone: string;
  tariffId: string | null;
  locationId: string | null;
}

interface TariffVersion {
  vid: number;
  id: string;
  validFrom: number; // ms, -Infinity when open
  validTo: number; // ms, +Infinity when open
  superseded: boolean;
  tariff: Tariff;
  /** OCPI last_updated (UTC ISO): the tariff's own, else when it was posted. */
  lastUpdated: string;
  /** The OCPI published form, made on first use. */
  published?: Tariff;
}

/** A session's tariff and the assignment that chose it. */
interface TariffChoice {
  version: TariffVersion;
  scope: AssignmentScope;
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
  locationId: string | null;
  authMethod: AuthMethod;
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
  /** OCPI owner of CDRs and tariffs (default NL / CBX). */
  party?: OcpiParty;
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

// The wall clock as UTC ISO, formatted once per millisecond: a busy back end asks several times per message.
let wallMs = Number.NaN;
let wallText = '';
function wallIso(): string {
  const now = Date.now();
  if (now !== wallMs) {
    wallMs = now;
    wallText = new Date(now).toISOString();
  }
  return wallText;
}

function requireIso(ts: string, field: string): string {
  const iso = isoUtc(ts);
  if (iso === null) throw new OcppRequestError('PropertyConstraintViolation', `${field} is not a valid date-time: ${ts}`);
  return iso;
}

/** Status changes remembered per connector, so a session can pick up ones that raced its start. */
const RECENT_STATES = 8;

/** OCPP 1.6: a StopTransaction without a reason was stopped locally. */
const DEFAULT_STOP_REASON = 'Local';

/** What the back end knows of a charger's clock: its latest timestamp and when that arrived. */
interface ChargerClock {
  latestMs: number;
  /** Wall clock (ms) when the message with the latest timestamp arrived. */
  receivedMs: number;
  /** Some timestamp had a fraction of a second: the charger's clock is finer than whole seconds. */
  subSecond: boolean;
}

/** What a stop closes a session with: a StopTransaction, or the last reading when the charger lost the session. */
interface StopFacts {
  transactionId: number;
  idTag?: string;
  meterStop: number;
  reason?: string;
  transactionData?: MeterValue16[];
}

export class Csms {
  readonly chargers = new Map<string, ChargerRec>();
  readonly tokens = new Map<string, TokenRec>();
  private readonly tariffVersions = new Map<number, TariffVersion>();
  private readonly tariffsById = new Map<string, TariffVersion[]>();
  private defaultTariffId: string | null = null;
  private nextTariffVid = 1;
  readonly locations = new Map<string, LocationRec>();
  private readonly assignments = new TariffAssignments();
  readonly party: OcpiParty;

  private nextSessionId = 1;
  private readonly active = new Map<number, ActiveSession>();
  private readonly activeByConnector = new Map<string, ActiveSession>();
  private readonly startsByKey = new Map<string, Promise<StartConf>>();
  private readonly recentStates = new Map<string, StateChange[]>();
  /** Each charger's clock as seen in its messages: "now" for Authorize and for statuses without a timestamp. */
  private readonly clocks = new Map<string, ChargerClock>();

  private constructor(
    readonly store: Store,
    readonly opts: CsmsOptions,
  ) {
    this.party = opts.party ?? DEFAULT_PARTY;
  }

  static async create(store: Store, opts: CsmsOptions): Promise<Csms> {
    const c = new Csms(store, opts);
    await c.hydrate();
    return c;
  }

  // ---------------------------------------------------------------- start-up

  private async hydrate(): Promise<void> {
    const s = this.store;
    for (const r of await s.queryWriter<{ id: string; connectors: number; time_zone: string; tariff_id: string | null; location_id: string | null }>(
      'SELECT id, connectors, time_zone, tariff_id, location_id FROM chargers',
    )) {
      this.chargers.set(r.id, { id: r.id, connectors: r.connectors, timeZone: r.time_zone, tariffId: r.tariff_id, locationId: r.location_id });
    }
    for (const r of await s.queryWriter<{ id_tag: string; status: TokenStatus; expiry_date: string | null; parent_id_tag: string | null; group_id: string | null }>(
      'SELECT id_tag, status, expiry_date, parent_id_tag, group_id FROM tokens',
    )) {
      this.tokens.set(r.id_tag, { idTag: r.id_tag, status: r.status, expiryDate: r.expiry_date, parentIdTag: r.parent_id_tag, group: r.group_id });
    }
    for (const r of await s.queryWriter<{ vid: number; json: string; superseded: number; last_updated: string }>(
      'SELECT vid, json, superseded, last_updated FROM tariffs ORDER BY vid',
    )) {
      this.addTariffVersion(r.vid, JSON.parse(r.json) as Tariff, r.superseded === 1, r.last_updated);
    }
    for (const r of await s.queryWriter<{ id: string; name: string; time_zone: string; address_json: string | null }>(
      'SELECT id, name, time_zone, address_json FROM locations',
    )) {
      this.locations.set(r.id, { id: r.id, name: r.name, timeZone: r.time_zone, address: r.address_json === null ? null : JSON.parse(r.address_json) });
    }
    for (const r of await s.queryWriter<{ scope: TableScope; target: string; tariff_id: string }>(
      'SELECT scope, target, tariff_id FROM tariff_assignments',
    )) {
      this.assignments.set(r.scope, r.target, r.tariff_id);
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
      location_id: string | null;
      auth_method: AuthMethod | null;
    }>(`SELECT id, charger_id, connector_id, id_tag, started_at, meter_start, tariff_vid, time_zone, location_id, auth_method
        FROM sessions WHERE state = 'active'`);
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
        locationId: r.location_id,
        authMethod: r.auth_method ?? 'WHITELIST',
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
    const clock = this.clocks.get(chargerId);
    if (!clock) {
      this.clocks.set(chargerId, { latestMs: t, receivedMs: Date.now(), subSecond: t % 1000 !== 0 });
      return;
    }
    if (t % 1000 !== 0) clock.subSecond = true;
    if (t > clock.latestMs) {
      clock.latestMs = t;
      clock.receivedMs = Date.now();
    }
  }

  /**
   * A charger's current time as best known: its latest timestamp plus the wall time since that
   * message arrived, no finer than its own timestamps (whole seconds unless it sent fractions);
   * the wall clock before it sent any. Queued messages replayed with old timestamps never move it back.
   */
  nowFor(chargerId: string): number {
    const clock = this.clocks.get(chargerId);
    if (!clock) return Date.now();
    const now = clock.latestMs + Math.max(0, Date.now() - clock.receivedMs);
    return clock.subSecond ? now : Math.floor(now / 1000) * 1000;
  }

  /** Make sure a charger that talks to us has a row (BootNotification registers it properly). */
  ensureCharger(chargerId: string): void {
    if (this.chargers.has(chargerId)) return;
    this.chargers.set(chargerId, { id: chargerId, connectors: 1, timeZone: 'UTC', tariffId: null, locationId: null });
    this.store.commit(this.store.writes.chargerEnsure({ id: chargerId, createdAt: wallIso() })).catch((err: Error) => {
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

  private addTariffVersion(vid: number, tariff: Tariff, superseded: boolean, lastUpdated: string): TariffVersion {
    const v: TariffVersion = {
      vid,
      id: tariff.id,
      validFrom: tariff.start_date_time ? Date.parse(tariff.start_date_time) : -Infinity,
      validTo: tariff.end_date_time ? Date.parse(tariff.end_date_time) : Infinity,
      superseded,
      tariff,
      lastUpdated,
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

  /**
   * The session's tariff: the most specific assignment (group > connector > charger > location
   * > default) whose tariff has a version valid at the start; among versions, the one valid then.
   */
  private chooseTariff(chargerId: string, connectorId: number, group: string | null, atMs: number): TariffChoice | null {
    const charger = this.chargers.get(chargerId);
    const candidates = this.assignments.candidates({
      group,
      chargerId,
      connectorId,
      chargerTariffId: charger?.tariffId ?? null,
      locationId: charger?.locationId ?? null,
      defaultTariffId: this.defaultTariffId,
    });
    for (const c of candidates) {
      const version = this.tariffVersionAt(c.tariffId, atMs);
      if (version) return { version, scope: c.scope };
    }
    return null;
  }

  /** The version of a tariff valid at an instant (OCPI validity, see tariffValidAt). */
  private tariffVersionAt(tariffId: string, atMs: number): TariffVersion | null {
    const live = (this.tariffsById.get(tariffId) ?? []).filter((v) => !v.superseded && atMs >= v.validFrom && atMs < v.validTo);
    if (live.length <= 1) return live[0] ?? null;
    const chosen = tariffValidAt(live.map((v) => v.tariff), new Date(atMs).toISOString());
    return live.find((v) => v.tariff === chosen) ?? null;
  }

  /** A tariff version in its OCPI published form, for CDRs (null if unknown). */
  publishedTariffVersionAt(tariffId: string, atMs: number): { vid: number; tariff: Tariff } | null {
    const v = this.tariffVersionAt(tariffId, atMs);
    return v ? { vid: v.vid, tariff: this.published(v) } : null;
  }

  publishedTariffVersion(vid: number): Tariff | null {
    const v = this.tariffVersions.get(vid);
    return v ? this.published(v) : null;
  }

  /** Versions never change, so each is put in its published form once (every CDR embeds it); frozen, as it is shared. */
  private published(v: TariffVersion): Tariff {
    return (v.published ??= deepFreeze(publishedTariff(v.tariff, this.party, v.lastUpdated)));
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
    const now = wallIso();
    const lastUpdated = tariff.last_updated !== undefined ? new Date(Date.parse(tariff.last_updated)).toISOString() : now;
    const ops: Op[] = [
      s.writes.tariffInsert({
        vid,
        id: tariff.id,
        validFrom: tariff.start_date_time ?? null,
        validTo: tariff.end_date_time ?? null,
        json: JSON.stringify(tariff),
        createdAt: now,
        lastUpdated,
      }),
      s.writes.tariffSupersede({ id: tariff.id, vid, validFrom: tariff.start_date_time ?? null, validTo: tariff.end_date_time ?? null }),
    ];
    const becomesDefault = makeDefault || this.defaultTariffId === null;
    if (becomesDefault) ops.push(s.writes.setting({ key: 'default_tariff_id', value: tariff.id }));
    await s.commit(...ops);
    this.addTariffVersion(vid, tariff, false, lastUpdated);
    if (becomesDefault) this.defaultTariffId = tariff.id;
    return { version: vid, isDefault: this.defaultTariffId === tariff.id };
  }

  // ---------------------------------------------------------------- admin writes

  async putTokens(tokens: TokenRec[]): Promise<void> {
    const now = wallIso();
    await this.store.commit(
      ...tokens.map((t) =>
        this.store.writes.token({ idTag: t.idTag, status: t.status, expiryDate: t.expiryDate, parentIdTag: t.parentIdTag, updatedAt: now, group: t.group }),
      ),
    );
    for (const t of tokens) this.tokens.set(t.idTag, t);
  }

  async putChargers(chargers: ChargerRec[]): Promise<void> {
    const now = wallIso();
    await this.store.commit(
      ...chargers.map((c) =>
        this.store.writes.chargerAdmin({ id: c.id, connectors: c.connectors, timeZone: c.timeZone, tariffId: c.tariffId, createdAt: now, locationId: c.locationId }),
      ),
    );
    for (const c of chargers) this.chargers.set(c.id, c);
  }

  async putLocation(loc: LocationRec): Promise<void> {
    await this.store.commit(
      this.store.writes.location({
        id: loc.id,
        name: loc.name,
        timeZone: loc.timeZone,
        addressJson: loc.address === null ? null : JSON.stringify(loc.address),
        updatedAt: wallIso(),
      }),
    );
    this.locations.set(loc.id, loc);
  }

  /** Assign a tariff (null removes the assignment). The caller has checked that targets and tariff exist. */
  async putTariffAssignment(a: Omit<TariffAssignment, 'tariffId'> & { tariffId: string | null }): Promise<void> {
    const s = this.store;
    const now = wallIso();
    switch (a.scope) {
      case 'default':
        await s.commit(
          a.tariffId === null
            ? s.writes.settingDelete({ key: 'default_tariff_id' })
            : s.writes.setting({ key: 'default_tariff_id', value: a.tariffId }),
        );
        this.defaultTariffId = a.tariffId;
        return;
      case 'charger': {
        const charger = this.chargers.get(a.chargerId!)!;
        await s.commit(s.writes.chargerTariff({ id: charger.id, tariffId: a.tariffId }));
        this.chargers.set(charger.id, { ...charger, tariffId: a.tariffId });
        return;
      }
      default: {
        const target = a.scope === 'location' ? a.locationId! : a.scope === 'group' ? a.group! : connectorTarget(a.chargerId!, a.connectorId!);
        await s.commit(
          a.tariffId === null
            ? s.writes.tariffAssignmentDelete({ scope: a.scope, target })
            : s.writes.tariffAssignmentPut({ scope: a.scope, target, tariffId: a.tariffId, updatedAt: now }),
        );
        this.assignments.set(a.scope, target, a.tariffId);
      }
    }
  }

  /** Every assignment in force, most specific scope first. */
  tariffAssignments(): TariffAssignment[] {
    const out = this.assignments.list();
    for (const c of this.chargers.values()) if (c.tariffId !== null) out.push({ scope: 'charger', tariffId: c.tariffId, chargerId: c.id });
    if (this.defaultTariffId !== null) out.push({ scope: 'default', tariffId: this.defaultTariffId });
    const rank = (a: TariffAssignment): number => ['group', 'connector', 'charger', 'location', 'default'].indexOf(a.scope);
    return out.sort((a, b) => rank(a) - rank(b));
  }

  // ---------------------------------------------------------------- OCPP 1.6

  async bootNotification(
    chargerId: string,
    p: { chargePointVendor: string; chargePointModel: string; chargePointSerialNumber?: string; firmwareVersion?: string },
  ): Promise<{ status: 'Accepted'; currentTime: string; interval: number }> {
    const now = wallIso();
    if (!this.chargers.has(chargerId)) {
      this.chargers.set(chargerId, { id: chargerId, connectors: 1, timeZone: 'UTC', tariffId: null, locationId: null });
    }
    // A charger boots after a restart: a session it still has open is one it lost.
    const lost: Promise<StopConf>[] = [];
    for (const sess of this.active.values()) {
      if (sess.chargerId === chargerId) lost.push(this.closeWithoutStop(sess, 'the charger rebooted (BootNotification) with the session open'));
    }
    await Promise.all(lost);
    await this.store.commit(
      this.store.writes.chargerBoot({
        id: chargerId,
        vendor: p.chargePointVendor,
        model: p.chargePointModel,
        serialNumber: p.chargePointSerialNumber ?? null,
        firmwareVersion: p.firmwareVersion ?? null,
        bootedAt: now,
      }),
    );
    return { status: 'Accepted', currentTime: now, interval: this.opts.heartbeatIntervalSec };
  }

  async heartbeat(chargerId: string): Promise<{ currentTime: string }> {
    const now = wallIso();
    await this.store.commit(this.store.writes.chargerHeartbeat({ id: chargerId, at: now }));
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
    let fromMessage: 0 | 1 = 0;
    if (p.timestamp !== undefined) {
      at = requireIso(p.timestamp, 'timestamp');
      fromMessage = 1;
      this.seeSimTime(chargerId, at);
    } else {
      // It happened when it arrived: at the charger's current time as best known.
      at = this.clocks.has(chargerId) ? new Date(this.nowFor(chargerId)).toISOString() : received;
    }
    // A connector reported Available has no transaction: a session still open on it was lost.
    const lost = p.status === 'Available' && p.connectorId > 0 ? this.activeByConnector.get(connKey(chargerId, p.connectorId)) : undefined;
    const closing =
      lost && Date.parse(at) >= Date.parse(lost.startedAt)
        ? this.closeWithoutStop(lost, `the charger reported connector ${p.connectorId} Available with the session open`)
        : null;
    await this.store.commit(
      this.store.writes.status({
        chargerId,
        connectorId: p.connectorId,
        status: p.status,
        errorCode: p.errorCode,
        info: p.info ?? null,
        vendorId: p.vendorId ?? null,
        vendorErrorCode: p.vendorErrorCode ?? null,
        at,
        atFromMessage: fromMessage,
        receivedAt: received,
      }),
    );
    if (closing) await closing;
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
    // A new transaction on the connector, accepted or not: the charger no longer has the open one.
    const ck = connKey(chargerId, p.connectorId);
    const open = this.activeByConnector.get(ck);
    if (open) await this.closeWithoutStop(open, `a new StartTransaction on connector ${p.connectorId} with the session open`);
    const idTagInfo = this.authorizeTag(p.idTag, startMs);
    if (idTagInfo.status !== 'Accepted') {
      // OCPP 1.6: the charger ends the transaction on a non-Accepted idTagInfo; nothing to bill.
      // It was committed before? Then the retry of a once-accepted start answers from the store.
      const prior = await this.store.read<{ id: number }>('sessionByKey', [chargerId, p.connectorId, p.idTag, startedAt, p.meterStart]);
      if (prior) return { transactionId: prior.id, idTagInfo: { ...idTagInfo, status: 'Accepted' } };
      return { transactionId: 0, idTagInfo };
    }
    const charger = this.chargers.get(chargerId);
    const token = this.tokens.get(p.idTag);
    const group = token?.group ?? null;
    const choice = this.chooseTariff(chargerId, p.connectorId, group, startMs);
    const tariff = choice?.version ?? null;
    const location = charger?.locationId ? this.locations.get(charger.locationId) : undefined;
    const sess: ActiveSession = {
      id: this.nextSessionId++,
      chargerId,
      connectorId: p.connectorId,
      idTag: p.idTag,
      startedAt,
      meterStart: p.meterStart,
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
    // Status changes that raced ahead of the StartTransaction.
    for (const st of this.recentStates.get(ck) ?? []) if (Date.parse(st.at) > startMs) sess.states.push(st);
    this.active.set(sess.id, sess);
    const previous = this.activeByConnector.get(ck);
    this.activeByConnector.set(ck, sess);
    try {
      await this.store.commit(
        this.store.writes.sessionStart({
          id: sess.id,
          chargerId,
          connectorId: p.connectorId,
          idTag: p.idTag,
          startedAt,
          meterStart: p.meterStart,
          reservationId: p.reservationId ?? null,
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
      this.store.writes.meterValues({ sessionId, chargerId, connectorId: p.connectorId, source: 'MeterValues', receivedAt: wallIso(), rows }),
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
      const row = await this.store.read<{ charger_id: string; state: string; stop_response: string | null; close_reason: string | null }>(
        'sessionById',
        [p.transactionId],
      );
      if (row && row.charger_id === chargerId && row.state === 'completed') {
        if (row.close_reason !== null) return this.lateStop(p, stoppedAt);
        if (row.stop_response) return JSON.parse(row.stop_response) as StopConf; // a repeated stop: one stop, one bill
      }
    }
    // Unknown (or 0 / -1): acknowledge so the charger stops retrying, keep it for reconciliation.
    const conf: StopConf = p.idTag !== undefined ? { idTagInfo: { status: 'Accepted' } } : {};
    await this.store.commit(
      this.store.writes.unmatchedStop({
        chargerId,
        transactionId: p.transactionId,
        idTag: p.idTag ?? null,
        timestamp: stoppedAt,
        meterStop: p.meterStop,
        reason: p.reason ?? DEFAULT_STOP_REASON,
        transactionData: p.transactionData ? JSON.stringify(p.transactionData) : null,
        receivedAt: wallIso(),
      }),
    );
    return conf;
  }

  /**
   * The StopTransaction of a session the back end had closed without one (the charger lost it,
   * then sent the stop after all): matched to it and kept with it, never billed again. The bill
   * stands at the last reading; what the stop says beyond it is there for a correction.
   */
  private async lateStop(p: StopFacts & { timestamp: string }, stoppedAt: string): Promise<StopConf> {
    const conf: StopConf = p.idTag !== undefined ? { idTagInfo: this.authorizeTag(p.idTag, Date.parse(stoppedAt)) } : {};
    const late = { timestamp: stoppedAt, meterStop: p.meterStop, reason: p.reason ?? DEFAULT_STOP_REASON, idTag: p.idTag ?? null, receivedAt: wallIso() };
    await this.store.commit(this.store.writes.sessionLateStop({ id: p.transactionId, lateStop: JSON.stringify(late) }));
    return conf;
  }

  /**
   * Closes a session the charger lost (it rebooted, started another transaction on the connector,
   * or reported the connector Available) at its last reading, flagged `closed-without-stop`, and
   * bills it. The stop register is that reading rounded down to a whole Wh, the resolution of the
   * transaction's own registers, so the energy is a difference of like registers.
   */
  private closeWithoutStop(sess: ActiveSession, why: string): Promise<StopConf> {
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
    const meterStop = last ? new Dec(last.registerWh).floor().toNumber() : sess.meterStart;
    this.opts.log(`session ${sess.id} (charger ${sess.chargerId}, connector ${sess.connectorId}) closed without a stop: ${why}`);
    const stopping = this.doStop(sess, { transactionId: sess.id, meterStop }, new Date(lastMs).toISOString(), why);
    sess.stopping = stopping;
    stopping.catch(() => {
      sess.stopping = null;
    });
    return stopping;
  }

  private async doStop(sess: ActiveSession, p: StopFacts, stoppedAt: string, closedWithoutStop: string | null = null): Promise<StopConf> {
    const s = this.store;
    const ops: Op[] = [];
    const readings = sess.readings.slice();
    if (p.transactionData && p.transactionData.length > 0) {
      ops.push(
        s.writes.meterValues({
          sessionId: sess.id,
          chargerId: sess.chargerId,
          connectorId: sess.connectorId,
          source: 'StopTransaction',
          receivedAt: wallIso(),
          rows: this.meterRows(sess.chargerId, p.transactionData),
        }),
      );
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
    if (closedWithoutStop !== null) bill.flags.unshift('closed-without-stop');
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
      s.writes.sessionStop({
        id: sess.id,
        stoppedAt,
        meterStop: p.meterStop,
        stopReason: closedWithoutStop !== null ? null : (p.reason ?? DEFAULT_STOP_REASON),
        stopIdTag: p.idTag ?? null,
        stopResponse: JSON.stringify(conf),
        energyWh: bill.energyWh,
        chargingSeconds: bill.chargingSeconds,
        parkingSeconds: bill.parkingSeconds,
        flags: JSON.stringify(bill.flags),
        pricingError: bill.pricingError,
        currency: cost?.currency ?? null,
        totalExclVat: cost?.total_cost.excl_vat ?? null,
        totalInclVat: cost?.total_cost.incl_vat ?? null,
        costJson,
        invoiceId: cost ? sess.id : null,
        receivedAt: wallIso(),
      }),
    );
    if (closedWithoutStop !== null) ops.push(s.writes.sessionClosedWithoutStop({ id: sess.id, closeReason: closedWithoutStop }));
    if (cost) {
      const cdr = this.cdrOf(sess, bill.stopAt, bill.periods ?? [], cost);
      if (cdr) ops.push(cdr);
      ops.push(s.writes.costLines({ sessionId: sess.id, lines: JSON.stringify(cost.lines) }));
      ops.push(
        s.writes.invoice({
          id: sess.id,
          year: new Date(Date.parse(stoppedAt)).getUTCFullYear(),
          issuedAt: stoppedAt,
          currency: cost.currency,
          totalExclVat: cost.total_cost.excl_vat,
          totalInclVat: cost.total_cost.incl_vat,
          vatJson: JSON.stringify(vatSummary(cost)),
        }),
      );
    }
    await s.commit(...ops);
    this.active.delete(sess.id);
    this.startsByKey.delete(sess.key);
    const ck = connKey(sess.chargerId, sess.connectorId);
    if (this.activeByConnector.get(ck) === sess) this.activeByConnector.delete(ck);
    return conf;
  }

  /** The CDR insert of a priced session (its id is the session id). */
  private cdrOf(sess: ActiveSession, stopAt: string, periods: ChargingPeriod[], cost: CostBreakdown): Op | null {
    const tariff = sess.tariffVid !== null ? this.publishedTariffVersion(sess.tariffVid) : null;
    if (!tariff) return null;
    const now = wallIso();
    const cdr = buildCdr({
      party: this.party,
      id: String(sess.id),
      sessionId: sess.id,
      startedAt: sess.startedAt,
      stoppedAt: stopAt,
      idTag: sess.idTag,
      authMethod: sess.authMethod,
      location: cdrLocation(sess.locationId ? (this.locations.get(sess.locationId) ?? null) : null, sess.chargerId, sess.connectorId, sess.timeZone),
      tariff,
      periods,
      cost,
      lastUpdated: now,
    });
    const totals = cdrTotals(cdr);
    return this.store.writes.cdr({
      id: cdr.id,
      sessionId: sess.id,
      credit: 0,
      creditReferenceId: null,
      lastUpdated: now,
      currency: cdr.currency,
      totalExclVat: totals.excl,
      totalInclVat: totals.incl,
      json: JSON.stringify(cdr),
    });
  }

  dataTransfer(_chargerId: string, p: DataTransferReq): DataTransferConf {
    return dataTransfer(p);
  }

  activeSessionCount(): number {
    return this.active.size;
  }

  // ---------------------------------------------------------------- read-only views (charger display)

  /** The tariff a session this token started at this charger now would be priced with. */
  tariffFor(chargerId: string, idTag: string, atMs: number): Tariff | null {
    // The connector is not known before the start: connector assignments are not considered.
    return this.chooseTariff(chargerId, 0, this.tokens.get(idTag)?.group ?? null, atMs)?.version.tariff ?? null;
  }

  /** An open session of this charger (by transaction id, else by connector); null once it is stopping. */
  openSession(chargerId: string, ref: { transactionId?: number; connectorId?: number }): OpenSessionView | null {
    const sess =
      ref.transactionId !== undefined
        ? this.active.get(ref.transactionId)
        : ref.connectorId !== undefined && ref.connectorId > 0
          ? this.activeByConnector.get(connKey(chargerId, ref.connectorId))
          : undefined;
    if (!sess || sess.chargerId !== chargerId || sess.stopping) return null;
    const version = sess.tariffVid !== null ? this.tariffVersions.get(sess.tariffVid) : undefined;
    return {
      id: sess.id,
      idTag: sess.idTag,
      startedAt: sess.startedAt,
      meterStart: sess.meterStart,
      readings: sess.readings,
      states: sess.states,
      timeZone: sess.timeZone,
      tariff: version?.tariff ?? null,
    };
  }
}

/** What the charger display needs of an open session; the arrays are live, not copies. */
export interface OpenSessionView {
  id: number;
  idTag: string;
  startedAt: string;
  meterStart: number;
  readings: readonly MeterReading[];
  states: readonly StateChange[];
  timeZone: string;
  tariff: Tariff | null;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

function startKey(chargerId: string, connectorId: number, idTag: string, startedAt: string, meterStart: number): string {
  return `${chargerId}\u0000${connectorId}\u0000${idTag}\u0000${startedAt}\u0000${meterStart}`;
}

function connKey(chargerId: string, connectorId: number): string {
  return `${chargerId}\u0000${connectorId}`;
}
