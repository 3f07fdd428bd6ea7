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

// Tariff numbers (prices, VAT rates, limits) are the same few values session after session.
// Decimals are immutable, so one parsed instance per text can be shared; the cache is dropped
// when it grows past a bound, so unusual inputs cannot make it grow without end.
const TARIFF_DECIMALS_LIMIT = 4096;
const tariffDecimals = new Map<Decimalish, Dec>();

/** `toDec` for values that repeat across sessions (tariff numbers): same result, same errors. */
export function tariffDec(value: Decimalish): Dec {
  let parsed = tariffDecimals.get(value);
  if (parsed === undefined) {
    parsed = toDec(value); // throws for what is not a decimal, and then nothing is cached
    if (tariffDecimals.size >= TARIFF_DECIMALS_LIMIT) tariffDecimals.clear();
    tariffDecimals.set(value, parsed);
  }
  return parsed;
}

/** Digits after the decimal point for ISO 4217 currencies; everything not listed has 2. */
const MINOR_UNIT_EXCEPTIONS: Record<string, number> = {
  BIF: 0,
  CLP: 0,
  DJF: 0,
  GNF: 0,
  ISK: 0,
  JPY: 0,
  KMF: 0,
  KRW: 0,
  PYG: 0,
  RWF: 0,
  UGX: 0,
  UYI: 0,
  VND: 0,
  VUV: 0,
  XAF: 0,
  XOF: 0,
  XPF: 0,
  BHD: 3,
  IQD: 3,
  JOD: 3,
  KWD: 3,
  LYD: 3,
  OMR: 3,
  TND: 3,
  CLF: 4,
  UYW: 4,
};

export function currencyMinorUnits(currency: string): number {
  return MINOR_UNIT_EXCEPTIONS[currency.toUpperCase()] ?? 2;
}

/**
 * `amount.toFixed(places, ROUND_HALF_UP)`. When the amount has no more decimals than that, there
 * is nothing to round and the text is its plain form padded with zeros (much cheaper).
 */
function fixedHalfUp(amount: Dec, places: number): string {
  const decimals = amount.decimalPlaces(); // NaN for NaN and infinities: the general path
  if (!(decimals <= places)) return amount.toFixed(places, Dec.ROUND_HALF_UP);
  const text = amount.toFixed();
  if (decimals === places) return text;
  return `${decimals === 0 ? `${text}.` : text}${'0'.repeat(places - decimals)}`;
}

/** Round half-up to the currency's minor unit, e.g. "5.63" for EUR, "563" for JPY. */
export function roundToMinorUnit(amount: Dec, currency: string): string {
  return fixedHalfUp(amount, currencyMinorUnits(currency));
}

/** Subtotals are reported unrounded to 4 decimals (OCPI price precision), half-up. */
export function fourDecimals(amount: Dec): string {
  return fixedHalfUp(amount, 4);
}

/** A quantity for display: at most `places` decimals, no trailing zeros ("2.5", "0.0166666667"). */
export function plainDecimal(amount: Dec, places = 10): string {
  // Nothing to round (the common case): the plain text as it is.
  if (amount.decimalPlaces() <= places) return amount.toFixed();
  return amount.toDecimalPlaces(places, Dec.ROUND_HALF_UP).toFixed();
}

const TEN_POWERS = Array.from({ length: 64 }, (_, n) => 10n ** BigInt(n));

/**
 * `dividend.div(divisor).toFixed(places, ROUND_HALF_UP)` for a positive whole `divisor`, in exact
 * integer arithmetic when the dividend is short: at most 50 digits counting its integer digits,
 * its D decimals and `places`. The exact quotient is then either a halfway point itself (and
 * `div` gets it exactly) or at least 1 / (2 x 10^places x divisor x 10^D) away from every one,
 * which is more than the rounding of `div` to 60 significant digits can move it (by at most
 * quotient x 10^-59). Rounding the exact quotient so gives the same text as rounding `div`'s.
 */
export function quotientFixed(dividend: Dec, divisor: number, places: number): string {
  const decimals = dividend.decimalPlaces(); // NaN for NaN and infinities
  if (decimals >= 0 && Math.max(0, dividend.e + 1) + decimals + places <= 50 && Number.isSafeInteger(divisor) && divisor > 0) {
    const text = dividend.toFixed(); // plain digits, exactly `decimals` of them after the point
    const negative = text.charCodeAt(0) === 45; /* - */
    const numerator = BigInt((negative ? text.slice(1) : text).replace('.', '')) * TEN_POWERS[places];
    const denominator = BigInt(divisor) * TEN_POWERS[decimals];
    let quotient = numerator / denominator;
    if ((numerator - quotient * denominator) * 2n >= denominator) quotient += 1n; // half-up (away from zero)
    let digits = quotient.toString();
    if (places > 0) {
      digits = digits.padStart(places + 1, '0');
      digits = `${digits.slice(0, -places)}.${digits.slice(-places)}`;
    }
    return negative && !dividend.isZero() ? `-${digits}` : digits;
  }
  return fixedHalfUp(dividend.div(divisor), places);
}

const MS_PER_HOUR = 3_600_000;

/**
 * `plainDecimal(new Dec(ms).div(3_600_000))` for a whole, non-negative number of milliseconds
 * (hours with at most 10 decimals), in exact integer arithmetic instead of decimals. A quotient
 * of whole milliseconds by 3,600,000 is never exactly halfway between two 10-decimal values, and
 * the 60 digits `div` keeps are far more than the rounding to 10 decimals can notice.
 */
export function plainHours(ms: number): string {
  if (!(Number.isSafeInteger(ms) && ms >= 0)) return plainDecimal(new Dec(ms).div(MS_PER_HOUR));
  const remainder = ms % MS_PER_HOUR;
  let whole = (ms - remainder) / MS_PER_HOUR;
  if (remainder === 0) return String(whole);
  // The fraction in units of 1e-10 h: remainder * 1e10 / 3.6e6 = remainder * 1e5 / 36 (< 2^53).
  const scaled = remainder * 100_000;
  const rest = scaled % 36;
  let fraction = (scaled - rest) / 36 + (rest * 2 >= 36 ? 1 : 0);
  if (fraction === 10_000_000_000) {
    whole += 1;
    fraction = 0;
  }
  if (fraction === 0) return String(whole);
  let digits = String(fraction).padStart(10, '0');
  let end = digits.length;
  while (digits.charCodeAt(end - 1) === 48) end--;
  digits = digits.slice(0, end);
  return `${whole}.${digits}`;
}

/** Round `quantity` up to the next multiple of `step` (step 0 = no rounding). */
export function roundUpToStep(quantity: Dec, step: Dec): Dec {
  if (step.isZero()) return quantity;
  return quantity.div(step).ceil().mul(step);
}
