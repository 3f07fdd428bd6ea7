// What a charger display shows of a tariff: unit prices incl. VAT and a short human text.
// OCPI prices are excl. VAT; a driver is shown what they pay, so VAT is added here
// (4 decimals, half-up: the OCPI price precision).
import { Dec, currencyMinorUnits, toDec } from '../billing/money.js';
import type { CostLine, PriceComponent, Tariff, TariffDimensionType } from '../billing/ocpi.js';

const SYMBOLS: Record<string, string> = { EUR: '€', USD: '$', GBP: '£', JPY: '¥', INR: '₹' };

/** A unit price incl. VAT; absent VAT means none applies, so the price is what is paid. */
export function priceInclVat(price: Dec | string | number, vat: string | number | null | undefined): Dec {
  const p = price instanceof Dec ? price : toDec(price);
  const withVat = vat === null || vat === undefined ? p : p.times(toDec(vat).plus(100)).div(100);
  return withVat.toDecimalPlaces(4, Dec.ROUND_HALF_UP);
}

/** At least the currency's decimals, at most 4: "0.50", "0.4641", "0.595". */
export function displayAmount(amount: Dec, currency: string): string {
  const four = amount.toDecimalPlaces(4, Dec.ROUND_HALF_UP);
  return four.toFixed(Math.max(currencyMinorUnits(currency), four.decimalPlaces()));
}

export function displayMoney(amount: Dec, currency: string): string {
  const symbol = SYMBOLS[currency.toUpperCase()];
  return symbol ? `${symbol}${displayAmount(amount, currency)}` : `${displayAmount(amount, currency)} ${currency}`;
}

export type HeadlineComponents = Partial<Record<TariffDimensionType, PriceComponent>>;

/**
 * Per dimension, the component a session meets first in element order, preferring elements
 * without restrictions (the everyday price rather than a night or high-power price).
 */
export function headlineComponents(tariff: Tariff): HeadlineComponents {
  const out: HeadlineComponents = {};
  const ordered = [...tariff.elements.filter((e) => !e.restrictions), ...tariff.elements.filter((e) => e.restrictions)];
  for (const el of ordered) for (const pc of el.price_components) out[pc.type] ??= pc;
  return out;
}

/** Tariff versions are immutable once stored, so their text is worked out once. */
const textOf = new WeakMap<Tariff, string>();

/** The text shown after authorization, e.g. "€0.4641/kWh, €0.0357/min, €0.595 per session, incl. 19 % VAT". */
export function tariffPriceText(tariff: Tariff): string {
  let text = textOf.get(tariff);
  if (text === undefined) textOf.set(tariff, (text = composePriceText(tariff)));
  return text;
}

function composePriceText(tariff: Tariff): string {
  const alt = tariff.tariff_alt_text;
  if (alt && alt.length > 0) return (alt.find((t) => t.language.toLowerCase().startsWith('en')) ?? alt[0]).text;
  const cur = tariff.currency;
  const h = headlineComponents(tariff);
  const parts: string[] = [];
  const vats = new Set<string>();
  const add = (pc: PriceComponent | undefined, render: (incl: Dec) => string): void => {
    if (!pc || toDec(pc.price).isZero()) return;
    parts.push(render(priceInclVat(pc.price, pc.vat)));
    vats.add(pc.vat === undefined ? 'none' : toDec(pc.vat).toString());
  };
  add(h.ENERGY, (p) => `${displayMoney(p, cur)}/kWh`);
  add(h.TIME, (p) => `${displayMoney(p.div(60), cur)}/min`);
  add(h.PARKING_TIME, (p) => `${displayMoney(p.div(60), cur)}/min idle`);
  add(h.FLAT, (p) => `${displayMoney(p, cur)} per session`);
  if (parts.length === 0) return 'Free';
  let text = parts.join(', ');
  if (vats.size === 1 && !vats.has('none')) text += `, incl. ${[...vats][0]} % VAT`;
  else if (vats.size > 1) text += ', incl. VAT where it applies';
  if (tariff.elements.some((e) => e.restrictions)) text += ' (prices vary by time and use)';
  return text;
}

/** The unit price incl. VAT that priced the latest line of a dimension, if any did. */
export function latestUnitPrice(lines: CostLine[], dimension: TariffDimensionType): Dec | null {
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i];
    if (l.dimension === dimension && !l.reservation) return priceInclVat(l.unit_price, l.vat);
  }
  return null;
}
