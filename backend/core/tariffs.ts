// Tariffs: every version ever posted (versions never change; a new one with the same validity
// supersedes the old), their assignments, the choice of a session's tariff, and the OCPI
// published form CDRs embed.
import type { Tariff } from '../billing/ocpi.js';
import { tariffValidAt } from '../billing/pricing.js';
import { publishedTariff, type OcpiParty } from '../cdrs/cdr.js';
import type { StartupState } from '../store/state-reads.js';
import type { Store } from '../store/store.js';
import type { Op } from '../store/write-queue.js';
import { wallIso } from './clock.js';
import type { Registry } from './registry.js';
import { connectorTarget, TariffAssignments, type AssignmentScope, type TableScope, type TariffAssignment } from './tariff-assignments.js';

export interface TariffVersion {
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
export interface TariffChoice {
  version: TariffVersion;
  scope: AssignmentScope;
}

export class Tariffs {
  private readonly versions = new Map<number, TariffVersion>();
  private readonly byId = new Map<string, TariffVersion[]>();
  private defaultTariffId: string | null = null;
  private nextVid = 1;
  private readonly assignments = new TariffAssignments();

  constructor(
    private readonly store: Store,
    private readonly registry: Registry,
    private readonly party: OcpiParty,
  ) {}

  load(state: StartupState): void {
    for (const r of state.tariffs) this.addVersion(r.vid, JSON.parse(r.json) as Tariff, r.superseded, r.lastUpdated);
    for (const a of state.assignments) this.assignments.set(a.scope as TableScope, a.target, a.tariffId);
    this.defaultTariffId = state.defaultTariffId;
  }

  private addVersion(vid: number, tariff: Tariff, superseded: boolean, lastUpdated: string): TariffVersion {
    const v: TariffVersion = {
      vid,
      id: tariff.id,
      validFrom: tariff.start_date_time ? Date.parse(tariff.start_date_time) : -Infinity,
      validTo: tariff.end_date_time ? Date.parse(tariff.end_date_time) : Infinity,
      superseded,
      tariff,
      lastUpdated,
    };
    this.versions.set(vid, v);
    let list = this.byId.get(tariff.id);
    if (!list) this.byId.set(tariff.id, (list = []));
    if (!superseded) {
      for (const o of list) {
        if (!o.superseded && o.validFrom === v.validFrom && o.validTo === v.validTo) o.superseded = true;
      }
    }
    list.push(v);
    if (vid >= this.nextVid) this.nextVid = vid + 1;
    return v;
  }

  version(vid: number | null): TariffVersion | undefined {
    return vid !== null ? this.versions.get(vid) : undefined;
  }

  /**
   * The session's tariff: the most specific assignment (group > connector > charger > location
   * > default) whose tariff has a version valid at the start; among versions, the one valid then.
   */
  choose(chargerId: string, connectorId: number, group: string | null, atMs: number): TariffChoice | null {
    const charger = this.registry.chargers.get(chargerId);
    const candidates = this.assignments.candidates({
      group,
      chargerId,
      connectorId,
      chargerTariffId: charger?.tariffId ?? null,
      locationId: charger?.locationId ?? null,
      defaultTariffId: this.defaultTariffId,
    });
    for (const c of candidates) {
      const version = this.versionAt(c.tariffId, atMs);
      if (version) return { version, scope: c.scope };
    }
    return null;
  }

  /** The version of a tariff valid at an instant (OCPI validity, see tariffValidAt). */
  private versionAt(tariffId: string, atMs: number): TariffVersion | null {
    const live = (this.byId.get(tariffId) ?? []).filter((v) => !v.superseded && atMs >= v.validFrom && atMs < v.validTo);
    if (live.length <= 1) return live[0] ?? null;
    const chosen = tariffValidAt(
      live.map((v) => v.tariff),
      new Date(atMs).toISOString(),
    );
    return live.find((v) => v.tariff === chosen) ?? null;
  }

  /** A tariff version in its OCPI published form, for CDRs (null if unknown). */
  publishedVersionAt(tariffId: string, atMs: number): { vid: number; tariff: Tariff } | null {
    const v = this.versionAt(tariffId, atMs);
    return v ? { vid: v.vid, tariff: this.published(v) } : null;
  }

  publishedVersion(vid: number): Tariff | null {
    const v = this.versions.get(vid);
    return v ? this.published(v) : null;
  }

  /** Versions never change, so each is put in its published form once (every CDR embeds it); frozen, as it is shared. */
  private published(v: TariffVersion): Tariff {
    return (v.published ??= deepFreeze(publishedTariff(v.tariff, this.party, v.lastUpdated)));
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  current(): Tariff[] {
    const out: Tariff[] = [];
    for (const list of this.byId.values()) for (const v of list) if (!v.superseded) out.push(v.tariff);
    return out;
  }

  defaultId(): string | null {
    return this.defaultTariffId;
  }

  async put(tariff: Tariff, makeDefault: boolean): Promise<{ version: number; isDefault: boolean }> {
    const vid = this.nextVid++;
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
    this.addVersion(vid, tariff, false, lastUpdated);
    if (becomesDefault) this.defaultTariffId = tariff.id;
    return { version: vid, isDefault: this.defaultTariffId === tariff.id };
  }

  /** Assign a tariff (null removes the assignment). The caller has checked that targets and tariff exist. */
  async putAssignment(a: Omit<TariffAssignment, 'tariffId'> & { tariffId: string | null }): Promise<void> {
    const s = this.store;
    const now = wallIso();
    switch (a.scope) {
      case 'default':
        await s.commit(
          a.tariffId === null ? s.writes.settingDelete({ key: 'default_tariff_id' }) : s.writes.setting({ key: 'default_tariff_id', value: a.tariffId }),
        );
        this.defaultTariffId = a.tariffId;
        return;
      case 'charger': {
        const chargers = this.registry.chargers;
        const charger = chargers.get(a.chargerId!)!;
        await s.commit(s.writes.chargerTariff({ id: charger.id, tariffId: a.tariffId }));
        chargers.set(charger.id, { ...charger, tariffId: a.tariffId });
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
  list(): TariffAssignment[] {
    const out = this.assignments.list();
    for (const c of this.registry.chargers.values()) if (c.tariffId !== null) out.push({ scope: 'charger', tariffId: c.tariffId, chargerId: c.id });
    if (this.defaultTariffId !== null) out.push({ scope: 'default', tariffId: this.defaultTariffId });
    const rank = (a: TariffAssignment): number => ['group', 'connector', 'charger', 'location', 'default'].indexOf(a.scope);
    return out.sort((a, b) => rank(a) - rank(b));
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
