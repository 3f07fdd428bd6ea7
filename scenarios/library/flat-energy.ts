// Proves a session fee (FLAT, charged once) plus a price per kWh, with different VAT rates.
import { defineScenario } from '../api.js';

export default defineScenario({
  name: 'flat-energy',
  description: 'FLAT 1.50 (VAT 20 %) + ENERGY 0.42/kWh (VAT 10 %)',
  seed: 104,
  sim: { start: '2026-03-04T07:00:00Z', speed: 1200, durationMinutes: 90 },
  location: { timeZone: 'Europe/Berlin' },
  chargers: { count: 15, connectors: 2, maxPowerKw: 22, idPrefix: 'FE' },
  tokens: { count: 100, prefix: 'FE' },
  drivers: { arrivalsPerConnectorPerHour: 1.2, dwellMinutes: [10, 60] },
  ev: { capacityKwh: [30, 60], initialSocPct: [10, 60], targetSocPct: [80, 95], maxPowerKw: [7.4, 22] },
  meterValueSampleIntervalSec: 300,
  tariff: {
    id: 'flat-energy',
    currency: 'EUR',
    elements: [
      {
        price_components: [
          { type: 'FLAT', price: '1.50', vat: '20', step_size: 1 },
          { type: 'ENERGY', price: '0.42', vat: '10', step_size: 1 },
        ],
      },
    ],
  },
  thresholds: { 'sessions.mismatched': ['count==0'] },
});
