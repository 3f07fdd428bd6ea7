// The opt-in behaviours of FleetConfig.chargerBehaviour, checked once per fleet configuration.

import type { ChargerBehaviour } from './types.js';

export interface ResolvedBehaviour {
  registerDecimals: number;
  statusTimestamps: boolean;
}

const resolved = new WeakMap<ChargerBehaviour, ResolvedBehaviour>();
const FLEET_OWN: ResolvedBehaviour = Object.freeze({ registerDecimals: 0, statusTimestamps: true });

/** The behaviour with its defaults; throws on a value out of range (the scenario schema says the same earlier). */
export function resolveBehaviour(b: ChargerBehaviour | undefined): ResolvedBehaviour {
  if (!b) return FLEET_OWN;
  const known = resolved.get(b);
  if (known) return known;
  const bad = (field: string, rule: string): never => {
    throw new Error(`chargerBehaviour.${field}: ${rule}`);
  };
  const registerDecimals = b.registerDecimals ?? 0;
  if (!Number.isInteger(registerDecimals) || registerDecimals < 0 || registerDecimals > 3) bad('registerDecimals', 'must be a whole number 0..3');
  const r: ResolvedBehaviour = { registerDecimals, statusTimestamps: b.statusTimestamps !== false };
  resolved.set(b, r);
  return r;
}
