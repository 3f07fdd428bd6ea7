// Proves step_size once per session: energy in 500 Wh steps, charging time in 15 min, parking in 5 min.
import { defineScenario } from '../api.js';

export default defineScenario({
  name: 'step-sizes',
  description: 'ENERGY 0.35/kWh step 500 Wh, TIME 1.20/h step 900 s, PARKING_TIME 4.80/h step 300 s, VAT 19 %',
  seed: 109,
  sim: { start: '2026-03-05T12:00:00Z', speed: 1200, durationMinutes: 120 },
  location: { timeZone: 'Europe/Berlin' },
  chargers: { count: 15, connectors: 2, maxPowerKw: 11, idPrefix: 'SS' },
  tokens: { count: 100, prefix: 'SS' },
  drivers: { arrivalsPerConnectorPerHour: 0.9, dwellMinutes: [15, 110] },
  ev: { capacityKwh: [20, 50], initialSocPct: [30, 70], targetSocPct: [80, 90], maxPowerKw: [7, 11] },
  meterValueSampleIntervalSec: 300,
  tariff: {
    id: 'step-sizes',
    currency: 'EUR',
    elements: [
      {
        price_components: [
          { type: 'ENERGY', price: '0.35', vat: '19', step_size: 500 },
          { type: 'TIME', price: '1.20', vat: '19', step_size: 900 },
          { type: 'PARKING_TIME', price: '4.80', vat: '19', step_size: 300 },
        ],
      },
    ],
  },
  thresholds: { 'sessions.mismatched': ['count==0'] },
});
