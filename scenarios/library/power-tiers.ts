// Proves prices by instantaneous power at 150 kW DC: tiers by min_power/max_power follow each EV's limit and taper.
import { defineScenario } from '../api.js';

export default defineScenario({
  name: 'power-tiers',
  description: 'DC 150 kW; ENERGY 0.69 from 100 kW, 0.59 from 50 kW below 100 kW, 0.49 below 50 kW; session fee 0.99',
  seed: 107,
  sim: { start: '2026-03-04T11:00:00Z', speed: 1200, durationMinutes: 90 },
  location: { timeZone: 'Europe/Berlin' },
  chargers: { count: 12, connectors: 2, maxPowerKw: 150, idPrefix: 'PT' },
  tokens: { count: 100, prefix: 'PT' },
  drivers: { arrivalsPerConnectorPerHour: 1.2, dwellMinutes: [10, 45] },
  // On-board limits from 40 to 150 kW; charging past 80 % tapers power through the tiers.
  ev: { capacityKwh: [50, 90], initialSocPct: [20, 70], targetSocPct: [85, 100], maxPowerKw: [40, 150] },
  meterValueSampleIntervalSec: 120,
  tariff: {
    id: 'power-tiers',
    currency: 'EUR',
    elements: [
      { price_components: [{ type: 'FLAT', price: '0.99', vat: '19', step_size: 1 }] },
      { price_components: [{ type: 'ENERGY', price: '0.69', vat: '19', step_size: 1 }], restrictions: { min_power: 100 } },
      { price_components: [{ type: 'ENERGY', price: '0.59', vat: '19', step_size: 1 }], restrictions: { min_power: 50, max_power: 100 } },
      { price_components: [{ type: 'ENERGY', price: '0.49', vat: '19', step_size: 1 }], restrictions: { max_power: 50 } },
    ],
  },
  thresholds: { 'sessions.mismatched': ['count==0'] },
});
