// The opt-in behaviours of FleetConfig.chargerBehaviour, checked once per fleet configuration,
// and the crash instants they plan for one charger.

import { Rng } from './prng.js';
import type { ChargerBehaviour } from './types.js';

export interface ResolvedBehaviour {
  registerDecimals: number;
  statusTimestamps: boolean;
  crashesPerChargerPerHour: number;
  crashAtMinutes: readonly number[];
  crashShare: number;
  crashRebootSec: number;
}

export const DEFAULT_CRASH_REBOOT_SEC = 60;

const resolved = new WeakMap<ChargerBehaviour, ResolvedBehaviour>();
const FLEET_OWN: ResolvedBehaviour = Object.freeze({
  registerDecimals: 0,
  statusTimestamps: true,
  crashesPerChargerPerHour: 0,
  crashAtMinutes: Object.freeze([]),
  crashShare: 1,
  crashRebootSec: DEFAULT_CRASH_REBOOT_SEC,
});

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
  const crashesPerChargerPerHour = b.crashesPerChargerPerHour ?? 0;
  if (!Number.isFinite(crashesPerChargerPerHour) || crashesPerChargerPerHour < 0) bad('crashesPerChargerPerHour', 'must be a number >= 0');
  const crashAtMinutes = b.crashAtMinutes ?? [];
  if (!crashAtMinutes.every((m) => Number.isFinite(m) && m >= 0)) bad('crashAtMinutes', 'must be simulated minutes >= 0');
  const crashShare = b.crashShare ?? 1;
  if (!(crashShare >= 0 && crashShare <= 1)) bad('crashShare', 'must be a share 0..1');
  const crashRebootSec = b.crashRebootSec ?? DEFAULT_CRASH_REBOOT_SEC;
  if (!Number.isInteger(crashRebootSec) || crashRebootSec < 0) bad('crashRebootSec', 'must be a whole number of simulated seconds >= 0');
  const r: ResolvedBehaviour = {
    registerDecimals,
    statusTimestamps: b.statusTimestamps !== false,
    crashesPerChargerPerHour,
    crashAtMinutes: [...crashAtMinutes],
    crashShare,
    crashRebootSec,
  };
  resolved.set(b, r);
  return r;
}

/**
 * The instants of crashAtMinutes at which this charger crashes (whole sim seconds, ascending,
 * strictly before `endSec`): each instant with probability crashShare, a draw of its own from the
 * seed, the charger id and the instant's place in the list, so it depends neither on the other
 * chargers nor on how the fleet is split over workers or shards.
 */
export function plannedCrashSecs(b: ResolvedBehaviour, seed: number, chargerId: string, startSimMs: number, endSec: number): number[] {
  const secs: number[] = [];
  b.crashAtMinutes.forEach((minutes, i) => {
    const sec = Math.ceil((startSimMs + Math.round(minutes * 60_000)) / 1000);
    if (sec >= endSec) return;
    if (b.crashShare < 1 && !(Rng.derive(seed, chargerId, 'crashAt', i).next() < b.crashShare)) return;
    secs.push(sec);
  });
  return [...new Set(secs)].sort((a, b2) => a - b2);
}
