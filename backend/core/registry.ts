// What the back end knows of its chargers, tokens and locations: in memory for the hot path,
// loaded at start-up, written through to the store by the admin API.
import type { LocationRec } from '../cdrs/cdr.js';
import type { StartupState } from '../store/state-reads.js';
import type { Store } from '../store/store.js';
import { wallIso } from './clock.js';

export type TokenStatus = 'Accepted' | 'Blocked' | 'Expired' | 'Invalid';

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

/** A charger's own description of itself at boot. */
export interface BootFacts {
  vendor: string;
  model: string;
  serialNumber: string | null;
  firmwareVersion: string | null;
}

/** A charger the back end has only seen talk: one connector, UTC, no tariff or location of its own. */
const unconfigured = (id: string): ChargerRec => ({ id, connectors: 1, timeZone: 'UTC', tariffId: null, locationId: null });

export class Registry {
  readonly chargers = new Map<string, ChargerRec>();
  readonly tokens = new Map<string, TokenRec>();
  readonly locations = new Map<string, LocationRec>();

  constructor(
    private readonly store: Store,
    private readonly log: (line: string) => void,
  ) {}

  load(state: StartupState): void {
    for (const c of state.chargers) this.chargers.set(c.id, c);
    for (const t of state.tokens) this.tokens.set(t.idTag, { ...t, status: t.status as TokenStatus });
    for (const l of state.locations) {
      this.locations.set(l.id, { id: l.id, name: l.name, timeZone: l.timeZone, address: l.addressJson === null ? null : JSON.parse(l.addressJson) });
    }
  }

  /** Make sure a charger that talks to us has a row (its boot registers it properly). */
  ensureCharger(chargerId: string): void {
    if (this.chargers.has(chargerId)) return;
    this.chargers.set(chargerId, unconfigured(chargerId));
    this.store.commit(this.store.writes.chargerEnsure({ id: chargerId, createdAt: wallIso() })).catch((err: Error) => {
      this.log(`charger ${chargerId}: could not register: ${err.message}`);
    });
  }

  /** A charger that booted is known from then on (its row is written with the boot). */
  knowBooted(chargerId: string): void {
    if (!this.chargers.has(chargerId)) this.chargers.set(chargerId, unconfigured(chargerId));
  }

  async recordBoot(chargerId: string, boot: BootFacts, at: string): Promise<void> {
    await this.store.commit(this.store.writes.chargerBoot({ id: chargerId, ...boot, bootedAt: at }));
  }

  async recordHeartbeat(chargerId: string, at: string): Promise<void> {
    await this.store.commit(this.store.writes.chargerHeartbeat({ id: chargerId, at }));
  }

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
        this.store.writes.chargerAdmin({
          id: c.id,
          connectors: c.connectors,
          timeZone: c.timeZone,
          tariffId: c.tariffId,
          createdAt: now,
          locationId: c.locationId,
        }),
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
}
