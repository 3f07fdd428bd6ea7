// OCPI 2.2.1 data types used for tariffs and CDRs (modules Tariffs and CDRs).
// Numbers that are money or energy travel as decimal strings or JSON numbers; the
// pricing code converts them to Decimal once and never computes with floats.

export type Decimalish = string | number;

export interface Price {
  excl_vat: Decimalish;
  incl_vat?: Decimalish;
}

export type TariffDimensionType = 'ENERGY' | 'FLAT' | 'PARKING_TIME' | 'TIME';

export interface PriceComponent {
  type: TariffDimensionType;
  /** Price per unit excl. VAT: per kWh (ENERGY), per hour (TIME, PARKING_TIME), per session (FLAT). */
  price: Decimalish;
  /** VAT percentage; absent means no VAT applies (which is not the same as 0 %). */
  vat?: Decimalish;
  /** Billing step: Wh for ENERGY, seconds for TIME and PARKING_TIME, ignored for FLAT. */
  step_size: number;
}

export type DayOfWeek = 'MONDAY' | 'TUESDAY' | 'WEDNESDAY' | 'THURSDAY' | 'FRIDAY' | 'SATURDAY' | 'SUNDAY';
export type ReservationRestrictionType = 'RESERVATION' | 'RESERVATION_EXPIRES';

export interface TariffRestrictions {
  start_time?: string; // "HH:MM" local
  end_time?: string; // "HH:MM" local, exclusive; may wrap past midnight
  start_date?: string; // "YYYY-MM-DD" local, inclusive
  end_date?: string; // "YYYY-MM-DD" local, exclusive
  min_kwh?: Decimalish;
  max_kwh?: Decimalish;
  min_current?: Decimalish;
  max_current?: Decimalish;
  min_power?: Decimalish;
  max_power?: Decimalish;
  min_duration?: number; // seconds
  max_duration?: number; // seconds
  day_of_week?: DayOfWeek[];
  reservation?: ReservationRestrictionType;
}

export interface TariffElement {
  price_components: PriceComponent[];
  restrictions?: TariffRestrictions;
}

export interface DisplayText {
  language: string;
  text: string;
}

export interface Tariff {
  country_code?: string;
  party_id?: string;
  id: string;
  currency: string;
  type?: 'AD_HOC_PAYMENT' | 'PROFILE_CHEAP' | 'PROFILE_FAST' | 'PROFILE_GREEN' | 'REGULAR';
  tariff_alt_text?: DisplayText[];
  tariff_alt_url?: string;
  min_price?: Price;
  max_price?: Price;
  elements: TariffElement[];
  start_date_time?: string; // UTC, validity start
  end_date_time?: string; // UTC, validity end
  last_updated?: string;
}

export type CdrDimensionType =
  | 'CURRENT'
  | 'ENERGY'
  | 'ENERGY_EXPORT'
  | 'ENERGY_IMPORT'
  | 'MAX_CURRENT'
  | 'MIN_CURRENT'
  | 'MAX_POWER'
  | 'MIN_POWER'
  | 'PARKING_TIME'
  | 'POWER'
  | 'RESERVATION_TIME'
  | 'STATE_OF_CHARGE'
  | 'TIME';

export interface CdrDimension {
  type: CdrDimensionType;
  /** ENERGY in kWh, TIME/PARKING_TIME/RESERVATION_TIME in hours, power in kW, current in A. */
  volume: Decimalish;
}

export interface ChargingPeriod {
  /** Start of the period (UTC ISO 8601); a period ends when the next one starts. */
  start_date_time: string;
  dimensions: CdrDimension[];
  tariff_id?: string;
}

/** What a session looks like to the pricing engine and to `chargebench quote`. */
export interface PricingSession {
  start_date_time: string;
  end_date_time: string;
  /** IANA time zone of the location, e.g. "Europe/Berlin". */
  time_zone: string;
  charging_periods: ChargingPeriod[];
  /** Set when the session was preceded by a reservation (for RESERVATION restrictions). */
  reservation?: ReservationRestrictionType;
}

/** The OCPI cost breakdown the engine returns. Totals rounded per the rules; subtotals to 4 decimals. */
export interface CostBreakdown {
  currency: string;
  total_cost: { excl_vat: string; incl_vat: string };
  total_fixed_cost: { excl_vat: string; incl_vat: string };
  total_energy: string; // kWh, as billed (after step_size)
  total_energy_cost: { excl_vat: string; incl_vat: string };
  total_time: string; // hours of charging, as billed
  total_time_cost: { excl_vat: string; incl_vat: string };
  total_parking_time: string; // hours, as billed
  total_parking_cost: { excl_vat: string; incl_vat: string };
  total_reservation_cost: { excl_vat: string; incl_vat: string };
  /** One line per (period, dimension) priced, in order; the basis of itemized invoices. */
  lines: CostLine[];
  /** Id of the tariff that priced the session. */
  tariff_id?: string;
  /** Set when min_price / max_price changed the total excl. and/or incl. VAT. */
  price_limit_applied?: { excl_vat?: 'MIN_PRICE' | 'MAX_PRICE'; incl_vat?: 'MIN_PRICE' | 'MAX_PRICE' };
}

export interface CostLine {
  dimension: TariffDimensionType;
  period_start: string;
  quantity: string; // kWh for ENERGY, hours for TIME/PARKING_TIME, 1 for FLAT (as billed)
  unit_price: string; // excl. VAT
  vat: string | null; // percent, null when no VAT applies
  excl_vat: string; // unrounded, 4 decimals
  incl_vat: string; // unrounded, 4 decimals
  tariff_element: number; // index into tariff.elements
  /** End of the (split) period this line covers; absent for FLAT. */
  period_end?: string;
  /** Quantity added by step_size rounding, already included in `quantity`. */
  step_extra?: string;
  /** True for reservation costs (reservation time or reservation fee). */
  reservation?: boolean;
}
