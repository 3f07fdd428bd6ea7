// quote(): tariff + session JSON as a user writes them, priced end to end. Every worked vector of
// the OCPI 2.2.1 tariff module is here, plus restriction, step and DST cases.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { QuoteInputError, quote, runQuoteCommand } from '../backend/billing/quote.js';

/** A session of one charging period from `start`, `hours` long, with `kwh` charged. */
function chargingSession(kwh: number | string, hours = 2, start = '2025-06-02T08:00:00Z', time_zone = 'Europe/Berlin') {
  const end = new Date(Date.parse(start) + Number(hours) * 3_600_000).toISOString();
  return {
    start_date_time: start,
    end_date_time: end,
    time_zone,
    charging_periods: [
      {
        start_date_time: start,
        dimensions: [
          { type: 'ENERGY', volume: kwh },
          { type: 'TIME', volume: hours },
        ],
      },
    ],
  };
}

const totals = (breakdown: ReturnType<typeof quote>) => [breakdown.total_cost.excl_vat, breakdown.total_cost.incl_vat];

describe('reference worked vectors', () => {
  const energy025 = { type: 'ENERGY', price: 0.25, vat: 10.0, step_size: 1 };
  const startFee = { type: 'FLAT', price: 0.5, vat: 20.0, step_size: 1 };

  it('ENERGY 0.25/kWh, VAT 10 %, step 1: 20 kWh costs 5.00 / 5.50', () => {
    const tariff = { id: '8', currency: 'EUR', elements: [{ price_components: [energy025] }] };
    const result = quote(tariff, chargingSession(20));
    expect(totals(result)).toEqual(['5.00', '5.50']);
    expect(result.total_energy).toBe('20');
    expect(result.total_energy_cost).toEqual({ excl_vat: '5.0000', incl_vat: '5.5000' });
  });

  it('FLAT 0.50 (VAT 20 %) + ENERGY 0.25/kWh (VAT 10 %): 20 kWh costs 5.50 / 6.10', () => {
    const tariff = { id: '9', currency: 'EUR', elements: [{ price_components: [startFee, energy025] }] };
    const result = quote(tariff, chargingSession(20));
    expect(totals(result)).toEqual(['5.50', '6.10']);
    expect(result.total_fixed_cost).toEqual({ excl_vat: '0.5000', incl_vat: '0.6000' });
    expect(result.lines[0]).toMatchObject({ dimension: 'FLAT', quantity: '1', unit_price: '0.5', vat: '20' });
  });

  it('min_price 0.50 / 0.55: 20 kWh costs 5.00 / 5.50, 1.5 kWh costs 0.50 / 0.55', () => {
    const tariff = { id: '12', currency: 'EUR', min_price: { excl_vat: 0.5, incl_vat: 0.55 }, elements: [{ price_components: [energy025] }] };
    expect(totals(quote(tariff, chargingSession(20)))).toEqual(['5.00', '5.50']);
    const small = quote(tariff, chargingSession(1.5));
    expect(totals(small)).toEqual(['0.50', '0.55']);
    expect(small.total_energy_cost).toEqual({ excl_vat: '0.3750', incl_vat: '0.4125' });
    expect(small.price_limit_applied).toEqual({ excl_vat: 'MIN_PRICE', incl_vat: 'MIN_PRICE' });
  });

  it('max_price 10.00 / 11.00 with start fee: 50 kWh costs 10.00 / 11.00, 30 kWh costs 8.00 / 8.85', () => {
    const tariff = {
      id: '6',
      currency: 'EUR',
      max_price: { excl_vat: 10.0, incl_vat: 11.0 },
      end_date_time: '2019-06-30T23:59:59Z',
      elements: [{ price_components: [startFee, energy025] }],
    };
    expect(totals(quote(tariff, chargingSession(50)))).toEqual(['10.00', '11.00']);
    expect(totals(quote(tariff, chargingSession(30)))).toEqual(['8.00', '8.85']);
  });

  it('TIME 2.00/h, VAT 10 %, step 60: 2.5 h charging costs 5.00 / 5.50', () => {
    const tariff = { id: '1', currency: 'EUR', elements: [{ price_components: [{ type: 'TIME', price: 2.0, vat: 10.0, step_size: 60 }] }] };
    const result = quote(tariff, chargingSession(0, 2.5));
    expect(totals(result)).toEqual(['5.00', '5.50']);
    expect(result.total_time).toBe('2.5');
  });

  it('TIME 3.00/h step 60 + PARKING_TIME 5.00/h step 300: 150 min + 42 min costs 11.25 / 12.75, 45 min parking billed', () => {
    const tariff = {
      id: '13',
      currency: 'EUR',
      elements: [
        {
          price_components: [
            { type: 'TIME', price: 3.0, vat: 10.0, step_size: 60 },
            { type: 'PARKING_TIME', price: 5.0, vat: 20.0, step_size: 300 },
          ],
        },
      ],
    };
    const session = {
      start_date_time: '2025-06-02T08:00:00Z',
      end_date_time: '2025-06-02T11:12:00Z',
      time_zone: 'Europe/Berlin',
      charging_periods: [
        {
          start_date_time: '2025-06-02T08:00:00Z',
          dimensions: [
            { type: 'ENERGY', volume: 30 },
            { type: 'TIME', volume: 2.5 },
          ],
        },
        { start_date_time: '2025-06-02T10:30:00Z', dimensions: [{ type: 'PARKING_TIME', volume: 0.7 }] },
      ],
    };
    const result = quote(tariff, session);
    expect(totals(result)).toEqual(['11.25', '12.75']);
    expect(result.total_parking_time).toBe('0.75');
    expect(result.total_parking_cost).toEqual({ excl_vat: '3.7500', incl_vat: '4.5000' });
    expect(result.total_time_cost).toEqual({ excl_vat: '7.5000', incl_vat: '8.2500' });
  });

  it('FLAT 0.50 + ENERGY 0.25/kWh step 100 Wh: 20.45 kWh is billed as 20.5 kWh, 5.63 / 6.24 (5.625 / 6.2375 half-up)', () => {
    const tariff = { id: '3', currency: 'EUR', elements: [{ price_components: [startFee, { ...energy025, step_size: 100 }] }] };
    const result = quote(tariff, chargingSession('20.45'));
    expect(totals(result)).toEqual(['5.63', '6.24']);
    expect(result.total_energy).toBe('20.5');
    expect(result.total_energy_cost).toEqual({ excl_vat: '5.1250', incl_vat: '5.6375' });
  });

  it.each([
    [1, '0.116', '0.03'],
    [25, '0.125', '0.03'],
    [500, '0.5', '0.13'],
  ])('ENERGY 0.25/kWh: 115.2 Wh at step %i is billed as %s kWh (total %s)', (step, billedKwh, total) => {
    const tariff = { id: 's', currency: 'EUR', elements: [{ price_components: [{ type: 'ENERGY', price: 0.25, step_size: step }] }] };
    const result = quote(tariff, chargingSession('0.1152', 0.5));
    expect(result.total_energy).toBe(billedKwh);
    expect(totals(result)).toEqual([total, total]);
  });

  describe('ENERGY 0.20/kWh before 17:00, 0.27/kWh after, step 500 Wh: 4.3 kWh before + 1.1 kWh after', () => {
    const tariff = {
      id: 'evening',
      currency: 'EUR',
      elements: [
        { price_components: [{ type: 'ENERGY', price: 0.2, step_size: 500 }], restrictions: { end_time: '17:00' } },
        { price_components: [{ type: 'ENERGY', price: 0.27, step_size: 500 }] },
      ],
    };

    it('rounds the total to 5.5 kWh and bills the extra 0.1 kWh after 17:00', () => {
      // 17:00 in Berlin in June is 15:00 UTC.
      const session = {
        start_date_time: '2025-06-02T13:00:00Z',
        end_date_time: '2025-06-02T16:00:00Z',
        time_zone: 'Europe/Berlin',
        charging_periods: [
          {
            start_date_time: '2025-06-02T13:00:00Z',
            dimensions: [
              { type: 'ENERGY', volume: 4.3 },
              { type: 'TIME', volume: 2 },
            ],
          },
          {
            start_date_time: '2025-06-02T15:00:00Z',
            dimensions: [
              { type: 'ENERGY', volume: 1.1 },
              { type: 'TIME', volume: 1 },
            ],
          },
        ],
      };
      const result = quote(tariff, session);
      expect(result.total_energy).toBe('5.5');
      expect(result.lines.map((l) => [l.period_start, l.quantity, l.unit_price, l.step_extra])).toEqual([
        ['2025-06-02T13:00:00Z', '4.3', '0.2', undefined],
        ['2025-06-02T15:00:00Z', '1.2', '0.27', '0.1'],
      ]);
      // 4.3 x 0.20 + 1.2 x 0.27 = 0.86 + 0.324 = 1.184
      expect(result.total_energy_cost.excl_vat).toBe('1.1840');
      expect(totals(result)).toEqual(['1.18', '1.18']);
    });

    it('splits one coarse period at 17:00 local, energy interpolated linearly (43 min before, 11 min after)', () => {
      const session = {
        start_date_time: '2025-06-02T14:17:00Z',
        end_date_time: '2025-06-02T15:11:00Z',
        time_zone: 'Europe/Berlin',
        charging_periods: [
          {
            start_date_time: '2025-06-02T14:17:00Z',
            dimensions: [
              { type: 'ENERGY', volume: 5.4 },
              { type: 'TIME', volume: 0.9 },
            ],
          },
        ],
      };
      const result = quote(tariff, session);
      expect(result.lines.map((l) => [l.quantity, l.unit_price])).toEqual([
        ['4.3', '0.2'],
        ['1.2', '0.27'],
      ]);
      expect(totals(result)).toEqual(['1.18', '1.18']);
    });
  });
});

describe('step_size across tariff elements (OCPI tariff_14)', () => {
  const tariff = {
    id: '14',
    currency: 'EUR',
    elements: [
      { price_components: [{ type: 'TIME', price: 1.2, step_size: 1800 }], restrictions: { end_time: '17:00' } },
      { price_components: [{ type: 'TIME', price: 2.4, step_size: 900 }], restrictions: { start_time: '17:00' } },
      { price_components: [{ type: 'PARKING_TIME', price: 1.0, step_size: 900 }], restrictions: { end_time: '20:00' } },
    ],
  };
  const utc = (hhmm: string) => `2025-01-15T${hhmm}:00Z`; // London in winter: local time = UTC

  it('16:35 + 35 min charging: 25 min at 1.20, total rounded by the last step (15 min) to 45 min: 1.30', () => {
    const session = {
      start_date_time: utc('16:35'),
      end_date_time: utc('17:10'),
      time_zone: 'Europe/London',
      charging_periods: [{ start_date_time: utc('16:35'), dimensions: [{ type: 'TIME', volume: '0.5833333333' }] }],
    };
    const result = quote(tariff, session);
    expect(totals(result)).toEqual(['1.30', '1.30']);
    expect(result.lines.map((l) => [l.unit_price, l.quantity])).toEqual([
      ['1.2', '0.4166666667'],
      ['2.4', '0.3333333333'],
    ]);
  });

  it('19:55 + 10 min charging + 2 min free parking after 20:00: charging time is rounded to 15 min: 0.60', () => {
    const session = {
      start_date_time: utc('19:55'),
      end_date_time: utc('20:07'),
      time_zone: 'Europe/London',
      charging_periods: [
        { start_date_time: utc('19:55'), dimensions: [{ type: 'TIME', volume: '0.1666666667' }] },
        { start_date_time: utc('20:05'), dimensions: [{ type: 'PARKING_TIME', volume: '0.0333333333' }] },
      ],
    };
    expect(totals(quote(tariff, session))).toEqual(['0.60', '0.60']);
  });

  it('16:55 + 10 min charging + 2 min billed parking: charging time exact, parking rounded to 15 min (reference rule 6): 0.55', () => {
    // The spec prose for this example says 0.50 (it rounds charging time and absorbs the parking);
    // the reference's rule 6 bills charging time exactly when it is followed by parking.
    const session = {
      start_date_time: utc('16:55'),
      end_date_time: utc('17:07'),
      time_zone: 'Europe/London',
      charging_periods: [
        { start_date_time: utc('16:55'), dimensions: [{ type: 'TIME', volume: '0.1666666667' }] },
        { start_date_time: utc('17:05'), dimensions: [{ type: 'PARKING_TIME', volume: '0.0333333333' }] },
      ],
    };
    const result = quote(tariff, session);
    expect(result.total_time_cost.excl_vat).toBe('0.3000');
    expect(result.total_parking_cost.excl_vat).toBe('0.2500');
    expect(totals(result)).toEqual(['0.55', '0.55']);
  });
});

describe('restrictions', () => {
  it('time window wrapping midnight (22:00-06:00), evaluated in local time', () => {
    const tariff = {
      id: 'night',
      currency: 'EUR',
      elements: [
        { price_components: [{ type: 'ENERGY', price: 0.1, step_size: 1 }], restrictions: { start_time: '22:00', end_time: '06:00' } },
        { price_components: [{ type: 'ENERGY', price: 0.3, step_size: 1 }] },
      ],
    };
    // 20:00-08:00 Berlin summer time (18:00Z-06:00Z), 1.5 kWh per hour: 2 h day, 8 h night, 2 h day.
    const result = quote(tariff, chargingSession(18, 12, '2025-06-02T18:00:00Z'));
    expect(result.lines.map((l) => [l.period_start, l.quantity, l.unit_price])).toEqual([
      ['2025-06-02T18:00:00Z', '3', '0.3'],
      ['2025-06-02T20:00:00Z', '12', '0.1'],
      ['2025-06-03T04:00:00Z', '3', '0.3'],
    ]);
    expect(result.total_cost.excl_vat).toBe('3.00'); // 0.9 + 1.2 + 0.9
  });

  it('"00:00" as end_time means the end of the day', () => {
    const tariff = {
      id: 'evening',
      currency: 'EUR',
      elements: [
        { price_components: [{ type: 'TIME', price: 4, step_size: 1 }], restrictions: { start_time: '18:00', end_time: '00:00' } },
        { price_components: [{ type: 'TIME', price: 1, step_size: 1 }] },
      ],
    };
    // 17:00-01:00 London winter: 1 h day, 6 h evening, 1 h after midnight.
    expect(quote(tariff, chargingSession(0, 8, '2025-01-15T17:00:00Z', 'Europe/London')).total_cost.excl_vat).toBe('26.00');
  });

  it('day_of_week in local time: Sunday 22:00 to Monday 02:00 Berlin is half weekend, half weekday', () => {
    const tariff = {
      id: 'weekend',
      currency: 'EUR',
      elements: [
        { price_components: [{ type: 'ENERGY', price: 0.2, step_size: 1 }], restrictions: { day_of_week: ['SATURDAY', 'SUNDAY'] } },
        { price_components: [{ type: 'ENERGY', price: 0.4, step_size: 1 }] },
      ],
    };
    // 2025-06-01 is a Sunday; 22:00 CEST = 20:00Z. In UTC all four hours would still be Sunday.
    const result = quote(tariff, chargingSession(8, 4, '2025-06-01T20:00:00Z'));
    expect(totals(result)).toEqual(['2.40', '2.40']); // 4 kWh x 0.20 + 4 kWh x 0.40
  });

  it('start_date inclusive / end_date exclusive, as local dates', () => {
    const tariff = {
      id: 'promo',
      currency: 'EUR',
      elements: [
        { price_components: [{ type: 'ENERGY', price: 0, step_size: 1 }], restrictions: { start_date: '2025-06-02', end_date: '2025-06-03' } },
        { price_components: [{ type: 'ENERGY', price: 0.5, step_size: 1 }] },
      ],
    };
    // 2025-06-02 22:00 to 2025-06-03 02:00 Berlin: free until local midnight (22:00Z).
    expect(quote(tariff, chargingSession(4, 4, '2025-06-02T20:00:00Z')).total_cost.excl_vat).toBe('1.00');
  });

  it('kWh tiers: min_kwh inclusive, max_kwh exclusive, on energy charged so far, splitting inside a period', () => {
    const tariff = {
      id: 'tiers',
      currency: 'EUR',
      elements: [
        { price_components: [{ type: 'ENERGY', price: 0.3, step_size: 1 }], restrictions: { max_kwh: 10 } },
        { price_components: [{ type: 'ENERGY', price: 0.2, step_size: 1 }], restrictions: { min_kwh: 10, max_kwh: 20 } },
        { price_components: [{ type: 'ENERGY', price: 0.1, step_size: 1 }] },
      ],
    };
    const result = quote(tariff, chargingSession(25, 5));
    expect(result.lines.map((l) => [l.period_start, l.quantity, l.unit_price])).toEqual([
      ['2025-06-02T08:00:00Z', '10', '0.3'],
      ['2025-06-02T10:00:00Z', '10', '0.2'],
      ['2025-06-02T12:00:00Z', '5', '0.1'],
    ]);
    expect(result.total_cost.excl_vat).toBe('5.50');
  });

  it('kWh threshold also switches TIME prices, splitting charging time at the crossing instant', () => {
    const tariff = {
      id: 'after-10-kwh',
      currency: 'EUR',
      elements: [
        { price_components: [{ type: 'TIME', price: 3, step_size: 1 }], restrictions: { min_kwh: 10 } },
        { price_components: [{ type: 'TIME', price: 1, step_size: 1 }] },
      ],
    };
    // 20 kWh over 2 h: 10 kWh reached after exactly 1 h.
    expect(quote(tariff, chargingSession(20, 2)).total_cost.excl_vat).toBe('4.00');
  });

  it('duration (OCPI max_duration example): first 30 min free, then 0.25/kWh, 0.40/kWh after 60 min: 0.30', () => {
    const tariff = {
      id: 'supermarket',
      currency: 'EUR',
      elements: [
        { price_components: [{ type: 'ENERGY', price: 0, step_size: 1 }], restrictions: { max_duration: 1800 } },
        { price_components: [{ type: 'ENERGY', price: 0.25, step_size: 1 }], restrictions: { max_duration: 3600 } },
        { price_components: [{ type: 'ENERGY', price: 0.4, step_size: 1 }] },
      ],
    };
    const session = {
      start_date_time: '2025-06-02T08:00:00Z',
      end_date_time: '2025-06-02T08:40:00Z',
      time_zone: 'Europe/Berlin',
      charging_periods: [
        {
          start_date_time: '2025-06-02T08:00:00Z',
          dimensions: [
            { type: 'ENERGY', volume: 5 },
            { type: 'TIME', volume: 0.5 },
          ],
        },
        {
          start_date_time: '2025-06-02T08:30:00Z',
          dimensions: [
            { type: 'ENERGY', volume: 1.2 },
            { type: 'TIME', volume: '0.1666666667' },
          ],
        },
      ],
    };
    expect(totals(quote(tariff, session))).toEqual(['0.30', '0.30']);
    // One coarse 90-minute period of 9 kWh: 3 kWh free, 3 kWh at 0.25, 3 kWh at 0.40.
    expect(quote(tariff, chargingSession(9, 1.5)).total_cost.excl_vat).toBe('1.95');
  });

  it('power tiers (OCPI max_power example): 1 kWh at 6 kW, 40 kWh at 48 kW, 0.5 kWh at 4 kW: 20.30', () => {
    const tariff = {
      id: 'power',
      currency: 'EUR',
      elements: [
        { price_components: [{ type: 'ENERGY', price: 0.2, step_size: 1 }], restrictions: { max_power: 16 } },
        { price_components: [{ type: 'ENERGY', price: 0.35, step_size: 1 }], restrictions: { max_power: 32 } },
        { price_components: [{ type: 'ENERGY', price: 0.5, step_size: 1 }] },
      ],
    };
    const period = (start: string, kwh: number, hours: string, kw: number) => ({
      start_date_time: start,
      dimensions: [
        { type: 'ENERGY', volume: kwh },
        { type: 'TIME', volume: hours },
        { type: 'MIN_POWER', volume: kw },
        { type: 'MAX_POWER', volume: kw },
      ],
    });
    const session = {
      start_date_time: '2025-06-02T08:00:00Z',
      end_date_time: '2025-06-02T09:07:30Z',
      time_zone: 'Europe/Berlin',
      charging_periods: [
        period('2025-06-02T08:00:00Z', 1, '0.1666666667', 6),
        period('2025-06-02T08:10:00Z', 40, '0.8333333333', 48),
        period('2025-06-02T09:00:00Z', 0.5, '0.125', 4),
      ],
    };
    const result = quote(tariff, session);
    expect(result.lines.map((l) => l.unit_price)).toEqual(['0.2', '0.5', '0.2']);
    expect(totals(result)).toEqual(['20.30', '20.30']);
  });

  it('current tiers use the summed current (CURRENT dimension); max_current is exclusive', () => {
    const tariff = {
      id: 'current',
      currency: 'EUR',
      elements: [
        { price_components: [{ type: 'TIME', price: 1, step_size: 1 }], restrictions: { max_current: 32 } },
        { price_components: [{ type: 'TIME', price: 2, step_size: 1 }] },
      ],
    };
    const session = {
      start_date_time: '2025-06-02T08:00:00Z',
      end_date_time: '2025-06-02T10:00:00Z',
      time_zone: 'Europe/Berlin',
      charging_periods: [
        {
          start_date_time: '2025-06-02T08:00:00Z',
          dimensions: [
            { type: 'TIME', volume: 1 },
            { type: 'CURRENT', volume: 16 },
          ],
        },
        {
          start_date_time: '2025-06-02T09:00:00Z',
          dimensions: [
            { type: 'TIME', volume: 1 },
            { type: 'CURRENT', volume: 32 },
          ],
        },
      ],
    };
    expect(quote(tariff, session).total_cost.excl_vat).toBe('3.00');
  });

  it('reservation (OCPI tariff_16): 2.00 fee + 5.00/h step 5 min, 13 min reserved, then 20 kWh: 8.75 / 10.00', () => {
    const tariff = {
      id: '16',
      currency: 'EUR',
      elements: [
        {
          price_components: [
            { type: 'FLAT', price: 2, vat: 20, step_size: 1 },
            { type: 'TIME', price: 5, vat: 20, step_size: 300 },
          ],
          restrictions: { reservation: 'RESERVATION' },
        },
        {
          price_components: [
            { type: 'FLAT', price: 0.5, vat: 20, step_size: 1 },
            { type: 'ENERGY', price: 0.25, vat: 10, step_size: 1 },
          ],
        },
      ],
    };
    const session = {
      start_date_time: '2025-06-02T08:00:00Z',
      end_date_time: '2025-06-02T10:13:00Z',
      time_zone: 'Europe/Berlin',
      reservation: 'RESERVATION',
      charging_periods: [
        { start_date_time: '2025-06-02T08:00:00Z', dimensions: [{ type: 'RESERVATION_TIME', volume: '0.2166666667' }] },
        {
          start_date_time: '2025-06-02T08:13:00Z',
          dimensions: [
            { type: 'ENERGY', volume: 20 },
            { type: 'TIME', volume: 2 },
          ],
        },
      ],
    };
    const result = quote(tariff, session);
    expect(totals(result)).toEqual(['8.75', '10.00']);
    expect(result.total_reservation_cost).toEqual({ excl_vat: '3.2500', incl_vat: '3.9000' });
    expect(result.lines.filter((l) => l.reservation).map((l) => [l.dimension, l.quantity])).toEqual([
      ['FLAT', '1'],
      ['TIME', '0.25'],
    ]);
  });

  it('expired reservation (OCPI tariff_17): 1 h reserved, no charging: 6.00 / 7.20, no start fee', () => {
    const tariff = {
      id: '17',
      currency: 'EUR',
      elements: [
        { price_components: [{ type: 'FLAT', price: 4, vat: 20, step_size: 1 }], restrictions: { reservation: 'RESERVATION_EXPIRES' } },
        { price_components: [{ type: 'TIME', price: 2, vat: 20, step_size: 600 }], restrictions: { reservation: 'RESERVATION' } },
        {
          price_components: [
            { type: 'FLAT', price: 0.5, vat: 20, step_size: 1 },
            { type: 'ENERGY', price: 0.25, vat: 10, step_size: 1 },
          ],
        },
      ],
    };
    const session = {
      start_date_time: '2025-06-02T08:00:00Z',
      end_date_time: '2025-06-02T09:00:00Z',
      time_zone: 'Europe/Berlin',
      reservation: 'RESERVATION_EXPIRES',
      charging_periods: [{ start_date_time: '2025-06-02T08:00:00Z', dimensions: [{ type: 'RESERVATION_TIME', volume: 1 }] }],
    };
    const result = quote(tariff, session);
    expect(totals(result)).toEqual(['6.00', '7.20']);
    expect(result.total_fixed_cost.excl_vat).toBe('0.0000');
  });
});

describe('daylight saving time nights', () => {
  const timeTariff = (cheap: { start_time: string; end_time: string }) => ({
    id: 'tod',
    currency: 'EUR',
    elements: [
      { price_components: [{ type: 'TIME', price: 1, step_size: 1 }], restrictions: cheap },
      { price_components: [{ type: 'TIME', price: 2, step_size: 1 }] },
    ],
  });

  it('Europe/Berlin spring forward (2025-03-30): 00:00-03:00 local lasts only 2 real hours', () => {
    // 00:00 CET (23:00Z) to 06:00 CEST (04:00Z) is 5 real hours; the clock jumps 02:00 -> 03:00 at 01:00Z.
    const result = quote(timeTariff({ start_time: '00:00', end_time: '03:00' }), chargingSession(0, 5, '2025-03-29T23:00:00Z'));
    expect(result.lines.map((l) => [l.period_start, l.period_end, l.unit_price])).toEqual([
      ['2025-03-29T23:00:00Z', '2025-03-30T01:00:00Z', '1'],
      ['2025-03-30T01:00:00Z', '2025-03-30T04:00:00Z', '2'],
    ]);
    expect(result.total_cost.excl_vat).toBe('8.00'); // 2 h x 1 + 3 h x 2 (a fixed +01:00 offset would give 7.00)
  });

  it('Europe/Berlin fall back (2025-10-26): 02:00-02:30 happens twice and is cheap both times', () => {
    // 00:00 CEST (22:00Z) to 06:00 CET (05:00Z) is 7 real hours; at 01:00Z the clock goes 03:00 -> 02:00.
    const result = quote(timeTariff({ start_time: '00:00', end_time: '02:30' }), chargingSession(0, 7, '2025-10-25T22:00:00Z'));
    expect(result.lines.map((l) => [l.period_start, l.unit_price])).toEqual([
      ['2025-10-25T22:00:00Z', '1'], // 00:00-02:30 CEST
      ['2025-10-26T00:30:00Z', '2'], // 02:30-03:00 CEST
      ['2025-10-26T01:00:00Z', '1'], // 02:00-02:30 CET, the repeated half hour
      ['2025-10-26T01:30:00Z', '2'], // 02:30-06:00 CET
    ]);
    expect(result.total_cost.excl_vat).toBe('11.00'); // 3 h x 1 + 4 h x 2
  });

  it('America/New_York spring forward (2025-03-09): off-peak 22:00-02:30 wraps midnight and loses 02:00-02:30', () => {
    const tariff = {
      id: 'ny',
      currency: 'USD',
      elements: [
        { price_components: [{ type: 'ENERGY', price: 0.1, step_size: 1 }], restrictions: { start_time: '22:00', end_time: '02:30' } },
        { price_components: [{ type: 'ENERGY', price: 0.3, step_size: 1 }] },
      ],
    };
    // Sat 23:00 EST (04:00Z) to Sun 04:00 EDT (08:00Z): 4 real hours, 40 kWh evenly; 02:00 EST -> 03:00 EDT at 07:00Z.
    const result = quote(tariff, chargingSession(40, 4, '2025-03-09T04:00:00Z', 'America/New_York'));
    expect(result.lines.map((l) => [l.period_start, l.quantity, l.unit_price])).toEqual([
      ['2025-03-09T04:00:00Z', '30', '0.1'],
      ['2025-03-09T07:00:00Z', '10', '0.3'],
    ]);
    expect(totals(result)).toEqual(['6.00', '6.00']);
  });

  it('America/New_York fall back (2025-11-02): 01:00-02:00 happens twice and is peak both times', () => {
    const tariff = {
      id: 'ny-peak',
      currency: 'USD',
      elements: [
        { price_components: [{ type: 'TIME', price: 3, step_size: 1 }], restrictions: { start_time: '01:00', end_time: '02:00' } },
        { price_components: [{ type: 'TIME', price: 1, step_size: 1 }] },
      ],
    };
    // 00:00 EDT (04:00Z) to 03:00 EST (08:00Z) is 4 real hours; 02:00 EDT -> 01:00 EST at 06:00Z.
    const result = quote(tariff, chargingSession(0, 4, '2025-11-02T04:00:00Z', 'America/New_York'));
    expect(result.lines.map((l) => [l.period_start, l.period_end, l.unit_price])).toEqual([
      ['2025-11-02T04:00:00Z', '2025-11-02T05:00:00Z', '1'],
      ['2025-11-02T05:00:00Z', '2025-11-02T07:00:00Z', '3'],
      ['2025-11-02T07:00:00Z', '2025-11-02T08:00:00Z', '1'],
    ]);
    expect(result.total_cost.excl_vat).toBe('8.00');
  });
});

describe('input validation', () => {
  const tariff = { id: 't', currency: 'EUR', elements: [{ price_components: [{ type: 'ENERGY', price: 0.25, step_size: 1 }] }] };
  const fieldOf = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      expect(error).toBeInstanceOf(QuoteInputError);
      return [(error as QuoteInputError).field, (error as Error).message];
    }
    throw new Error('expected a QuoteInputError');
  };

  it('names tariff fields under "tariff."', () => {
    const bad = { ...tariff, elements: [{ price_components: [{ type: 'ENERGY', price: 0.25, step_size: -1 }] }] };
    expect(fieldOf(() => quote(bad, chargingSession(1)))).toEqual([
      'tariff.elements[0].price_components[0].step_size',
      'tariff.elements[0].price_components[0].step_size: expected a whole number of at least 0, got number -1',
    ]);
  });

  it('rejects an unknown time zone', () => {
    const [field, message] = fieldOf(() => quote(tariff, { ...chargingSession(1), time_zone: 'Europe/Berlim' }));
    expect(field).toBe('session.time_zone');
    expect(message).toContain('unknown IANA time zone "Europe/Berlim"');
  });

  it('rejects periods out of order, a gap at the start, and TIME that disagrees with the clock', () => {
    const session = chargingSession(1, 2);
    const second = { start_date_time: '2025-06-02T07:00:00Z', dimensions: [{ type: 'TIME', volume: 1 }] };
    expect(fieldOf(() => quote(tariff, { ...session, charging_periods: [...session.charging_periods, second] }))[0]).toBe(
      'session.charging_periods[1].start_date_time',
    );
    expect(fieldOf(() => quote(tariff, { ...session, start_date_time: '2025-06-02T07:00:00Z' }))[0]).toBe('session.charging_periods[0].start_date_time');
    const [field, message] = fieldOf(() =>
      quote(tariff, {
        ...session,
        charging_periods: [{ start_date_time: session.start_date_time, dimensions: [{ type: 'TIME', volume: 1.5 }] }],
      }),
    );
    expect(field).toBe('session.charging_periods[0].dimensions[0].volume');
    expect(message).toContain("does not match the period's length of 7200 s");
  });

  it('rejects a period that is both charging and parking, and a missing dimension volume', () => {
    const session = chargingSession(1, 1);
    const both = {
      start_date_time: session.start_date_time,
      dimensions: [
        { type: 'TIME', volume: 1 },
        { type: 'PARKING_TIME', volume: 1 },
      ],
    };
    expect(fieldOf(() => quote(tariff, { ...session, charging_periods: [both] }))[0]).toBe('session.charging_periods[0].dimensions');
    const noVolume = { start_date_time: session.start_date_time, dimensions: [{ type: 'ENERGY' }] };
    expect(fieldOf(() => quote(tariff, { ...session, charging_periods: [noVolume] }))).toEqual([
      'session.charging_periods[0].dimensions[0].volume',
      'session.charging_periods[0].dimensions[0].volume: expected a decimal number (JSON number or string like "0.25"), got nothing (field missing)',
    ]);
  });
});

describe('runQuoteCommand (chargebench quote)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chargebench-quote-'));
  const write = (name: string, value: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
    return path;
  };
  const capture = () => {
    const out = { stdout: '', stderr: '' };
    return { out, io: { stdout: { write: (t: string) => (out.stdout += t) }, stderr: { write: (t: string) => (out.stderr += t) } } };
  };
  const tariffPath = write('tariff.json', {
    id: '8',
    currency: 'EUR',
    elements: [{ price_components: [{ type: 'ENERGY', price: 0.25, vat: 10, step_size: 1 }] }],
  });
  const sessionPath = write('session.json', chargingSession(20));

  it('prints the cost breakdown and exits 0', () => {
    const { out, io } = capture();
    expect(runQuoteCommand({ tariff: tariffPath, session: sessionPath }, io)).toBe(0);
    expect(JSON.parse(out.stdout).total_cost).toEqual({ excl_vat: '5.00', incl_vat: '5.50' });
  });

  it('exits 2 with a message naming the problem for invalid JSON, a missing file or a missing option', () => {
    const broken = capture();
    expect(runQuoteCommand({ tariff: write('broken.json', '{"id":'), session: sessionPath }, broken.io)).toBe(2);
    expect(broken.out.stderr).toContain('is not valid JSON');
    const missing = capture();
    expect(runQuoteCommand({ tariff: join(dir, 'nope.json'), session: sessionPath }, missing.io)).toBe(2);
    expect(missing.out.stderr).toContain('cannot read --tariff file');
    const usage = capture();
    expect(runQuoteCommand({ tariff: tariffPath }, usage.io)).toBe(2);
    expect(usage.out.stderr).toContain('usage: chargebench quote');
  });
});
