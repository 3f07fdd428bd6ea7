// validateTariff(): untrusted JSON in, a Tariff or an error naming the field and what was expected.
import { describe, expect, it } from 'vitest';
import { TariffValidationError, validateTariff } from '../backend/billing/tariff-validation.js';

const valid = () => ({
  country_code: 'DE',
  party_id: 'ALL',
  id: '12',
  currency: 'EUR',
  min_price: { excl_vat: 0.5, incl_vat: 0.55 },
  elements: [
    {
      price_components: [
        { type: 'FLAT', price: 0.5, vat: 20.0, step_size: 1 },
        { type: 'ENERGY', price: '0.25', vat: 10.0, step_size: 1 },
      ],
      restrictions: { start_time: '22:00', end_time: '06:00', day_of_week: ['MONDAY'], min_kwh: 0, max_kwh: 50 },
    },
    { price_components: [{ type: 'TIME', price: 2, step_size: 60 }] },
  ],
  last_updated: '2019-02-03T17:00:11Z',
});

function errorOf(mutate: (t: ReturnType<typeof valid> & Record<string, unknown>) => unknown): [string, string] {
  const tariff = valid() as ReturnType<typeof valid> & Record<string, unknown>;
  const input = mutate(tariff) ?? tariff;
  try {
    validateTariff(input);
  } catch (error) {
    expect(error).toBeInstanceOf(TariffValidationError);
    return [(error as TariffValidationError).field, (error as Error).message];
  }
  throw new Error('expected a TariffValidationError');
}

describe('validateTariff', () => {
  it('accepts an OCPI tariff (prices as numbers or decimal strings) and returns it', () => {
    expect(validateTariff(valid())).toEqual(valid());
  });

  it('drops null optional fields, which OCPI peers send for "absent"', () => {
    const tariff = {
      ...valid(),
      max_price: null,
      elements: [{ price_components: [{ type: 'ENERGY', price: 0.25, vat: null, step_size: 1 }], restrictions: null }],
    };
    expect(validateTariff(tariff)).toEqual({ ...valid(), elements: [{ price_components: [{ type: 'ENERGY', price: 0.25, step_size: 1 }] }] });
  });

  it.each<[string, (t: ReturnType<typeof valid> & Record<string, unknown>) => unknown, string, string]>([
    ['not an object', () => [], '', 'expected a JSON object, got an array'],
    ['missing id', (t) => void delete (t as Record<string, unknown>).id, 'id', 'id: expected a non-empty string, got nothing (field missing)'],
    ['unknown currency', (t) => void (t.currency = 'EUX'), 'currency', 'currency: unknown ISO 4217 currency "EUX"'],
    ['lower-case currency', (t) => void (t.currency = 'eur'), 'currency', 'currency: expected an ISO 4217 code like "EUR", got "eur"'],
    ['no elements', (t) => void (t.elements = []), 'elements', 'elements: expected at least one entry, got an empty array'],
    [
      'fractional step_size',
      (t) => void (t.elements[0].price_components[1].step_size = 1.5),
      'elements[0].price_components[1].step_size',
      'elements[0].price_components[1].step_size: expected a whole number of at least 0, got number 1.5',
    ],
    [
      'unknown component type',
      (t) => void ((t.elements[1].price_components[0] as Record<string, unknown>).type = 'KWH'),
      'elements[1].price_components[0].type',
      'elements[1].price_components[0].type: expected one of ENERGY, FLAT, PARKING_TIME, TIME, got "KWH"',
    ],
    [
      'price not a number',
      (t) => void ((t.elements[0].price_components[1] as Record<string, unknown>).price = '0,25'),
      'elements[0].price_components[1].price',
      'elements[0].price_components[1].price: expected a decimal number (JSON number or string like "0.25"), got "0,25"',
    ],
    [
      'negative vat',
      (t) => void ((t.elements[0].price_components[0] as Record<string, unknown>).vat = -1),
      'elements[0].price_components[0].vat',
      'elements[0].price_components[0].vat: must be 0 or more, got -1',
    ],
    [
      '24:00 is not a time of day',
      (t) => void (t.elements[0].restrictions!.start_time = '24:00'),
      'elements[0].restrictions.start_time',
      'elements[0].restrictions.start_time: expected "HH:MM" in 24-hour local time, e.g. "07:30", got "24:00"',
    ],
    [
      'unknown weekday',
      (t) => void (t.elements[0].restrictions!.day_of_week = ['MONDAY', 'MON']),
      'elements[0].restrictions.day_of_week[1]',
      'elements[0].restrictions.day_of_week[1]: expected one of MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY, got "MON"',
    ],
    [
      'min_kwh not below max_kwh',
      (t) => void (t.elements[0].restrictions!.min_kwh = 50),
      'elements[0].restrictions.max_kwh',
      'elements[0].restrictions.max_kwh: must be greater than min_kwh (min_kwh is inclusive, max_kwh exclusive), otherwise the element never applies',
    ],
    [
      'impossible date',
      (t) => void ((t.elements[0].restrictions as Record<string, unknown>).start_date = '2025-02-30'),
      'elements[0].restrictions.start_date',
      'elements[0].restrictions.start_date: "2025-02-30" is not a calendar date',
    ],
    [
      'reservation element with ENERGY',
      (t) => void ((t.elements[0].restrictions as Record<string, unknown>).reservation = 'RESERVATION'),
      'elements[0].price_components[1].type',
      'elements[0].price_components[1].type: an element with a reservation restriction may only hold FLAT and TIME components',
    ],
    [
      'min_price above max_price',
      (t) => void ((t as Record<string, unknown>).max_price = { excl_vat: 0.4 }),
      'max_price.excl_vat',
      'max_price.excl_vat: must not be lower than min_price.excl_vat',
    ],
    [
      'bad last_updated',
      (t) => void (t.last_updated = 'yesterday'),
      'last_updated',
      'last_updated: expected an ISO 8601 date-time like "2025-06-01T12:00:00Z", got "yesterday"',
    ],
  ])('%s', (_name, mutate, field, message) => {
    expect(errorOf(mutate)).toEqual([field, message]);
  });
});
