// From exact usage per element to the OCPI bill: step_size once per dimension at the last
// component used, VAT per component, min/max price on each total, one half-up rounding.
import type { PriceComponent, Price, Tariff, ReservationRestrictionType } from '../../backend/billing/ocpi.js';
import type { TruthSession } from '../../sim/types.js';
import { minorUnitDigits } from './currency.js';
import { type DimensionUsage, type MeteredDimension, flatElementAtStart, integrate } from './integrate.js';
import { Rational } from './rational.js';
import { compileElements } from './restrictions.js';
import { parseTruth } from './timeline.js';

export interface OracleDimension {
  /** kWh (ENERGY), hours (TIME, PARKING_TIME) as billed after step_size; "1"/"0" for FLAT. */
  quantity: string;
  /** Unrounded money, 4 decimals. */
  exclVat: string;
  inclVat: string;
}

export interface OracleBill {
  currency: string;
  /** Rounded once, half-up, to the currency's minor unit. */
  totalExclVat: string;
  totalInclVat: string;
  dimensions: { ENERGY: OracleDimension; TIME: OracleDimension; PARKING_TIME: OracleDimension; FLAT: OracleDimension };
  energyWh: number;
  chargingSeconds: number;
  parkingSeconds: number;
}

/** What the oracle needs from a truth record; `reservation` once the simulator records it. */
export type PriceableTruth = Pick<TruthSession, 'startAt' | 'stopAt' | 'timeline'> & { reservation?: ReservationRestrictionType };

const MONEY_PLACES = 4;
const HOURS_PLACES = 6; // 1 s = 0.000278 h: hours are shown to 6 decimals, money stays exact
const UNIT_PER_BILLING_UNIT: Record<MeteredDimension, Rational> = {
  ENERGY: Rational.of(1000), // Wh per kWh
  TIME: Rational.of(3600), // s per hour
  PARKING_TIME: Rational.of(3600),
};

/** Round a quantity up to a whole multiple of step (in the dimension's step unit: Wh or s). */
export function roundUpToStep(quantity: Rational, step: number): Rational {
  // step_size counts whole units (1 Wh, 1 s); 0 or absent still bills whole units.
  const s = Rational.of(Number.isInteger(step) && step > 1 ? step : 1);
  return Rational.of(quantity.div(s).ceil()).mul(s);
}

interface Money {
  excl: Rational;
  incl: Rational;
}

function componentMoney(component: PriceComponent, units: Rational): Money {
  const excl = Rational.fromDecimal(component.price).mul(units);
  // VAT absent means no VAT applies: incl = excl (a present 0 % gives the same amount).
  const vat = component.vat == null ? Rational.ZERO : Rational.fromDecimal(component.vat);
  return { excl, incl: excl.mul(Rational.ONE.add(vat.div(Rational.of(100)))) };
}

function priceMetered(
  dimension: MeteredDimension,
  usage: DimensionUsage,
  componentOf: (element: number) => PriceComponent,
  applyStep: boolean,
): { quantity: Rational; money: Money } {
  const byElement = [...usage.byElement];
  if (applyStep && usage.lastElement >= 0) {
    const total = byElement.reduce((a, b) => a.add(b), Rational.ZERO);
    const extra = roundUpToStep(total, componentOf(usage.lastElement).step_size).sub(total);
    byElement[usage.lastElement] = byElement[usage.lastElement].add(extra);
  }
  const money: Money = { excl: Rational.ZERO, incl: Rational.ZERO };
  let quantity = Rational.ZERO;
  byElement.forEach((q, element) => {
    if (q.isZero()) return;
    const units = q.div(UNIT_PER_BILLING_UNIT[dimension]);
    const m = componentMoney(componentOf(element), units);
    money.excl = money.excl.add(m.excl);
    money.incl = money.incl.add(m.incl);
    quantity = quantity.add(units);
  });
  return { quantity, money };
}

/**
 * Bound a total by min_price / max_price, excl. and incl. VAT each on its own (OCPI 2.2.1 Tariff
 * notes: "they both apply"). An absent incl_vat is one amount with no VAT figure, like a price
 * component without vat: the same amount bounds the total incl. VAT.
 */
function bound(total: Money, min: Price | undefined, max: Price | undefined): Money {
  let { excl, incl } = total;
  if (min != null) {
    excl = excl.max(Rational.fromDecimal(min.excl_vat));
    incl = incl.max(Rational.fromDecimal(min.incl_vat ?? min.excl_vat));
  }
  if (max != null) {
    excl = excl.min(Rational.fromDecimal(max.excl_vat));
    incl = incl.min(Rational.fromDecimal(max.incl_vat ?? max.excl_vat));
  }
  return { excl, incl };
}

const dimensionOut = (quantity: string, money: Money): OracleDimension => ({
  quantity,
  exclVat: money.excl.toFixed(MONEY_PLACES),
  inclVat: money.incl.toFixed(MONEY_PLACES),
});

/** Price a truth session with an OCPI tariff in the location's IANA time zone. */
export function priceTruth(tariff: Tariff, session: PriceableTruth, timeZone: string): OracleBill {
  const elements = compileElements(tariff, session.reservation);
  const truth = parseTruth(session);
  const usage = integrate(elements, truth, timeZone);
  const componentFor = (dimension: MeteredDimension) => (element: number) => elements[element].components[dimension]!;

  const energy = priceMetered('ENERGY', usage.ENERGY, componentFor('ENERGY'), true);
  // TIME followed by parking: only the parking total is rounded, charging time billed exactly.
  const time = priceMetered('TIME', usage.TIME, componentFor('TIME'), !usage.parkingAfterCharging);
  const parking = priceMetered('PARKING_TIME', usage.PARKING_TIME, componentFor('PARKING_TIME'), true);
  const flatElement =
    truth.spans.length > 0 ? (usage.flatElement >= 0 ? elements[usage.flatElement] : undefined) : flatElementAtStart(elements, truth, timeZone);
  const flat = flatElement ? componentMoney(flatElement.components.FLAT!, Rational.ONE) : { excl: Rational.ZERO, incl: Rational.ZERO };

  const sum = [energy.money, time.money, parking.money, flat].reduce((a, m) => ({ excl: a.excl.add(m.excl), incl: a.incl.add(m.incl) }), {
    excl: Rational.ZERO,
    incl: Rational.ZERO,
  });
  const total = bound(sum, tariff.min_price, tariff.max_price);
  const places = minorUnitDigits(tariff.currency);
  return {
    currency: tariff.currency,
    totalExclVat: total.excl.toFixed(places),
    totalInclVat: total.incl.toFixed(places),
    dimensions: {
      ENERGY: dimensionOut(energy.quantity.toTrimmed(3), energy.money),
      TIME: dimensionOut(time.quantity.toTrimmed(HOURS_PLACES), time.money),
      PARKING_TIME: dimensionOut(parking.quantity.toTrimmed(HOURS_PLACES), parking.money),
      FLAT: dimensionOut(flatElement ? '1' : '0', flat),
    },
    energyWh: usage.energyWh,
    chargingSeconds: usage.chargingSeconds,
    parkingSeconds: usage.parkingSeconds,
  };
}
