// What the back end billed per tariff dimension over a whole run (excl. VAT), so a report shows
// which parts of a tariff a scenario actually exercised (e.g. parking fees were charged).
import { Decimal } from 'decimal.js';
import type { BilledSession } from './backend-client.js';

export type BilledDimensionName = 'ENERGY' | 'TIME' | 'PARKING_TIME' | 'FLAT';
const NAMES: readonly BilledDimensionName[] = ['ENERGY', 'TIME', 'PARKING_TIME', 'FLAT'];

export interface DimensionSum {
  /** Sum over sessions of the billed amount excl. VAT, to 4 decimals (subtotals are unrounded). */
  exclVat: string;
  /** Sum of the billed quantities: kWh for ENERGY, hours for TIME and PARKING_TIME, fees for FLAT. */
  quantity: string;
  /** Sessions with a non-zero amount in this dimension. */
  sessions: number;
}

export function billedByDimension(billed: BilledSession[]): Record<BilledDimensionName, DimensionSum> {
  const sums = Object.fromEntries(NAMES.map((name) => [name, { total: new Decimal(0), quantity: new Decimal(0), sessions: 0 }])) as Record<
    BilledDimensionName,
    { total: Decimal; quantity: Decimal; sessions: number }
  >;
  for (const session of billed) {
    for (const name of NAMES) {
      const dimension = session.cost?.dimensions?.[name];
      if (dimension === undefined || new Decimal(dimension.exclVat).isZero()) continue;
      sums[name].total = sums[name].total.plus(dimension.exclVat);
      sums[name].quantity = sums[name].quantity.plus(dimension.quantity);
      sums[name].sessions++;
    }
  }
  return Object.fromEntries(
    NAMES.map((name) => [name, { exclVat: sums[name].total.toFixed(4), quantity: sums[name].quantity.toFixed(), sessions: sums[name].sessions }]),
  ) as Record<BilledDimensionName, DimensionSum>;
}
