// The billing engine's shortcuts (integer arithmetic for whole milliseconds and short decimals,
// hand-written ISO parsing and formatting, cached tariff numbers) must give exactly what the
// general decimal.js / Date / Luxon computation they replace gives, for every input.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoInstant, parseInstantMs, parseInstantMsGeneral } from '../backend/billing/local-time.js';
import { isoUtc } from '../backend/metering/sampled-values.js';
import { Dec, fourDecimals, plainDecimal, plainHours, quotientFixed, roundToMinorUnit, tariffDec } from '../backend/billing/money.js';
import type { PricingSession, Tariff } from '../backend/billing/ocpi.js';
import { priceSession } from '../backend/billing/pricing.js';

const LAST_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** What isoInstant always was: Date's own text without ".000". */
const isoByDate = (ms: number) => {
  const text = new Date(ms).toISOString();
  return text.endsWith('.000Z') ? `${text.slice(0, -5)}Z` : text;
};

describe('ISO instants', () => {
  it('isoInstant formats like Date#toISOString', () => {
    for (const ms of [0, 1, 999, 1000, 86_399_999, 86_400_000, 951_782_400_000, 951_868_800_000, 4_107_542_400_000, LAST_MS, LAST_MS + 1, -1, 1.5]) {
      expect(isoInstant(ms)).toBe(isoByDate(ms));
    }
    expect(() => isoInstant(Number.NaN)).toThrow(RangeError);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: LAST_MS }), (ms) => {
        expect(isoInstant(ms)).toBe(isoByDate(ms));
      }),
      { numRuns: 5_000 },
    );
  });

  it('parseInstantMs reads every text like the general parser', () => {
    expect(parseInstantMs('')).toBeNaN(); // before anything was parsed, too
    const two = (min: number, max: number) => fc.integer({ min, max }).map((n) => String(n).padStart(2, '0'));
    const text = fc
      .tuple(
        fc.oneof(fc.integer({ min: 1969, max: 2100 }), fc.integer({ min: 0, max: 9999 })).map((y) => String(y).padStart(4, '0')),
        two(0, 13),
        two(0, 32),
        two(0, 25),
        two(0, 61),
        two(0, 61),
        fc.constantFrom('', '.000', '.5', '.12', '.123', '.123456'),
        fc.constantFrom('Z', 'Z', '', '+01:00', '-05:00', 'z', '+99:99'),
      )
      .map(([y, mo, d, h, mi, s, fraction, zone]) => `${y}-${mo}-${d}T${h}:${mi}:${s}${fraction}${zone}`);
    fc.assert(
      fc.property(text, (t) => {
        expect(parseInstantMs(t)).toBe(parseInstantMsGeneral(t));
      }),
      { numRuns: 5_000 },
    );
    for (const t of [
      '',
      'garbage',
      '2026-02-29T00:00:00Z',
      '2028-02-29T00:00:00Z',
      '2100-02-29T00:00:00Z',
      '2000-02-29T00:00:00Z',
      '0099-02-29T00:00:00Z',
      '2026-03-02T10:00Z',
      '2026-03-02 10:00:00Z',
      '1970-01-01T00:00:00Z',
      '',
    ]) {
      expect(parseInstantMs(t)).toBe(parseInstantMsGeneral(t));
    }
  });

  it('isoUtc keeps only the canonical form as it is, and writes every other one canonically', () => {
    expect(isoUtc('2026-03-02T10:00:00.000Z')).toBe('2026-03-02T10:00:00.000Z');
    expect(isoUtc('2026-03-02t10:00:00.000Z')).toBe('2026-03-02T10:00:00.000Z');
    expect(isoUtc('2026-03-02T11:00:00.000+01:00')).toBe('2026-03-02T10:00:00.000Z');
    expect(isoUtc('2026-03-02T10:00:00Z')).toBe('2026-03-02T10:00:00.000Z');
    // Forms only a lenient parser reads, and impossible dates, are not timestamps here.
    expect(isoUtc('2026-W10-1T10:00:00.000Z')).toBeNull();
    // Date.parse rolls an impossible day over, as it always did here: never kept as written.
    expect(isoUtc('2026-02-30T10:00:00.000Z')).toBe('2026-03-02T10:00:00.000Z');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: LAST_MS }), (ms) => {
        const text = new Date(ms).toISOString();
        expect(isoUtc(text)).toBe(text);
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('decimal texts', () => {
  const HALF_UP = Dec.ROUND_HALF_UP;
  /** Decimal texts of every length, near halfway points too. */
  const decimalText = fc.oneof(
    fc.tuple(fc.boolean(), fc.bigInt({ min: 0n, max: 10n ** 40n }), fc.integer({ min: 0, max: 45 })).map(([negative, digits, decimals]) => {
      const text = digits.toString().padStart(decimals + 1, '0');
      return `${negative ? '-' : ''}${decimals === 0 ? text : `${text.slice(0, -decimals)}.${text.slice(-decimals)}`}`;
    }),
    // x / 3,600,000 halfway between two 4-decimal (2-decimal) amounts: odd multiples of 180 (18,000), and next to them.
    fc
      .tuple(fc.integer({ min: 0, max: 10_000_000 }), fc.constantFrom(180, 18_000), fc.constantFrom('', '.0000001', '-0.0000001'))
      .map(([n, unit, nudge]) => new Dec((2 * n + 1) * (unit / 2)).plus(nudge === '' ? 0 : nudge).toFixed()),
  );

  it('quotientFixed rounds like div then toFixed', () => {
    fc.assert(
      fc.property(decimalText, fc.constantFrom(0, 2, 3, 4), (text, places) => {
        const x = new Dec(text);
        expect(quotientFixed(x, 3_600_000, places)).toBe(x.div(3_600_000).toFixed(places, HALF_UP));
      }),
      { numRuns: 5_000 },
    );
    for (const text of ['0', '-0', 'NaN', 'Infinity', '-Infinity', '1e-80', '1e80']) {
      expect(quotientFixed(new Dec(text), 3_600_000, 4)).toBe(new Dec(text).div(3_600_000).toFixed(4, HALF_UP));
    }
  });

  it('fourDecimals, roundToMinorUnit and plainDecimal format like toFixed', () => {
    fc.assert(
      fc.property(decimalText, (text) => {
        const x = new Dec(text);
        expect(fourDecimals(x)).toBe(x.toFixed(4, HALF_UP));
        expect(roundToMinorUnit(x, 'EUR')).toBe(x.toFixed(2, HALF_UP));
        expect(roundToMinorUnit(x, 'JPY')).toBe(x.toFixed(0, HALF_UP));
        expect(plainDecimal(x)).toBe(x.toDecimalPlaces(10, HALF_UP).toFixed());
        expect(plainDecimal(x, 6)).toBe(x.toDecimalPlaces(6, HALF_UP).toFixed());
      }),
      { numRuns: 10_000 },
    );
  });

  it('plainHours gives the hours of whole milliseconds like decimal division', () => {
    const hours = (ms: number) => new Dec(ms).div(3_600_000).toDecimalPlaces(10, HALF_UP).toFixed();
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 0, max: 100_000_000 }), fc.maxSafeNat()), (ms) => {
        expect(plainHours(ms)).toBe(hours(ms));
      }),
      { numRuns: 5_000 },
    );
    for (const ms of [0, 1, 18, 3_599_999, 3_600_000, -1, 0.5, Number.MAX_SAFE_INTEGER]) expect(plainHours(ms)).toBe(hours(ms));
  });

  it('tariff numbers parsed once fail like toDec', () => {
    expect(tariffDec('0.39').toFixed()).toBe('0.39');
    expect(tariffDec(0.1).toFixed()).toBe('0.1');
    expect(() => tariffDec('1e3')).toThrow('not a decimal number: 1e3');
    expect(() => tariffDec('1e3')).toThrow('not a decimal number: 1e3');
  });
});

describe('priceSession with cached tariff numbers', () => {
  const session: PricingSession = {
    start_date_time: '2026-03-02T08:06:15Z',
    end_date_time: '2026-03-02T08:07:15Z',
    time_zone: 'Europe/Berlin',
    charging_periods: [
      {
        start_date_time: '2026-03-02T08:06:15Z',
        dimensions: [
          { type: 'ENERGY', volume: '0.357' },
          { type: 'TIME', volume: '0.0166666667' },
        ],
      },
    ],
  };

  it('prices the same tariff object alike every time, and follows a changed price or VAT', () => {
    const tariff: Tariff = {
      id: 'bench',
      currency: 'EUR',
      elements: [
        {
          price_components: [
            { type: 'FLAT', price: '0.50', vat: '19', step_size: 1 },
            { type: 'ENERGY', price: '0.39', vat: '19', step_size: 1 },
            { type: 'TIME', price: '1.80', vat: '19', step_size: 60 },
          ],
        },
      ],
    };
    const first = priceSession(tariff, session);
    expect(first.total_cost).toEqual({ excl_vat: '0.67', incl_vat: '0.80' });
    expect(priceSession(tariff, session)).toEqual(first);
    tariff.elements[0].price_components[0].price = '1.50';
    tariff.elements[0].price_components[0].vat = '7';
    const changed = priceSession(tariff, session);
    expect(changed.lines[0]).toMatchObject({ dimension: 'FLAT', unit_price: '1.5', vat: '7', excl_vat: '1.5000', incl_vat: '1.6050' });
    expect(changed.total_cost).toEqual({ excl_vat: '1.67', incl_vat: '1.81' });
    tariff.elements[0].price_components[1].price = 'oops';
    expect(() => priceSession(tariff, session)).toThrow('not a decimal number: oops');
  });
});
