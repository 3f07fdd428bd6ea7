// What a charger display shows of a session's cost, whatever message carries it: the running
// cost of an open session priced as if it stopped at its latest reading, and the final cost of
// a completed one.
import { Decimal } from 'decimal.js';
import type { Tariff } from '../billing/ocpi.js';
import type { OpenSessionView } from '../core/csms.js';
import { billSession } from '../core/session-billing.js';
import { displayMoney, headlineComponents, latestUnitPrice, priceInclVat } from './price-text.js';

/** A completed session as the store keeps it (the columns the final cost needs). */
export interface CompletedSessionRow {
  state: string;
  currency: string | null;
  total_incl_vat: string | null;
  invoice_id: number | null;
  energy_wh: number | null;
  charging_seconds: number | null;
  parking_seconds: number | null;
}

export interface RunningCost {
  /** The instant priced (UTC ISO). */
  at: string;
  /** The register then, in whole Wh. */
  meterWh: number;
  totalInclVat: string;
  /** Charging (else parked) at that instant. */
  charging: boolean;
  /** Unit prices incl. VAT now in force: the latest billed, else the tariff's headline price. */
  unitPrice: Record<'ENERGY' | 'TIME' | 'PARKING_TIME' | 'FLAT', Decimal>;
  /** The tariff prices parking at all. */
  parkingPriced: boolean;
}

/** An open session priced as if it stopped at an instant (null if it cannot be priced). */
export function runningCost(open: OpenSessionView, tariff: Tariff, atMs: number): RunningCost | null {
  const at = new Date(atMs).toISOString();
  let register: Decimal | null = null;
  let registerAtMs = -Infinity;
  for (const r of open.readings) {
    const t = Date.parse(r.at);
    if (t <= atMs && t >= registerAtMs) {
      registerAtMs = t;
      register = new Decimal(r.registerWh);
    }
  }
  const meterWh = register === null ? open.meterStart : Math.round(register.toNumber());
  const bill = billSession({
    startedAt: open.startedAt,
    stoppedAt: at,
    meterStartWh: open.meterStart,
    meterStopWh: meterWh,
    readings: open.readings.slice(),
    states: open.states.slice(),
    timeZone: open.timeZone,
    tariff,
  });
  if (!bill.cost) return null;
  let charging = true;
  let stateAtMs = -Infinity;
  for (const s of open.states) {
    const t = Date.parse(s.at);
    if (t <= atMs && t >= stateAtMs) {
      stateAtMs = t;
      charging = s.charging;
    }
  }
  const head = headlineComponents(tariff);
  const lines = bill.cost.lines;
  const unit = (dim: 'ENERGY' | 'TIME' | 'PARKING_TIME' | 'FLAT'): Decimal => {
    const fromLines = latestUnitPrice(lines, dim);
    if (fromLines) return fromLines;
    const pc = head[dim];
    return pc ? priceInclVat(pc.price, pc.vat) : new Decimal(0);
  };
  return {
    at,
    meterWh,
    totalInclVat: bill.cost.total_cost.incl_vat,
    charging,
    unitPrice: { ENERGY: unit('ENERGY'), TIME: unit('TIME'), PARKING_TIME: unit('PARKING_TIME'), FLAT: unit('FLAT') },
    parkingPriced: head.PARKING_TIME !== undefined || latestUnitPrice(lines, 'PARKING_TIME') !== null,
  };
}

/** A completed session's total and its text (null when it was not billed). */
export function finalCost(row: CompletedSessionRow): { totalInclVat: string; text: string } | null {
  if (row.state !== 'completed' || row.total_incl_vat === null || row.currency === null) return null;
  const minutes = Math.round(((row.charging_seconds ?? 0) + (row.parking_seconds ?? 0)) / 60);
  const kWh = new Decimal(row.energy_wh ?? 0).div(1000).toFixed(3);
  const total = new Decimal(row.total_incl_vat);
  return { totalInclVat: row.total_incl_vat, text: `${displayMoney(total, row.currency)} incl. VAT for ${kWh} kWh, ${minutes} min` };
}
