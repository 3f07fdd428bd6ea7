// Reconcile one session: what the oracle expects vs what a back end billed, named by dimension.
import { Decimal } from 'decimal.js';
import { minorUnitDigits } from './currency.js';
import type { OracleBill } from './price.js';

export type BilledDimension = 'ENERGY' | 'TIME' | 'PARKING_TIME' | 'FLAT';

export interface DimensionDiff {
  dimension: BilledDimension | 'TOTAL_EXCL_VAT' | 'TOTAL_INCL_VAT' | 'ENERGY_WH';
  expected: string;
  billed: string;
}

export interface BilledAmounts {
  totalExclVat: string;
  totalInclVat: string;
  energyWh: number;
  dimensions?: Partial<Record<BilledDimension, { exclVat: string }>>;
}

const DIMENSIONS: readonly BilledDimension[] = ['ENERGY', 'TIME', 'PARKING_TIME', 'FLAT'];

/** A back end's amount as a decimal, or null when it is not a finite number (itself a mismatch). */
function asDecimal(amount: unknown): Decimal | null {
  try {
    const d = new Decimal(amount as Decimal.Value);
    return d.isFinite() ? d : null;
  } catch {
    return null;
  }
}

/**
 * Compare the oracle's bill with what a back end billed and say exactly which dimension differs.
 * Totals must be equal as numbers; per-dimension amounts (excl. VAT) are compared after
 * rounding both half-up to the currency's minor unit, since subtotals are unrounded;
 * a dimension the back end did not report is not compared.
 */
export function diffBills(expected: OracleBill, billed: BilledAmounts): DimensionDiff[] {
  const diffs: DimensionDiff[] = [];
  const places = minorUnitDigits(expected.currency);
  const atMinorUnit = (amount: string) => new Decimal(amount).toDecimalPlaces(places, Decimal.ROUND_HALF_UP);

  for (const dimension of DIMENSIONS) {
    const billedAmount = billed.dimensions?.[dimension]?.exclVat;
    if (billedAmount === undefined) continue;
    const want = atMinorUnit(expected.dimensions[dimension].exclVat);
    const got = asDecimal(billedAmount);
    if (got === null) diffs.push({ dimension, expected: want.toFixed(places), billed: String(billedAmount) });
    else if (!want.equals(atMinorUnit(billedAmount)))
      diffs.push({ dimension, expected: want.toFixed(places), billed: atMinorUnit(billedAmount).toFixed(places) });
  }
  const totals = [
    ['TOTAL_EXCL_VAT', expected.totalExclVat, billed.totalExclVat],
    ['TOTAL_INCL_VAT', expected.totalInclVat, billed.totalInclVat],
  ] as const;
  for (const [dimension, want, got] of totals) {
    const billedTotal = asDecimal(got);
    if (billedTotal === null || !new Decimal(want).equals(billedTotal)) diffs.push({ dimension, expected: want, billed: String(got) });
  }
  if (expected.energyWh !== billed.energyWh) {
    diffs.push({ dimension: 'ENERGY_WH', expected: String(expected.energyWh), billed: String(billed.energyWh) });
  }
  return diffs;
}
