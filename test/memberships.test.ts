// Memberships: which tokens belong to which customer group, and which tariff prices their sessions.
import { describe, expect, it } from 'vitest';
import { defineScenario, ScenarioError, type ScenarioInput } from '../scenarios/api.js';
import { tariffResolver, tokenGroups } from '../scenarios/memberships.js';
import { tokenIds } from '../scenarios/runner.js';

const tariff = (id: string) => ({ id, currency: 'EUR', elements: [{ price_components: [{ type: 'ENERGY' as const, price: '0.30', step_size: 1 }] }] });
const base: ScenarioInput = {
  name: 'm',
  sim: { start: '2026-03-02T07:00:00Z', speed: 600, durationMinutes: 10 },
  chargers: { count: 1, maxPowerKw: 11 },
  drivers: { arrivalsPerConnectorPerHour: 1, dwellMinutes: [10, 20] },
  tokens: { count: 10, prefix: 'T' },
  tariff: tariff('public'),
};

describe('memberships', () => {
  it('hands out the first ceil(share x count) tokens to each group in turn; the rest are public', () => {
    const scenario = defineScenario({
      ...base,
      memberships: [
        { group: 'a', tokenShare: 0.25, tariff: tariff('ta') },
        { group: 'b', tokenShare: 0.1, tariff: tariff('tb') },
      ],
    });
    const tokens = tokenIds(scenario);
    const groups = tokenGroups(scenario, tokens);
    expect(tokens.map((t) => groups.get(t) ?? '-')).toEqual(['a', 'a', 'a', 'b', '-', '-', '-', '-', '-', '-']);
    const tariffOf = tariffResolver(scenario, tokens);
    expect([
      tariffOf({ idTag: tokens[0] }).id,
      tariffOf({ idTag: tokens[3] }).id,
      tariffOf({ idTag: tokens[9] }).id,
      tariffOf({ idTag: 'UNKNOWN' }).id,
    ]).toEqual(['ta', 'tb', 'public', 'public']);
  });

  it('without memberships every session is priced with the public tariff', () => {
    const scenario = defineScenario(base);
    expect(tariffResolver(scenario, tokenIds(scenario))({ idTag: 'T-00001' }).id).toBe('public');
  });

  it('rejects shares above 1 in total, duplicate groups and a share outside 0..1', () => {
    const bad = (memberships: ScenarioInput['memberships']) => () => defineScenario({ ...base, memberships });
    expect(
      bad([
        { group: 'a', tokenShare: 0.6, tariff: tariff('ta') },
        { group: 'b', tokenShare: 0.6, tariff: tariff('tb') },
      ]),
    ).toThrow(/add up to more than 1/);
    expect(
      bad([
        { group: 'a', tokenShare: 0.1, tariff: tariff('ta') },
        { group: 'a', tokenShare: 0.1, tariff: tariff('tb') },
      ]),
    ).toThrow(/own group name/);
    expect(bad([{ group: 'a', tokenShare: 1.5, tariff: tariff('ta') }])).toThrow(ScenarioError);
  });
});
