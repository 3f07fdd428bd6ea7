// Energy registers as chargers report them. A register value is known only to its resolution:
// "380.22" Wh to 0.01 Wh, the integer meterStop of OCPP 1.6 ("380") to 1 Wh. Many chargers send
// decimal readings and round or truncate the integer stop register, so the stop often lies a
// fraction of a Wh below the last reading. Such a fall is rounding, not a meter reset.
//
// The rules, applied to a session's registers in time order (the start register first):
// - A fall smaller than the two values' resolutions together is rounding: the register did not
//   change. A reading that shows more digits than a later register is capped at that register,
//   and one that falls below an earlier register by rounding is raised to it; so the session's
//   energy is a difference of its own start and stop registers, and the readings in between
//   place that energy in time without ever exceeding it.
// - Any other fall is a meter reset: the meter restarted at zero, so the value after the fall is
//   the energy since the reset; what was charged between the last reading before the reset and
//   the reset itself is unknown and not billed.
import { Dec, toDec } from './money.js';
import type { Decimalish } from './ocpi.js';

export interface RegisterValue {
  wh: Dec;
  /** The step of the value as written (0.01 for "380.22", 1 for "380"). */
  resolutionWh: Dec;
}

export interface SettledRegisters {
  /** The registers with every rounding fall removed, in the order given. */
  values: Dec[];
  /** Energy since the first register, Wh, at each register (resets accounted for). */
  energyWh: Dec[];
  /** Indexes of the registers where the meter was reset. */
  resets: number[];
}

const ONE = new Dec(1);
/** 10^-n for the decimal places registers are written with: parsed once, not per reading. */
const STEPS = Array.from({ length: 21 }, (_, n) => new Dec(10).pow(-n));
const step = (places: number): Dec => STEPS[places] ?? new Dec(10).pow(-places);

/** The resolution of a register as written: one unit of its last decimal place (1 Wh for an integer). */
export function resolutionOf(value: Decimalish): Dec {
  const text = typeof value === 'number' ? String(value) : value.trim();
  if (text.includes('e') || text.includes('E')) return step(new Dec(text).decimalPlaces());
  const dot = text.indexOf('.');
  return dot < 0 ? ONE : step(text.length - dot - 1);
}

export function registerValue(value: Decimalish, resolutionWh?: Decimalish): RegisterValue {
  return { wh: toDec(value), resolutionWh: resolutionWh === undefined ? resolutionOf(value) : toDec(resolutionWh) };
}

/** Whether the fall from `higher` to `lower` is within what the two values' rounding explains. */
export function fallIsRounding(higher: RegisterValue, lower: RegisterValue): boolean {
  return higher.wh.minus(lower.wh).lt(higher.resolutionWh.plus(lower.resolutionWh));
}

/** Applies the rules above to a session's registers in time order (the start register first). */
export function settleRegisters(registers: readonly RegisterValue[]): SettledRegisters {
  // Values are immutable: a capped or raised register takes its neighbour's value object.
  const settled = registers.slice();
  // Backwards: a reading that shows more than a later register by rounding is capped at it.
  for (let i = settled.length - 2; i >= 1; i--) {
    const next = settled[i + 1];
    if (settled[i].wh.gt(next.wh) && fallIsRounding(settled[i], next)) settled[i] = next;
  }
  // Forwards: a register below an earlier one by rounding is raised to it.
  for (let i = 1; i < settled.length; i++) {
    const prev = settled[i - 1];
    if (settled[i].wh.lt(prev.wh) && fallIsRounding(prev, settled[i])) settled[i] = prev;
  }
  const values = settled.map((r) => r.wh);
  const energyWh: Dec[] = [];
  const resets: number[] = [];
  values.forEach((v, i) => {
    if (i === 0) return void energyWh.push(new Dec(0));
    const delta = v.minus(values[i - 1]);
    if (delta.lt(0)) {
      resets.push(i);
      energyWh.push(energyWh[i - 1].plus(Dec.max(v, 0)));
    } else energyWh.push(energyWh[i - 1].plus(delta));
  });
  return { values, energyWh, resets };
}
