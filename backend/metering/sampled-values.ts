// OCPP 1.6 sampled values, the form meter_values keeps every reading in: defaults, unit
// normalisation, and what billing needs from them. Shared by the 1.6 handlers (live messages),
// the store (readings of open sessions at start-up) and CDR corrections (a session read back).
import { Dec } from '../billing/money.js';
import type { MeterReading } from '../billing/periods.js';
import { isCanonicalUtc } from '../billing/local-time.js';
import { resolutionOf } from '../billing/registers.js';

export interface SampledValue16 {
  value: string;
  context?: string;
  format?: string;
  measurand?: string;
  phase?: string;
  location?: string;
  unit?: string;
}

export interface MeterValue16 {
  timestamp: string;
  sampledValue: SampledValue16[];
}

const DEFAULT_MEASURAND = 'Energy.Active.Import.Register';

/** Energy values (Wh / kWh / no unit = Wh) as an exact decimal string of Wh; null if not energy or not a number. */
export function energyWh(sv: SampledValue16): string | null {
  const measurand = sv.measurand ?? DEFAULT_MEASURAND;
  if (!measurand.startsWith('Energy.Active.')) return null;
  if (sv.format === 'SignedData') return null;
  const unit = sv.unit ?? 'Wh';
  if (unit !== 'Wh' && unit !== 'kWh') return null;
  const d = toDecimal(sv.value);
  if (d === null) return null;
  return unit === 'kWh' ? d.times(1000).toString() : d.toString();
}

/**
 * The resolution of an energy value in Wh when its Wh text does not show it (billing/registers.ts):
 * a kWh value ("12.3" kWh is known to 100 Wh) or a Wh value written with trailing zeros ("380.20").
 */
function registerResolutionWh(sv: SampledValue16, wh: string): string | null {
  const written = sv.value.trim();
  const kWh = sv.unit === 'kWh';
  if (!kWh && written === wh) return null;
  const resolution = resolutionOf(written);
  return (kWh ? resolution.times(1000) : resolution).toString();
}

function toDecimal(value: string): Dec | null {
  const t = value.trim();
  if (t === '' || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return null;
  try {
    return new Dec(t);
  } catch {
    return null;
  }
}

/** Power in W (W or kW), null if not a number or another unit. */
function powerW(sv: SampledValue16): Dec | null {
  const unit = sv.unit ?? 'W';
  if (unit !== 'W' && unit !== 'kW') return null;
  const d = toDecimal(sv.value);
  if (d === null) return null;
  return unit === 'kW' ? d.times(1000) : d;
}

function currentA(sv: SampledValue16): Dec | null {
  const unit = sv.unit ?? 'A';
  if (unit !== 'A') return null;
  return toDecimal(sv.value);
}

const PHASES = new Set(['L1', 'L2', 'L3', 'L1-N', 'L2-N', 'L3-N']);

/** Sum a per-phase quantity: a phase-less sample is the total; otherwise add the line phases. */
function total(values: Array<{ phase?: string; v: Dec }>): string | undefined {
  if (values.length === 0) return undefined;
  const whole = values.find((x) => x.phase === undefined);
  if (whole) return whole.v.toString();
  let sum = new Dec(0);
  let any = false;
  for (const x of values) {
    if (x.phase && PHASES.has(x.phase)) {
      sum = sum.plus(x.v);
      any = true;
    }
  }
  return any ? sum.toString() : undefined;
}

/**
 * The reading billing uses from one MeterValue (one timestamp): the active import register
 * in Wh plus instantaneous power and current when sampled. Null without a register.
 */
export function readingOf(mv: MeterValue16, at: string): MeterReading | null {
  let register: string | null = null;
  let registerSv: SampledValue16 | null = null;
  const powers: Array<{ phase?: string; v: Dec }> = [];
  const currents: Array<{ phase?: string; v: Dec }> = [];
  for (const sv of mv.sampledValue) {
    const measurand = sv.measurand ?? DEFAULT_MEASURAND;
    if (measurand === 'Energy.Active.Import.Register') {
      // Prefer the phase-less (total) register when a charger also sends per-phase ones.
      if (register === null || sv.phase === undefined) {
        const wh = energyWh(sv);
        if (wh !== null && (register === null || sv.phase === undefined)) {
          register = wh;
          registerSv = sv;
        }
      }
    } else if (measurand === 'Power.Active.Import') {
      const p = powerW(sv);
      if (p !== null) powers.push({ phase: sv.phase, v: p });
    } else if (measurand === 'Current.Import') {
      const c = currentA(sv);
      if (c !== null) currents.push({ phase: sv.phase, v: c });
    }
  }
  if (register === null) return null;
  const r: MeterReading = { at, registerWh: register };
  const resolution = registerResolutionWh(registerSv!, register);
  if (resolution !== null) r.resolutionWh = resolution;
  const p = total(powers);
  if (p !== undefined) r.powerW = p;
  const c = total(currents);
  if (c !== undefined) r.currentA = c;
  return r;
}

/** Parse an OCPP timestamp to a UTC ISO string with milliseconds; null if unparseable. */
export function isoUtc(ts: string): string | null {
  // Chargers (and the simulator) mostly send this very form: a valid one is its own answer.
  if (isCanonicalUtc(ts)) return ts;
  const ms = Date.parse(ts);
  if (Number.isNaN(ms)) return null;
  return new Date(ms).toISOString();
}
