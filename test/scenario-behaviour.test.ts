// The scenario's chargers.behaviour section: checked with messages that name the field and the
// fix, and passed on to the fleet as FleetConfig.chargerBehaviour.
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../scenarios/api.js';
import { fleetConfigFor } from '../scenarios/runner.js';

const base = {
  name: 'behaviour-check',
  sim: { start: '2026-03-02T08:00:00Z', speed: 60, durationMinutes: 60 },
  chargers: { count: 2, maxPowerKw: 11 },
  tariff: { id: 't', currency: 'EUR', elements: [] },
  drivers: { arrivalsPerConnectorPerHour: 1, dwellMinutes: [10, 20] },
};
const withBehaviour = (behaviour: unknown) => ({ ...base, chargers: { ...base.chargers, behaviour } });
const problems = (behaviour: unknown): string => {
  try {
    parseScenario(withBehaviour(behaviour), 'test');
    return '';
  } catch (err) {
    return (err as Error).message;
  }
};

describe('scenario chargers.behaviour', () => {
  it('accepts every field and passes them on to the fleet', () => {
    const behaviour = {
      registerDecimals: 2,
      statusTimestamps: false,
      crashesPerChargerPerHour: 0.5,
      crashAtMinutes: [0, 20.5, 59],
      crashShare: 0.3,
      crashRebootSec: 120,
    };
    expect(problems(behaviour)).toBe('');
    const scenario = parseScenario(withBehaviour(behaviour), 'test');
    expect(fleetConfigFor(scenario, 'ws://127.0.0.1:1/ocpp').chargerBehaviour).toEqual(behaviour);
    expect(problems({})).toBe('');
    expect(problems({ registerDecimals: 0 })).toBe('');
    // Absent: the fleet's own behaviour, and nothing in the fleet configuration.
    expect('chargerBehaviour' in fleetConfigFor(parseScenario(base, 'test'), 'ws://127.0.0.1:1/ocpp')).toBe(false);
  });

  it('rejects a bad value with a message naming chargers.behaviour.<field> and the fix', () => {
    expect(problems({ registerDecimals: 4 })).toMatch(/chargers\.behaviour\.registerDecimals: must be 0\.\.3/);
    expect(problems({ registerDecimals: -1 })).toMatch(/chargers\.behaviour\.registerDecimals: must be 0\.\.3/);
    expect(problems({ registerDecimals: 1.5 })).toMatch(/chargers\.behaviour\.registerDecimals: write a whole number of decimals, 0\.\.3/);
    expect(problems({ registerDecimals: '2' })).toMatch(
      /chargers\.behaviour\.registerDecimals: give the decimals of the register readings, a whole number 0\.\.3/,
    );
    expect(problems({ statusTimestamps: 'no' })).toMatch(/chargers\.behaviour\.statusTimestamps: write true \(the default\) or false/);
    expect(problems({ crashesPerChargerPerHour: -1 })).toMatch(/chargers\.behaviour\.crashesPerChargerPerHour: must be >= 0/);
    expect(problems({ crashAtMinutes: 20 })).toMatch(/chargers\.behaviour\.crashAtMinutes: give simulated minutes after sim\.start as a list/);
    expect(problems({ crashAtMinutes: [10, -5] })).toMatch(/chargers\.behaviour\.crashAtMinutes\.1: must be >= 0/);
    expect(problems({ crashAtMinutes: [10, 60] })).toMatch(
      /chargers\.behaviour\.crashAtMinutes\.1: minute 60 is not before the end of arrivals \(sim\.durationMinutes = 60\).*lengthen sim\.durationMinutes/,
    );
    expect(problems({ crashShare: 1.5 })).toMatch(/chargers\.behaviour\.crashShare: must be 0\.\.1/);
    expect(problems({ crashRebootSec: 1.5 })).toMatch(/chargers\.behaviour\.crashRebootSec: write a whole number of simulated seconds/);
    expect(problems({ crashRebootSec: -60 })).toMatch(/chargers\.behaviour\.crashRebootSec: must be >= 0/);
    expect(problems({ registerDecimal: 2 })).toMatch(/chargers\.behaviour: .*registerDecimal.*check the spelling/);
  });
});
