// The one place the back end's core meets the billing engine (backend/billing/).
// Given what a charger reported during a session, build the PeriodInput, call
// buildChargingPeriods and priceSession, and return what the store keeps. Pure and
// synchronous: it runs while the stop's unit of work is being assembled.
import { Dec } from '../billing/money.js';
import { buildChargingPeriods, type MeterReading, type StateChange } from '../billing/periods.js';
import { fallIsRounding, registerValue, resolutionOf, settleRegisters, type RegisterValue } from '../billing/registers.js';
import { priceSession } from '../billing/pricing.js';
import type { ChargingPeriod, CostBreakdown, Tariff } from '../billing/ocpi.js';

export interface SessionFacts {
  startedAt: string; // UTC ISO
  stoppedAt: string; // UTC ISO
  meterStartWh: number;
  meterStopWh: number;
  /** Energy.Active.Import.Register readings reported during the session (any order). */
  readings: MeterReading[];
  /** Connector status changes reported during the session (any order), already mapped. */
  states: StateChange[];
  timeZone: string;
  tariff: Tariff | null;
}

export interface SessionBill {
  energyWh: number;
  chargingSeconds: number;
  parkingSeconds: number;
  flags: string[];
  cost: CostBreakdown | null;
  pricingError: string | null;
  /** The stop instant billed (the start when the stop came before it). */
  stopAt: string;
  /** The OCPI charging periods that were priced (null when not priced); the CDR publishes them. */
  periods: ChargingPeriod[] | null;
}

const ms = (iso: string): number => Date.parse(iso);

export function billSession(f: SessionFacts): SessionBill {
  const flags: string[] = [];
  const startMs = ms(f.startedAt);
  let stopAt = f.stoppedAt;
  if (ms(stopAt) < startMs) {
    flags.push('stop-before-start');
    stopAt = f.startedAt;
  }
  const stopMs = ms(stopAt);

  // Register readings inside [start, stop], in time order, settled by the register rules of
  // billing/registers.ts (a fall that rounding explains is no change, any other is a meter reset).
  // Each instant is parsed once (sorting by parsing in the comparator parsed it again and again).
  const inside = f.readings
    .map((r) => ({ r, t: ms(r.at) }))
    .filter(({ t }) => t >= startMs && t <= stopMs)
    .sort((a, b) => a.t - b.t);
  const readings: MeterReading[] = [{ at: f.startedAt, registerWh: String(f.meterStartWh) }];
  const registers: RegisterValue[] = [registerValue(f.meterStartWh)];
  for (const { r, t } of inside) {
    if (t === stopMs) continue; // the stop register below stands for the stop instant
    if (t === startMs) {
      // A Transaction.Begin sample at the start instant: meterStart stays the start register.
      readings[0] = { at: r.at, registerWh: String(f.meterStartWh) };
      if (r.powerW !== undefined) readings[0].powerW = r.powerW;
      if (r.currentA !== undefined) readings[0].currentA = r.currentA;
      continue;
    }
    const wh = new Dec(r.registerWh);
    const register: RegisterValue = { wh, resolutionWh: r.resolutionWh !== undefined ? new Dec(r.resolutionWh) : resolutionOf(r.registerWh) };
    const copy: MeterReading = { at: r.at, registerWh: wh.toString() };
    // The resolution travels with the value when the plain text no longer shows it ("380.20").
    if (r.resolutionWh !== undefined || copy.registerWh !== String(r.registerWh)) copy.resolutionWh = register.resolutionWh.toString();
    if (r.powerW !== undefined) copy.powerW = r.powerW;
    if (r.currentA !== undefined) copy.currentA = r.currentA;
    readings.push(copy);
    registers.push(register);
  }
  // The stop register. A lost one (below 0, or a 0 that is not a genuine reading of a meter that
  // stood at 0) is replaced by the last reading, so no energy is invented after it.
  const stop = registerValue(f.meterStopWh);
  const lastBefore = registers[registers.length - 1];
  const stopLost = f.meterStopWh < 0 || (f.meterStopWh === 0 && lastBefore.wh.gt(0) && !fallIsRounding(lastBefore, stop));
  if (stopLost) flags.push('missing-stop-reading');
  else registers.push(stop);
  const settled = settleRegisters(registers);
  if (settled.resets.length > 0) flags.push('meter-reset');
  const stopReg = settled.values[settled.values.length - 1];
  readings.push({ at: stopAt, registerWh: stopReg.toString() });
  const energyWh = Math.max(0, Math.round(settled.energyWh[settled.energyWh.length - 1].toNumber()));

  // Charging / parking timeline: starts charging unless a status at the start instant says
  // otherwise (an EV already full reports SuspendedEV with the start's timestamp); a change
  // applies from its instant, and of several at one instant the last received wins.
  const timeline: StateChange[] = [{ at: f.startedAt, charging: true }];
  const timelineMs: number[] = [startMs];
  const changes = f.states
    .map((s) => ({ s, t: ms(s.at) }))
    .filter(({ t }) => t >= startMs && t < stopMs)
    .sort((a, b) => a.t - b.t);
  for (const { s, t } of changes) {
    const last = timeline[timeline.length - 1];
    if (t === timelineMs[timelineMs.length - 1]) timeline[timeline.length - 1] = { at: last.at, charging: s.charging };
    else {
      timeline.push({ at: s.at, charging: s.charging });
      timelineMs.push(t);
    }
  }
  const states: StateChange[] = [];
  const statesMs: number[] = [];
  timeline.forEach((s, i) => {
    if (i > 0 && s.charging === timeline[i - 1].charging) return;
    states.push(s);
    statesMs.push(timelineMs[i]);
  });
  let chargingMs = 0;
  let parkingMs = 0;
  for (let i = 0; i < states.length; i++) {
    const from = statesMs[i];
    const to = i + 1 < states.length ? statesMs[i + 1] : stopMs;
    if (states[i].charging) chargingMs += to - from;
    else parkingMs += to - from;
  }

  const bill: SessionBill = {
    energyWh,
    chargingSeconds: Math.round(chargingMs / 1000),
    parkingSeconds: Math.round(parkingMs / 1000),
    flags,
    cost: null,
    pricingError: null,
    stopAt,
    periods: null,
  };
  if (!f.tariff) {
    flags.push('no-tariff');
    return bill;
  }
  try {
    const periods = buildChargingPeriods({ startAt: f.startedAt, stopAt, readings, states });
    bill.periods = periods;
    bill.cost = priceSession(f.tariff, {
      start_date_time: f.startedAt,
      end_date_time: stopAt,
      time_zone: f.timeZone,
      charging_periods: periods,
    });
  } catch (err) {
    flags.push('pricing-failed');
    bill.pricingError = err instanceof Error ? err.message : String(err);
  }
  return bill;
}

/** Prices already built charging periods again with another tariff (CDR corrections). */
export function repriceSession(tariff: Tariff, s: { startedAt: string; stoppedAt: string; timeZone: string; periods: ChargingPeriod[] }): CostBreakdown {
  return priceSession(tariff, {
    start_date_time: s.startedAt,
    end_date_time: s.stoppedAt,
    time_zone: s.timeZone,
    charging_periods: s.periods,
  });
}

export interface VatLine {
  rate: string | null;
  base: string;
  amount: string;
}

/** VAT summary of an invoice: per VAT rate, the sum of line bases and of VAT (4 decimals, unrounded). */
export function vatSummary(cost: CostBreakdown): VatLine[] {
  const byRate = new Map<string, { base: Dec; amount: Dec; rate: string | null }>();
  for (const l of cost.lines) {
    const key = l.vat ?? 'none';
    let e = byRate.get(key);
    if (!e) {
      e = { base: new Dec(0), amount: new Dec(0), rate: l.vat };
      byRate.set(key, e);
    }
    e.base = e.base.plus(l.excl_vat);
    e.amount = e.amount.plus(new Dec(l.incl_vat).minus(l.excl_vat));
  }
  return [...byRate.values()].map((e) => ({ rate: e.rate, base: e.base.toFixed(4), amount: e.amount.toFixed(4) }));
}

export interface CostDimension {
  quantity: string;
  exclVat: string;
  inclVat: string;
}

/** Per-dimension totals from the breakdown, so a reconciler can say which dimension differs. */
export function costDimensions(cost: Omit<CostBreakdown, 'lines'>, flatCount: number): Record<'ENERGY' | 'TIME' | 'PARKING_TIME' | 'FLAT', CostDimension> {
  return {
    ENERGY: { quantity: cost.total_energy, exclVat: cost.total_energy_cost.excl_vat, inclVat: cost.total_energy_cost.incl_vat },
    TIME: { quantity: cost.total_time, exclVat: cost.total_time_cost.excl_vat, inclVat: cost.total_time_cost.incl_vat },
    PARKING_TIME: {
      quantity: cost.total_parking_time,
      exclVat: cost.total_parking_cost.excl_vat,
      inclVat: cost.total_parking_cost.incl_vat,
    },
    FLAT: { quantity: String(flatCount), exclVat: cost.total_fixed_cost.excl_vat, inclVat: cost.total_fixed_cost.incl_vat },
  };
}
