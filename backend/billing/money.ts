// Exact decimal arithmetic for money and energy. Every amount the billing code computes goes
// through `Dec`, a decimal.js clone of its own, so that nothing else in the process can change
// its precision or rounding mode.
import { Decimal } from 'decimal.js';
import type { Decimalish } from './ocpi.js';

/**
 * 60 significant digits: every product and sum the engine forms (kWh x price x 3.6e6, ms with
 * interpolation fractions) stays exact, so the only roundings are the ones the rules ask for.
 */
export const Dec = Decimal.clone({ precision: 60, rounding: Decimal.ROUND_HALF_UP, toExpNeg: -100, toExpPos: 100 });
export type Dec = Decimal;

const DECIMAL_TEXT = /^-?\d+(\.\d+)?$/;

/** True for a finite JSON number or a plain decimal string ("12", "0.25"); no exponents, no blanks. */
export function isDecimalish(value: unknown): value is Decimalish {
  if (typeof value === 'number') return Number.isFinite(value);
  return typeof value === 'string' && DECIMAL_TEXT.test(value);
}

/**
 * A JSON number is taken by its shortest decimal text (0.1 -> "0.1"), which is what the author
 * wrote; its binary float value is never used in arithmetic.
 */
export function toDec(value: Decimalish): Dec {
  if (!isDecimalish(value)) throw new TypeError(`not a decimal number: ${String(value)}`);
  return new Dec(typeof value === 'number' ? String(value) : value);
}

/** Digits after the decimal point for ISO 4217 currencies; everything not listed has 2. */
const MINOR_UNIT_EXCEPTIONS: Record<string, number> = {
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0,
  UYI: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
  CLF: 4, UYW: 4,
};

export function currencyMinorUnits(currency: string): number {
  return MINOR_UNIT_EXCEPTIONS[currency.toUpperCase()] ?? 2;
}

/** Round half-up to the currency's minor unit, e.g. "5.63" for EUR, "563" for JPY. */
export function roundToMinorUnit(amount: Dec, currency: string): string {
  return amount.toFixed(currencyMinorUnits(currency), Dec.ROUND_HALF_UP);
}

/** Subtotals are reported unrounded to 4 decimals (OCPI price precision), half-up. */
export function fourDecimals(amount: Dec): string {
  return amount.toFixed(4, Dec.ROUND_HALF_UP);
}

/** A quantity for display: at most `places` decimals, no trailing zeros ("2.5", "0.0166666667"). */
export function plainDecimal(amount: Dec, places = 10): string {
  return amount.toDecimalPlaces(places, Dec.ROUND_HALF_UP).toFixed();
}

/** Round `quantity` up to the next multiple of `step` (step 0 = no rounding). */
export function roundUpToStep(quantity: Dec, step: Dec): Dec {
  if (step.isZero()) return quantity;
  return quantity.div(step).ceil().mul(step);
}
