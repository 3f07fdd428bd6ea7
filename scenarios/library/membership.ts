// Proves a membership price: a group of tokens is billed with its own tariff, everyone else with the public one.
import { defineScenario } from '../api.js';

export default defineScenario({
  name: 'membership',
  description: 'Public: FLAT 1.00 + ENERGY 0.49/kWh; members (40 % of tokens): ENERGY 0.33/kWh, no session fee; VAT 19 %',
  seed: 112,
  sim: { start: '2026-03-03T12:00:00Z', speed: 1200, durationMinutes: 90 },
  location: { timeZone: 'Europe/Berlin' },
  chargers: { count: 15, connectors: 2, maxPowerKw: 11, idPrefix: 'MB' },
  tokens: { count: 50, prefix: 'MB' },
  drivers: { arrivalsPerConnectorPerHour: 1.2, dwellMinutes: [10, 60] },
  ev: { capacityKwh: [30, 60], initialSocPct: [10, 60], targetSocPct: [80, 95], maxPowerKw: [3.7, 11] },
  meterValueSampleIntervalSec: 300,
  tariff: {
    id: 'public-ac',
    currency: 'EUR',
    elements: [
      {
        price_components: [
          { type: 'FLAT', price: '1.00', vat: '19', step_size: 1 },
          { type: 'ENERGY', price: '0.49', vat: '19', step_size: 1 },
        ],
      },
    ],
  },
  memberships: [
    {
      group: 'members',
      tokenShare: 0.4,
      tariff: { id: 'members-ac', currency: 'EUR', elements: [{ price_components: [{ type: 'ENERGY', price: '0.33', vat: '19', step_size: 1 }] }] },
    },
  ],
  thresholds: { 'sessions.mismatched': ['count==0'] },
});
