// EV battery and meter physics, exact and deterministic.
//
// Rules (the billing oracle relies on them):
// - every event is on a whole simulated second; times here are integer epoch seconds;
// - power is constant within an interval, chosen in integer watts at the interval's start;
// - energy is integer joules (W x s); the register is a lifetime register in joules and the
//   wire shows floor(J / 3600) Wh;
// - intervals end at the periodic sample grid (anchored at the session start) or, when the
//   target SoC is reached inside an interval, at the whole second where it is reached (ceil);
//   from then on the EV is parked (0 W) until the session stops.

import type { ChargeState } from './types.js';

export interface EvSpec {
  capacityWh: number;
  initialSocPct: number;
  targetSocPct: number;
  /** On-board charger limit, W. */
  maxPowerW: number;
}

/** SoC (percent) below which the EV takes full power; above it power falls linearly to 0 at 100 %. */
export const TAPER_START_PCT = 80;

/** Charging power (integer W) at battery energy socJ: full power to 80 %, then linear taper. */
export function chargePowerW(socJ: number, capacityJ: number, maxW: number): number {
  if (maxW <= 0) return 0;
  const taperStartJ = Math.floor((capacityJ * TAPER_START_PCT) / 100);
  if (socJ < taperStartJ) return maxW;
  const remainingJ = Math.max(0, capacityJ - socJ);
  // maxW * remaining / (20 % of capacity), in integers: maxW * remaining * 100 / (capacity * (100 - 80)).
  const tapered = Math.floor((maxW * remainingJ * 100) / (capacityJ * (100 - TAPER_START_PCT)));
  const floorW = Math.max(1, Math.floor(maxW / 20));
  return Math.min(maxW, Math.max(tapered, floorW));
}

/** One closed stretch of constant power. */
export interface MeterInterval {
  fromSec: number;
  toSec: number;
  state: ChargeState;
  powerW: number;
  startRegisterJ: number;
  endRegisterJ: number;
}

export function whOf(joules: number): number {
  return Math.floor(joules / 3600);
}

/**
 * The register in Wh as text with `decimals` decimals (0..3), truncated (never rounded) from the
 * exact joules in integer arithmetic: 0 gives whOf's number. E.g. 1,368,792 J with 2 decimals:
 * floor(1,368,792 / 36) = 38,022 hundredths, "380.22".
 */
export function whTextOf(joules: number, decimals: number): string {
  const wh = Math.floor(joules / 3600);
  if (decimals <= 0) return String(wh);
  // The part below a whole Wh, in units of 10^-decimals Wh: (J mod 3600) x 10^decimals / 3600, at most 3.6e6 / 3600.
  const fraction = Math.floor(((joules - wh * 3600) * 10 ** decimals) / 3600);
  return `${wh}.${String(fraction).padStart(decimals, '0')}`;
}

/** The meter and battery of one connector during one transaction. */
export class SessionMeter {
  readonly capacityJ: number;
  readonly targetJ: number;
  readonly maxW: number;
  readonly startSec: number;
  readonly startRegisterJ: number;
  socJ: number;
  registerJ: number;
  /** The open interval. */
  intervalStartSec: number;
  powerW = 0;
  state: ChargeState = 'charging';
  nextPeriodicSec: number;
  sampleIntervalSec: number;
  readonly intervals: MeterInterval[] = [];
  finished = false;

  constructor(ev: EvSpec, evseMaxW: number, registerJ: number, startSec: number, sampleIntervalSec: number) {
    if (!Number.isInteger(startSec)) throw new Error('SessionMeter: start must be a whole second');
    if (!Number.isSafeInteger(registerJ) || registerJ < 0) throw new Error('SessionMeter: register must be a non-negative integer (J)');
    const capWh = Math.max(1, Math.round(ev.capacityWh));
    this.capacityJ = capWh * 3600;
    // capWh * 3600 * pct / 100 = capWh * 36 * pct: exact for integer percents.
    this.socJ = capWh * 36 * clampPct(ev.initialSocPct);
    this.targetJ = capWh * 36 * clampPct(ev.targetSocPct);
    this.maxW = Math.max(0, Math.floor(Math.min(ev.maxPowerW, evseMaxW)));
    this.registerJ = registerJ;
    this.startRegisterJ = registerJ;
    this.startSec = startSec;
    this.intervalStartSec = startSec;
    this.sampleIntervalSec = Math.max(1, Math.floor(sampleIntervalSec));
    this.nextPeriodicSec = startSec + this.sampleIntervalSec;
    this.openInterval();
  }

  /** The next instant the meter must sample: the periodic grid or where the target SoC is reached. */
  nextBoundarySec(): number {
    if (this.state === 'charging' && this.powerW > 0) {
      const cut = this.intervalStartSec + Math.ceil((this.targetJ - this.socJ) / this.powerW);
      return Math.min(cut, this.nextPeriodicSec);
    }
    return this.nextPeriodicSec;
  }

  /** Closes the open interval at `sec` (must be the next boundary) and opens the next one. Returns true if the state changed. */
  advanceTo(sec: number): boolean {
    const expected = this.nextBoundarySec();
    if (sec !== expected) throw new Error(`SessionMeter.advanceTo(${sec}): next boundary is ${expected}`);
    const before = this.state;
    this.closeAt(sec);
    if (sec === this.nextPeriodicSec) this.nextPeriodicSec += this.sampleIntervalSec;
    this.intervalStartSec = sec;
    this.openInterval();
    return this.state !== before;
  }

  /** Register (J) at `sec` inside the open interval. */
  registerAt(sec: number): number {
    return this.registerJ + this.powerW * Math.max(0, sec - this.intervalStartSec);
  }

  socPctAt(sec: number): number {
    const soc = this.socJ + this.powerW * Math.max(0, sec - this.intervalStartSec);
    return Math.min(100, Math.floor((soc * 100) / this.capacityJ));
  }

  /** Sample grid change (MeterValueSampleInterval): takes effect after the next periodic sample. */
  setSampleInterval(sec: number): void {
    this.sampleIntervalSec = Math.max(1, Math.floor(sec));
  }

  /** Stops at `sec` (>= the open interval's start, <= the next boundary): closes the open interval. */
  finish(sec: number): void {
    if (this.finished) return;
    if (sec < this.intervalStartSec || sec > this.nextBoundarySec())
      throw new Error(`SessionMeter.finish(${sec}) outside the open interval [${this.intervalStartSec}, ${this.nextBoundarySec()}]`);
    this.closeAt(sec);
    this.intervalStartSec = sec;
    this.powerW = 0;
    this.finished = true;
  }

  get chargingSeconds(): number {
    let s = 0;
    for (const iv of this.intervals) if (iv.state === 'charging') s += iv.toSec - iv.fromSec;
    return s;
  }

  get parkingSeconds(): number {
    let s = 0;
    for (const iv of this.intervals) if (iv.state === 'parking') s += iv.toSec - iv.fromSec;
    return s;
  }

  private openInterval(): void {
    if (this.socJ >= this.targetJ || this.maxW === 0) {
      this.state = 'parking';
      this.powerW = 0;
    } else {
      this.state = 'charging';
      this.powerW = chargePowerW(this.socJ, this.capacityJ, this.maxW);
    }
  }

  private closeAt(sec: number): void {
    const len = sec - this.intervalStartSec;
    if (len <= 0) return;
    const energyJ = this.powerW * len;
    const startRegisterJ = this.registerJ;
    this.registerJ += energyJ;
    this.socJ += energyJ;
    this.intervals.push({
      fromSec: this.intervalStartSec,
      toSec: sec,
      state: this.state,
      powerW: this.powerW,
      startRegisterJ,
      endRegisterJ: this.registerJ,
    });
  }
}

function clampPct(p: number): number {
  return Math.min(100, Math.max(0, Math.round(p)));
}
