// STUB: being written. Signatures are the contract.
import type { ChargingPeriod, Decimalish } from './ocpi.js';

export interface MeterReading {
  at: string; // ISO instant (sim time, from the message)
  registerWh: Decimalish; // Energy.Active.Import.Register normalised to Wh
  powerW?: Decimalish; // Power.Active.Import at that instant, if sampled
  currentA?: Decimalish; // Current.Import summed over phases, if sampled
}

export interface StateChange {
  at: string;
  /** true while energy flows or is requested (TIME); false while plugged in without charging (PARKING_TIME). */
  charging: boolean;
}

export interface PeriodInput {
  startAt: string;
  stopAt: string;
  readings: MeterReading[]; // including the start and stop registers
  states: StateChange[]; // the first applies from startAt
}

/** Build OCPI charging periods from what the charger reported. */
export function buildChargingPeriods(input: PeriodInput): ChargingPeriod[] {
  throw new Error(`not implemented: buildChargingPeriods(${input.startAt})`);
}
