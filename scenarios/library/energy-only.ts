// Proves a plain price per kWh (with VAT) is billed to the cent, session by session.
import { defineScenario } from '../api.js';

export default defineScenario({
  name: 'energy-only',
  description: 'ENERGY 0.39/kWh, VAT 19 %, step 1 Wh; AC 11 kW',
  seed: 101,
  sim: { start: '2026-03-03T08:00:00Z', speed: 1200, durationMinutes: 90 },
  location: { timeZone: 'Europe/Berlin' },
  chargers: { count: 15, connectors: 2, maxPowerKw: 11, idPrefix: 'EO' },
  tokens: { count: 100, prefix: 'EO' },
  drivers: { arrivalsPerConnectorPerHour: 1.2, dwellMinutes: [10, 60] },
  ev: { capacityKwh: [30, 60], initialSocPct: [10, 60], targetSocPct: [80, 95], maxPowerKw: [3.7, 11] },
  meterValueSampleIntervalSec: 300,
  tariff: { id: 'energy-only', currency: 'EUR', elements: [{ price_components: [{ type: 'ENERGY', price: '0.39', vat: '19', step_size: 1 }] }] },
  thresholds: { 'sessions.mismatched': ['count==0'] },
});
