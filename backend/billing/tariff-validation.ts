// Validation of untrusted OCPI 2.2.1 tariff JSON. Hand-written rather than a JSON schema so that
// every message names the exact field path (elements[0].price_components[1].step_size) and says
// what was expected, and so that cross-field rules (min <= max, reservation elements) fit in.
import { isDecimalish, toDec } from './money.js';
import { parseInstantMs } from './local-time.js';
import type { Tariff } from './ocpi.js';

export class TariffValidationError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

const DIMENSION_TYPES = ['ENERGY', 'FLAT', 'PARKING_TIME', 'TIME'];
const TARIFF_TYPES = ['AD_HOC_PAYMENT', 'PROFILE_CHEAP', 'PROFILE_FAST', 'PROFILE_GREEN', 'REGULAR'];
const DAYS = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'];
const RESERVATION_TYPES = ['RESERVATION', 'RESERVATION_EXPIRES'];
const TIME_OF_DAY = /^([01][0-9]|2[0-3]):[0-5][0-9]$/;
const LOCAL_DATE = /^([12][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$/;
const KNOWN_CURRENCIES = new Set(Intl.supportedValuesOf('currency'));

/** Reads fields of one JSON object and reports problems under its path. Shared with quote.ts. */
export class FieldReader {
  constructor(
    readonly path: string,
    private readonly json: Record<string, unknown>,
    private readonly fail: (field: string, message: string) => never,
  ) {}

  static root(input: unknown, path: string, fail: (field: string, message: string) => never): FieldReader {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      fail(path, `${path ? `${path}: ` : ''}expected a JSON object, got ${describe(input)}`);
    }
    return new FieldReader(path, input as Record<string, unknown>, fail);
  }

  at(key: string | number): string {
    if (typeof key === 'number') return `${this.path}[${key}]`;
    return this.path ? `${this.path}.${key}` : key;
  }

  has(key: string): boolean {
    return this.json[key] !== undefined && this.json[key] !== null;
  }

  /** The object being read, as given. */
  data(): Record<string, unknown> {
    return this.json;
  }

  raw(key: string): unknown {
    return this.json[key];
  }

  error(key: string, message: string): never {
    return this.fail(this.at(key), `${this.at(key)}: ${message}`);
  }

  string(key: string, options: { maxLength?: number; pattern?: RegExp; expected?: string } = {}): string {
    const value = this.json[key];
    if (typeof value !== 'string' || value.length === 0) this.error(key, `expected ${options.expected ?? 'a non-empty string'}, got ${describe(value)}`);
    if (options.maxLength !== undefined && value.length > options.maxLength) this.error(key, `at most ${options.maxLength} characters, got ${value.length}`);
    if (options.pattern && !options.pattern.test(value))
      this.error(key, `expected ${options.expected ?? options.pattern.source}, got ${JSON.stringify(value)}`);
    return value;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[]): T {
    const value = this.json[key];
    if (typeof value !== 'string' || !allowed.includes(value as T)) this.error(key, `expected one of ${allowed.join(', ')}, got ${describe(value)}`);
    return value as T;
  }

  decimal(key: string, { min = 0 }: { min?: number } = {}): string | number {
    const value = this.json[key];
    if (!isDecimalish(value)) this.error(key, `expected a decimal number (JSON number or string like "0.25"), got ${describe(value)}`);
    if (toDec(value).lt(min)) this.error(key, `must be ${min} or more, got ${value}`);
    return value;
  }

  integer(key: string, { min = 0 }: { min?: number } = {}): number {
    const value = this.json[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min)
      this.error(key, `expected a whole number of at least ${min}, got ${describe(value)}`);
    return value;
  }

  /** An ISO 8601 date-time; one without offset is read as UTC, as OCPI sends UTC. */
  instant(key: string): string {
    const value = this.string(key, { expected: 'an ISO 8601 date-time like "2025-06-01T12:00:00Z"' });
    if (Number.isNaN(parseInstantMs(value))) this.error(key, `expected an ISO 8601 date-time like "2025-06-01T12:00:00Z", got ${JSON.stringify(value)}`);
    return value;
  }

  array(key: string, { nonEmpty = false } = {}): unknown[] {
    const value = this.json[key];
    if (!Array.isArray(value)) this.error(key, `expected ${nonEmpty ? 'a non-empty array' : 'an array'}, got ${describe(value)}`);
    if (nonEmpty && value.length === 0) this.error(key, 'expected at least one entry, got an empty array');
    return value;
  }

  object(key: string): FieldReader {
    return FieldReader.root(this.json[key], this.at(key), this.fail);
  }

  item(key: string, index: number, value: unknown): FieldReader {
    return FieldReader.root(value, `${this.at(key)}[${index}]`, this.fail);
  }
}

export function describe(value: unknown): string {
  if (value === undefined) return 'nothing (field missing)';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

const throwTariffError = (field: string, message: string): never => {
  throw new TariffValidationError(field, message);
};

/** Check an untrusted JSON value is an OCPI 2.2.1 tariff; throws TariffValidationError naming the field. */
export function validateTariff(input: unknown): Tariff {
  return readTariff(FieldReader.root(input, '', throwTariffError));
}

/** The same checks, reporting under a prefix (e.g. "tariff") through a caller-chosen error. */
export function readTariff(tariff: FieldReader): Tariff {
  tariff.string('id', { maxLength: 36 });
  const currency = tariff.string('currency', { pattern: /^[A-Z]{3}$/, expected: 'an ISO 4217 code like "EUR"' });
  if (!KNOWN_CURRENCIES.has(currency)) tariff.error('currency', `unknown ISO 4217 currency ${JSON.stringify(currency)}`);
  if (tariff.has('country_code')) tariff.string('country_code', { maxLength: 2 });
  if (tariff.has('party_id')) tariff.string('party_id', { maxLength: 3 });
  if (tariff.has('type')) tariff.oneOf('type', TARIFF_TYPES);
  if (tariff.has('tariff_alt_text')) {
    tariff.array('tariff_alt_text').forEach((text, i) => {
      const entry = tariff.item('tariff_alt_text', i, text);
      entry.string('language', { maxLength: 2 });
      entry.string('text', { maxLength: 512 });
    });
  }
  if (tariff.has('min_price')) readPrice(tariff.object('min_price'));
  if (tariff.has('max_price')) readPrice(tariff.object('max_price'));
  if (tariff.has('min_price') && tariff.has('max_price')) checkPriceOrder(tariff);
  tariff.array('elements', { nonEmpty: true }).forEach((element, i) => readElement(tariff.item('elements', i, element)));
  for (const key of ['start_date_time', 'end_date_time', 'last_updated']) if (tariff.has(key)) tariff.instant(key);
  if (
    tariff.has('start_date_time') &&
    tariff.has('end_date_time') &&
    parseInstantMs(tariff.raw('end_date_time') as string) <= parseInstantMs(tariff.raw('start_date_time') as string)
  ) {
    tariff.error('end_date_time', 'must be later than start_date_time');
  }
  return withoutNulls(tariff.data()) as unknown as Tariff;
}

/** OCPI peers often send `null` for absent optional fields; the engine only knows "absent". */
export function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== null)
      .map(([k, v]) => [k, withoutNulls(v)]),
  );
}

function readPrice(price: FieldReader): void {
  price.decimal('excl_vat');
  if (price.has('incl_vat')) {
    price.decimal('incl_vat');
    if (toDec(price.raw('incl_vat') as string).lt(toDec(price.raw('excl_vat') as string))) price.error('incl_vat', 'must not be lower than excl_vat');
  }
}

function checkPriceOrder(tariff: FieldReader): void {
  const min = tariff.object('min_price');
  const max = tariff.object('max_price');
  for (const key of ['excl_vat', 'incl_vat']) {
    if (min.has(key) && max.has(key) && toDec(min.raw(key) as string).gt(toDec(max.raw(key) as string))) {
      tariff.error(`max_price.${key}`, `must not be lower than min_price.${key}`);
    }
  }
}

function readElement(element: FieldReader): void {
  const components = element.array('price_components', { nonEmpty: true });
  const types = components.map((raw, i) => {
    const component = element.item('price_components', i, raw);
    const type = component.oneOf('type', DIMENSION_TYPES);
    component.decimal('price');
    if (component.has('vat')) component.decimal('vat');
    component.integer('step_size');
    return type;
  });
  if (!element.has('restrictions')) return;
  const restrictions = element.object('restrictions');
  readRestrictions(restrictions);
  if (restrictions.has('reservation')) {
    const wrong = types.findIndex((type) => type !== 'FLAT' && type !== 'TIME');
    if (wrong >= 0) element.error(`price_components[${wrong}].type`, 'an element with a reservation restriction may only hold FLAT and TIME components');
  }
}

function readRestrictions(r: FieldReader): void {
  for (const key of ['start_time', 'end_time'])
    if (r.has(key)) r.string(key, { pattern: TIME_OF_DAY, expected: '"HH:MM" in 24-hour local time, e.g. "07:30"' });
  for (const key of ['start_date', 'end_date']) {
    if (!r.has(key)) continue;
    const date = r.string(key, { pattern: LOCAL_DATE, expected: 'a local date "YYYY-MM-DD"' });
    if (Number.isNaN(parseInstantMs(date))) r.error(key, `${JSON.stringify(date)} is not a calendar date`);
  }
  for (const key of ['min_kwh', 'max_kwh', 'min_current', 'max_current', 'min_power', 'max_power']) if (r.has(key)) r.decimal(key);
  for (const key of ['min_duration', 'max_duration']) if (r.has(key)) r.integer(key);
  for (const [low, high] of [
    ['min_kwh', 'max_kwh'],
    ['min_current', 'max_current'],
    ['min_power', 'max_power'],
    ['min_duration', 'max_duration'],
    ['start_date', 'end_date'],
  ]) {
    if (r.has(low) && r.has(high) && compare(r.raw(low), r.raw(high)) >= 0) {
      r.error(high, `must be greater than ${low} (${low} is inclusive, ${high} exclusive), otherwise the element never applies`);
    }
  }
  if (r.has('day_of_week'))
    r.array('day_of_week').forEach((day, i) => {
      if (typeof day !== 'string' || !DAYS.includes(day)) r.error(`day_of_week[${i}]`, `expected one of ${DAYS.join(', ')}, got ${describe(day)}`);
    });
  if (r.has('reservation')) r.oneOf('reservation', RESERVATION_TYPES);
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'string' && typeof b === 'string' && LOCAL_DATE.test(a)) return a < b ? -1 : a > b ? 1 : 0;
  return toDec(a as string).cmp(toDec(b as string));
}
