// Which tariff applies to a session: assignments per customer group, connector, charger,
// location and a default. The most specific assignment whose tariff has a version valid at
// the session start wins; a group's tariff overrides the public ones.

export type AssignmentScope = 'default' | 'location' | 'charger' | 'connector' | 'group';

/** Most specific first. */
export const SCOPE_PRECEDENCE: readonly AssignmentScope[] = ['group', 'connector', 'charger', 'location', 'default'];

export interface TariffAssignment {
  scope: AssignmentScope;
  tariffId: string;
  locationId?: string;
  chargerId?: string;
  connectorId?: number;
  group?: string;
}

/** Scopes kept in the tariff_assignments table (the charger's own and the default live elsewhere). */
export type TableScope = 'location' | 'connector' | 'group';

export interface AssignmentContext {
  group: string | null;
  chargerId: string;
  connectorId: number;
  chargerTariffId: string | null;
  locationId: string | null;
  defaultTariffId: string | null;
}

export interface TariffCandidate {
  scope: AssignmentScope;
  tariffId: string;
}

/** Charger ids never contain "/", so "chargerId/connectorId" is unambiguous. */
export const connectorTarget = (chargerId: string, connectorId: number): string => `${chargerId}/${connectorId}`;

export class TariffAssignments {
  private readonly byScope: Record<TableScope, Map<string, string>> = {
    location: new Map(),
    connector: new Map(),
    group: new Map(),
  };

  set(scope: TableScope, target: string, tariffId: string | null): void {
    if (tariffId === null) this.byScope[scope].delete(target);
    else this.byScope[scope].set(target, tariffId);
  }

  /** Tariff ids to try for a session, most specific first. */
  candidates(ctx: AssignmentContext): TariffCandidate[] {
    const out: TariffCandidate[] = [];
    const add = (scope: AssignmentScope, tariffId: string | null | undefined): void => {
      if (tariffId) out.push({ scope, tariffId });
    };
    if (ctx.group !== null) add('group', this.byScope.group.get(ctx.group));
    add('connector', this.byScope.connector.get(connectorTarget(ctx.chargerId, ctx.connectorId)));
    add('charger', ctx.chargerTariffId);
    if (ctx.locationId !== null) add('location', this.byScope.location.get(ctx.locationId));
    add('default', ctx.defaultTariffId);
    return out;
  }

  /** The table-kept assignments, for listing. */
  list(): TariffAssignment[] {
    const out: TariffAssignment[] = [];
    for (const [locationId, tariffId] of this.byScope.location) out.push({ scope: 'location', tariffId, locationId });
    for (const [target, tariffId] of this.byScope.connector) {
      const cut = target.lastIndexOf('/');
      out.push({ scope: 'connector', tariffId, chargerId: target.slice(0, cut), connectorId: Number(target.slice(cut + 1)) });
    }
    for (const [group, tariffId] of this.byScope.group) out.push({ scope: 'group', tariffId, group });
    return out;
  }
}
