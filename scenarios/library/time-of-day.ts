// Proves a price change at 17:00 local splits sessions that cross it: 0.20/kWh before, 0.27/kWh after.
import { defineScenario } from '../api.js';

export default defineScenario({
  name: 'time-of-day',
  description: 'ENERGY 0.20/kWh until 17:00, 0.27/kWh from 17:00 (Europe/Berlin); sim 16:00-18:00 local',
  seed: 105,
  // 2026-03-02 is in winter time: 15:00Z = 16:00 local.
  sim: { start: '2026-03-02T15:00:00Z', speed: 1200, durationMinutes: 120 },
  location: { timeZone: 'Europe/Berlin' },
  chargers: { count: 15, connectors: 2, maxPowerKw: 11, idPrefix: 'TD' },
  tokens: { count: 100, prefix: 'TD' },
  drivers: { arrivalsPerConnectorPerHour: 1, dwellMinutes: [20, 80] },
  ev: { capacityKwh: [40, 70], initialSocPct: [10, 50], targetSocPct: [80, 95], maxPowerKw: [7, 11] },
  meterValueSampleIntervalSec: 300,
  tariff: {
    id: 'time-of-day',
    currency: 'EUR',
    elements: [
      { price_components: [{ type: 'ENERGY', price: '0.20', vat: '19', step_size: 1 }], restrictions: { end_time: '17:00' } },
      { price_components: [{ type: 'ENERGY', price: '0.27', vat: '19', step_size: 1 }] },
    ],
  },
  thresholds: { 'sessions.mismatched': ['count==0'] },
});
