// Customer groups (memberships): which tokens belong to which group, and which tariff prices a
// session of a given token. The back end learns the same facts at provisioning (tokens with a
// group, a group tariff assignment), so both sides must derive them from here alike.
import type { Tariff } from '../backend/billing/ocpi.js';
import type { TruthSession } from '../sim/types.js';
import type { Scenario } from './api.js';

/** idTag -> group, handing tokens out in order: ceil(share x count) to each group in turn. */
export function tokenGroups(scenario: Scenario, tokens: string[]): Map<string, string> {
  const groups = new Map<string, string>();
  let next = 0;
  for (const membership of scenario.memberships ?? []) {
    const take = Math.ceil(membership.tokenShare * tokens.length);
    for (const idTag of tokens.slice(next, next + take)) groups.set(idTag, membership.group);
    next += take;
  }
  return groups;
}

/** The tariff that applies to a session: its token's group tariff, else the public one. */
export function tariffResolver(scenario: Scenario, tokens: string[]): (session: Pick<TruthSession, 'idTag'>) => Tariff {
  const groups = tokenGroups(scenario, tokens);
  const tariffOfGroup = new Map((scenario.memberships ?? []).map((m) => [m.group, m.tariff]));
  return (session) => {
    const group = groups.get(session.idTag);
    return (group === undefined ? undefined : tariffOfGroup.get(group)) ?? scenario.tariff;
  };
}
