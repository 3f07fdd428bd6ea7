// The default scenario: a morning of public AC charging at 200 two-connector chargers,
// a tariff with a session fee, a price per kWh and a price per minute, every bill checked.
import { defineScenario } from '../api.js';

export default defineScenario({
  name: 'smoke',
  description: '200 AC chargers x 2 connectors, 2 simulated hours at 120x; session fee + per kWh + per minute, VAT 19 %',
  seed: 1,
  sim: { start: '2026-03-02T07:00:00Z', speed: 120, durationMinutes: 120 },
  location: { timeZone: 'Europe/Berlin' },
  chargers: { count: 200, connectors: 2, maxPowerKw: 11, idPrefix: 'CB' },
  tokens: { count: 1000, prefix: 'TAG' },
  drivers: { arrivalsPerConnectorPerHour: 0.6, dwellMinutes: [20, 150] },
  ev: { capacityKwh: [40, 82], initialSocPct: [10, 60], targetSocPct: [80, 100], maxPowerKw: [7.4, 11] },
  meterValueSampleIntervalSec: 300,
  tariff: {
    id: 'smoke-public-ac',
    currency: 'EUR',
    elements: [
      {
        price_components: [
          { type: 'FLAT', price: '0.50', vat: '19', step_size: 1 },
          { type: 'ENERGY', price: '0.39', vat: '19', step_size: 1 },
          // 0.03 per started minute, expressed per hour as OCPI does.
          { type: 'TIME', price: '1.80', vat: '19', step_size: 60 },
        ],
      },
    ],
  },
  thresholds: {
    'sessions.mismatched': ['count==0'],
    'latency.StartTransaction': ['p(99)<500'],
  },
});
