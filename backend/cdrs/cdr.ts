// OCPI 2.2.1 CDRs: built once, when a priced session stops (in the stop's unit of work), and
// never changed afterwards. A correction is a credit CDR (negated costs) plus a new CDR.
//
// OCPI numbers (prices, kWh, hours) are JSON numbers, as the spec types them. They are made
// from the engine's exact decimal strings (at most 4 decimals for money, 9 for kWh, 10 for
// hours), which a double prints back exactly; no arithmetic is ever done on the doubles.
import { Decimal } from 'decimal.js';
import { isDecimalish } from '../billing/money.js';
import type { ChargingPeriod, CostBreakdown, Decimalish, Price, Tariff, TariffRestrictions } from '../billing/ocpi.js';

export interface OcpiParty {
  /** ISO 3166 alpha-2 country code of the CPO. */
  countryCode: string;
  /** CPO id (ISO 15118), 3 characters. */
  partyId: string;
}

export const DEFAULT_PARTY: OcpiParty = { countryCode: 'NL', partyId: 'CBX' };

export type AuthMethod = 'AUTH_REQUEST' | 'COMMAND' | 'WHITELIST';

export interface LocationAddress {
  address: string;
  city: string;
  postalCode?: string;
  /** ISO 3166 alpha-3. */
  country: string;
}

export interface LocationRec {
  id: string;
  name: string;
  timeZone: string;
  address: LocationAddress | null;
}

export interface OcpiPrice {
  excl_vat: number;
  incl_vat: number;
}

export interface OcpiCdrDimension {
  type: string;
  volume: number;
}

export interface OcpiChargingPeriod {
  start_date_time: string;
  dimensions: OcpiCdrDimension[];
  tariff_id?: string;
}

export interface OcpiCdrLocation {
  id: string;
  name: string;
  address: string;
  city: string;
  postal_code?: string;
  country: string;
  coordinates: { latitude: string; longitude: string };
  evse_uid: string;
  evse_id: string;
  connector_id: string;
  connector_standard: string;
  connector_format: string;
  connector_power_type: string;
  time_zone: string;
}

export interface OcpiCdr {
  country_code: string;
  party_id: string;
  id: string;
  start_date_time: string;
  end_date_time: string;
  session_id: string;
  cdr_token: { country_code: string; party_id: string; uid: string; type: 'RFID'; contract_id: string };
  auth_method: AuthMethod;
  cdr_location: OcpiCdrLocation;
  currency: string;
  tariffs: Tariff[];
  charging_periods: OcpiChargingPeriod[];
  total_cost: OcpiPrice;
  total_fixed_cost: OcpiPrice;
  total_energy: number;
  total_energy_cost: OcpiPrice;
  total_time: number;
  total_time_cost: OcpiPrice;
  total_parking_time: number;
  total_parking_cost: OcpiPrice;
  total_reservation_cost: OcpiPrice;
  remark?: string;
  credit?: boolean;
  credit_reference_id?: string;
  last_updated: string;
}

/** An exact decimal as an OCPI (JSON) number. */
export function ocpiNumber(value: Decimalish): number {
  if (typeof value === 'number') return value;
  // A plain decimal ("-12.3400") parses to the same double as its canonical form, so the round
  // trip through Decimal is only needed for the other forms decimal.js accepts (exponents, hex).
  return isDecimalish(value) ? Number(value) : Number(new Decimal(value).toString());
}

const price = (p: { excl_vat: string; incl_vat: string }): OcpiPrice => ({
  excl_vat: ocpiNumber(p.excl_vat),
  incl_vat: ocpiNumber(p.incl_vat),
});

function ocpiPriceOf(p: Price): Price {
  const out: Price = { excl_vat: ocpiNumber(p.excl_vat) };
  if (p.incl_vat !== undefined) out.incl_vat = ocpiNumber(p.incl_vat);
  return out;
}

const NUMERIC_RESTRICTIONS = ['min_kwh', 'max_kwh', 'min_current', 'max_current', 'min_power', 'max_power'] as const;

/**
 * A tariff version as OCPI publishes it: owner and last_updated filled in, decimal strings as
 * numbers. The posted object itself is kept as posted.
 */
export function publishedTariff(t: Tariff, party: OcpiParty, lastUpdated: string): Tariff {
  const out: Tariff = {
    country_code: party.countryCode,
    party_id: party.partyId,
    ...t,
    elements: t.elements.map((e) => {
      const el = {
        ...e,
        price_components: e.price_components.map((c) => {
          const pc = { ...c, price: ocpiNumber(c.price) };
          if (c.vat !== undefined) pc.vat = ocpiNumber(c.vat);
          return pc;
        }),
      };
      if (e.restrictions) {
        const r: TariffRestrictions = { ...e.restrictions };
        for (const k of NUMERIC_RESTRICTIONS) if (r[k] !== undefined) r[k] = ocpiNumber(r[k]);
        el.restrictions = r;
      }
      return el;
    }),
    last_updated: t.last_updated ?? lastUpdated,
  };
  if (t.min_price) out.min_price = ocpiPriceOf(t.min_price);
  if (t.max_price) out.max_price = ocpiPriceOf(t.max_price);
  return out;
}

/** The location part of a CDR; a charger without a location gets one derived from it. */
export function cdrLocation(location: LocationRec | null, chargerId: string, connectorId: number, timeZone: string): OcpiCdrLocation {
  const evseUid = `${chargerId}-${connectorId}`;
  const address = location?.address;
  const out: OcpiCdrLocation = {
    id: location?.id ?? chargerId,
    name: location?.name ?? chargerId,
    // Placeholders where the back end knows nothing about the site.
    address: address?.address ?? 'unknown',
    city: address?.city ?? 'unknown',
    country: address?.country ?? 'NLD',
    coordinates: { latitude: '0.000000', longitude: '0.000000' },
    evse_uid: evseUid,
    evse_id: evseUid,
    connector_id: String(connectorId),
    connector_standard: 'IEC_62196_T2',
    connector_format: 'SOCKET',
    connector_power_type: 'AC_3_PHASE',
    time_zone: timeZone,
  };
  if (address?.postalCode !== undefined) out.postal_code = address.postalCode;
  return out;
}

export interface CdrInput {
  party: OcpiParty;
  id: string;
  sessionId: number;
  startedAt: string;
  /** The stop instant as billed. */
  stoppedAt: string;
  idTag: string;
  authMethod: AuthMethod;
  location: OcpiCdrLocation;
  /** The tariff version valid at the session start, in published form. */
  tariff: Tariff;
  periods: ChargingPeriod[];
  cost: Omit<CostBreakdown, 'lines'>;
  lastUpdated: string;
  remark?: string;
}

function sumVolumes(periods: ChargingPeriod[], types: string[]): Decimal {
  let sum = new Decimal(0);
  for (const p of periods) for (const d of p.dimensions) if (types.includes(d.type)) sum = sum.plus(String(d.volume));
  return sum;
}

/**
 * total_energy, total_time (charging and not charging) and total_parking_time are the sums
 * of the charging periods, so the CDR adds up; the costs are the engine's.
 */
export function buildCdr(i: CdrInput): OcpiCdr {
  const cdr: OcpiCdr = {
    country_code: i.party.countryCode,
    party_id: i.party.partyId,
    id: i.id,
    start_date_time: i.startedAt,
    end_date_time: i.stoppedAt,
    session_id: String(i.sessionId),
    cdr_token: { country_code: i.party.countryCode, party_id: i.party.partyId, uid: i.idTag, type: 'RFID', contract_id: i.idTag },
    auth_method: i.authMethod,
    cdr_location: i.location,
    currency: i.cost.currency,
    tariffs: [i.tariff],
    charging_periods: i.periods.map((p) => ({
      start_date_time: p.start_date_time,
      dimensions: p.dimensions.map((d) => ({ type: d.type, volume: ocpiNumber(d.volume) })),
      tariff_id: i.tariff.id,
    })),
    total_cost: price(i.cost.total_cost),
    total_fixed_cost: price(i.cost.total_fixed_cost),
    total_energy: ocpiNumber(sumVolumes(i.periods, ['ENERGY']).toString()),
    total_energy_cost: price(i.cost.total_energy_cost),
    total_time: ocpiNumber(sumVolumes(i.periods, ['TIME', 'PARKING_TIME']).toString()),
    total_time_cost: price(i.cost.total_time_cost),
    total_parking_time: ocpiNumber(sumVolumes(i.periods, ['PARKING_TIME']).toString()),
    total_parking_cost: price(i.cost.total_parking_cost),
    total_reservation_cost: price(i.cost.total_reservation_cost),
    last_updated: i.lastUpdated,
  };
  if (i.remark !== undefined) cdr.remark = i.remark;
  return cdr;
}

const COST_FIELDS = ['total_cost', 'total_fixed_cost', 'total_energy_cost', 'total_time_cost', 'total_parking_cost', 'total_reservation_cost'] as const;

const negate = (p: OcpiPrice): OcpiPrice => ({ excl_vat: negateNumber(p.excl_vat), incl_vat: negateNumber(p.incl_vat) });
const negateNumber = (n: number): number => (n === 0 ? 0 : -n);

/** Id of the credit CDR of a CDR (OCPI suggests appending "-C"). */
export const creditIdOf = (cdrId: string): string => `${cdrId}-C`;

/** The credit CDR: all data of the original, its costs negated. */
export function creditCdr(original: OcpiCdr, lastUpdated: string, remark?: string): OcpiCdr {
  const credit: OcpiCdr = { ...original, id: creditIdOf(original.id), last_updated: lastUpdated };
  for (const f of COST_FIELDS) credit[f] = negate(original[f]);
  credit.credit = true;
  credit.credit_reference_id = original.id;
  if (remark !== undefined) credit.remark = remark;
  return credit;
}

/** Totals kept as columns next to the JSON, as exact decimal strings. */
export function cdrTotals(cdr: OcpiCdr): { excl: string; incl: string } {
  // String() of a double prints what decimal.js prints for it (same digits, same exponent limits).
  return { excl: String(cdr.total_cost.excl_vat), incl: String(cdr.total_cost.incl_vat) };
}
