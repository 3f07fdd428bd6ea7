// Proves a price per hour of charging (per started minute) is billed, and parking stays free.
import { defineScenario } from '../api.js';

export default defineScenario({
  name: 'time-only',
  description: 'TIME 2.40/h, VAT 19 %, step 60 s; EVs may finish and stand parked for free',
  seed: 102,
  sim: { start: '2026-03-03T09:00:00Z', speed: 1200, durationMinutes: 90 },
  location: { timeZone: 'Europe/Berlin' },
  chargers: { count: 15, connectors: 2, maxPowerKw: 11, idPrefix: 'TO' },
  tokens: { count: 100, prefix: 'TO' },
  drivers: { arrivalsPerConnectorPerHour: 1.2, dwellMinutes: [10, 80] },
  ev: { capacityKwh: [20, 50], initialSocPct: [30, 70], targetSocPct: [80, 90], maxPowerKw: [3.7, 11] },
  meterValueSampleIntervalSec: 300,
  tariff: { id: 'time-only', currency: 'EUR', elements: [{ price_components: [{ type: 'TIME', price: '2.40', vat: '19', step_size: 60 }] }] },
  thresholds: { 'sessions.mismatched': ['count==0'] },
});
