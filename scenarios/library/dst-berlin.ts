// Proves local-time prices on the night Berlin falls back (2026-10-25): 02:00-03:00 local happens twice and is priced twice.
import { defineScenario } from '../api.js';

export default defineScenario({
  name: 'dst-berlin',
  description:
    'Europe/Berlin 2026-10-25 01:00-04:00 local (3:00 CEST -> 2:00 CET); ENERGY 0.15 + TIME 0.90/h from 02:00 to 03:00, 0.25 from 01:00 to 04:00, else 0.35',
  seed: 110,
  // 23:00Z = 01:00 CEST; clocks go back at 01:00Z; the run ends at 03:00Z = 04:00 CET.
  sim: { start: '2026-10-24T23:00:00Z', speed: 2400, durationMinutes: 240 },
  location: { timeZone: 'Europe/Berlin' },
  chargers: { count: 12, connectors: 2, maxPowerKw: 11, idPrefix: 'DB' },
  tokens: { count: 100, prefix: 'DB' },
  drivers: { arrivalsPerConnectorPerHour: 0.6, dwellMinutes: [30, 150] },
  ev: { capacityKwh: [40, 70], initialSocPct: [10, 50], targetSocPct: [80, 95], maxPowerKw: [7, 11] },
  meterValueSampleIntervalSec: 300,
  tariff: {
    id: 'dst-berlin',
    currency: 'EUR',
    elements: [
      {
        price_components: [
          { type: 'ENERGY', price: '0.15', vat: '19', step_size: 1 },
          { type: 'TIME', price: '0.90', vat: '19', step_size: 60 },
        ],
        restrictions: { start_time: '02:00', end_time: '03:00' },
      },
      { price_components: [{ type: 'ENERGY', price: '0.25', vat: '19', step_size: 1 }], restrictions: { start_time: '01:00', end_time: '04:00' } },
      { price_components: [{ type: 'ENERGY', price: '0.35', vat: '19', step_size: 1 }] },
    ],
  },
  thresholds: { 'sessions.mismatched': ['count==0'] },
});
