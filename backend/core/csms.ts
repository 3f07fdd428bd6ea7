// The reference CSMS core, protocol-neutral: the registry of chargers, tokens and locations,
// authorization, tariffs, the session lifecycle and settlement, in memory for the hot path and
// committed as units of work. This facade is what the protocol handlers (backend/ocpp/), the
// HTTP API, OCPI, CDR corrections and the cost display use; the parts live next to it.
import type { Tariff } from '../billing/ocpi.js';
import type { MeterReading, StateChange } from '../billing/periods.js';
import { DEFAULT_PARTY, type LocationRec, type OcpiParty } from '../cdrs/cdr.js';
import { readStartupState } from '../store/state-reads.js';
import type { Store } from '../store/store.js';
import { Authorizer, type Authorization, type UnknownTokenPolicy } from './authorization.js';
import { ChargerClocks, wallIso } from './clock.js';
import { Registry, type BootFacts, type ChargerRec, type TokenRec } from './registry.js';
import { Sessions, type ConnectorStatusReport, type MeterBatch, type StartRequest, type StartResult, type StopRequest } from './sessions.js';
import { Settlement } from './settlement.js';
import type { TariffAssignment } from './tariff-assignments.js';
import { Tariffs } from './tariffs.js';

export type { Authorization } from './authorization.js';
export type { BootFacts, ChargerRec, TokenRec, TokenStatus } from './registry.js';
export type { ConnectorStatusReport, MeterBatch, StartRequest, StartResult, StopRequest } from './sessions.js';

export interface CsmsOptions {
  unknownTagPolicy: UnknownTokenPolicy;
  heartbeatIntervalSec: number;
  log: (line: string) => void;
  /** OCPI owner of CDRs and tariffs (default NL / CBX). */
  party?: OcpiParty;
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

export class Csms {
  readonly party: OcpiParty;
  private readonly registry: Registry;
  private readonly tariffs: Tariffs;
  private readonly authorizer: Authorizer;
  private readonly sessions: Sessions;
  /** Each charger's clock as seen in its messages. */
  readonly clocks = new ChargerClocks();

  private constructor(
    store: Store,
    readonly opts: CsmsOptions,
  ) {
    this.party = opts.party ?? DEFAULT_PARTY;
    this.registry = new Registry(store, opts.log);
    this.tariffs = new Tariffs(store, this.registry, this.party);
    this.authorizer = new Authorizer(this.registry.tokens, opts.unknownTagPolicy);
    const settlement = new Settlement(store, this.tariffs, this.registry, this.party, opts.log);
    this.sessions = new Sessions(store, this.registry, this.tariffs, this.authorizer, settlement, opts.log);
  }

  static async create(store: Store, opts: CsmsOptions): Promise<Csms> {
    const c = new Csms(store, opts);
    const state = await readStartupState(store);
    c.registry.load(state);
    c.tariffs.load(state);
    c.sessions.load(state);
    return c;
  }

  get chargers(): Map<string, ChargerRec> {
    return this.registry.chargers;
  }

  get tokens(): Map<string, TokenRec> {
    return this.registry.tokens;
  }

  get locations(): Map<string, LocationRec> {
    return this.registry.locations;
  }

  // ---------------------------------------------------------------- what chargers report (via backend/ocpp/)

  /** Make sure a charger that talks to us has a row (its boot registers it properly). */
  ensureCharger(chargerId: string): void {
    this.registry.ensureCharger(chargerId);
  }

  /** A charger booted: the sessions it still had open are lost (`lostWhy`), then the boot is recorded. Resolves to the boot instant. */
  async chargerBooted(chargerId: string, boot: BootFacts, lostWhy: string): Promise<string> {
    const now = wallIso();
    this.registry.knowBooted(chargerId);
    await this.sessions.closeAllOf(chargerId, lostWhy);
    await this.registry.recordBoot(chargerId, boot, now);
    return now;
  }

  /** A charger said it is alive. Resolves to the instant recorded. */
  async chargerAlive(chargerId: string): Promise<string> {
    const now = wallIso();
    await this.registry.recordHeartbeat(chargerId, now);
    return now;
  }

  authorize(token: string, atMs: number): Authorization {
    return this.authorizer.authorize(token, atMs);
  }

  startSession(chargerId: string, req: StartRequest, openWhy: () => string): Promise<StartResult> {
    return this.sessions.start(chargerId, req, openWhy);
  }

  recordReadings(chargerId: string, ref: { sessionId?: number; connectorId: number }, batch: () => MeterBatch): Promise<void> {
    return this.sessions.recordReadings(chargerId, ref, batch);
  }

  connectorStatus(chargerId: string, report: ConnectorStatusReport): Promise<void> {
    return this.sessions.connectorStatus(chargerId, report);
  }

  stopSession(chargerId: string, req: StopRequest): Promise<unknown> {
    return this.sessions.stop(chargerId, req);
  }

  activeSessionCount(): number {
    return this.sessions.count;
  }

  /** A charger's current time as best known (see ChargerClocks.nowFor). */
  nowFor(chargerId: string): number {
    return this.clocks.nowFor(chargerId);
  }

  // ---------------------------------------------------------------- tariffs

  publishedTariffVersionAt(tariffId: string, atMs: number): { vid: number; tariff: Tariff } | null {
    return this.tariffs.publishedVersionAt(tariffId, atMs);
  }

  publishedTariffVersion(vid: number): Tariff | null {
    return this.tariffs.publishedVersion(vid);
  }

  hasTariff(id: string): boolean {
    return this.tariffs.has(id);
  }

  currentTariffs(): Tariff[] {
    return this.tariffs.current();
  }

  getDefaultTariffId(): string | null {
    return this.tariffs.defaultId();
  }

  putTariff(tariff: Tariff, makeDefault: boolean): Promise<{ version: number; isDefault: boolean }> {
    return this.tariffs.put(tariff, makeDefault);
  }

  /** Assign a tariff (null removes the assignment). The caller has checked that targets and tariff exist. */
  putTariffAssignment(a: Omit<TariffAssignment, 'tariffId'> & { tariffId: string | null }): Promise<void> {
    return this.tariffs.putAssignment(a);
  }

  /** Every assignment in force, most specific scope first. */
  tariffAssignments(): TariffAssignment[] {
    return this.tariffs.list();
  }

  // ---------------------------------------------------------------- admin writes

  putTokens(tokens: TokenRec[]): Promise<void> {
    return this.registry.putTokens(tokens);
  }

  putChargers(chargers: ChargerRec[]): Promise<void> {
    return this.registry.putChargers(chargers);
  }

  putLocation(loc: LocationRec): Promise<void> {
    return this.registry.putLocation(loc);
  }

  // ---------------------------------------------------------------- read-only views (charger display)

  /** The tariff a session this token started at this charger now would be priced with. */
  tariffFor(chargerId: string, idTag: string, atMs: number): Tariff | null {
    // The connector is not known before the start: connector assignments are not considered.
    return this.tariffs.choose(chargerId, 0, this.registry.tokens.get(idTag)?.group ?? null, atMs)?.version.tariff ?? null;
  }

  /** An open session of this charger (by transaction id, else by connector); null once it is stopping. */
  openSession(chargerId: string, ref: { transactionId?: number; connectorId?: number }): OpenSessionView | null {
    const sess = this.sessions.open(chargerId, { sessionId: ref.transactionId, connectorId: ref.connectorId });
    if (!sess) return null;
    return {
      id: sess.id,
      idTag: sess.token,
      startedAt: sess.startedAt,
      meterStart: sess.meterStart,
      readings: sess.readings,
      states: sess.states,
      timeZone: sess.timeZone,
      tariff: this.tariffs.version(sess.tariffVid)?.tariff ?? null,
    };
  }
}
