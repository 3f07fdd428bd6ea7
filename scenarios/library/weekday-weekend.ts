// Proves weekday vs weekend prices by the LOCAL weekday: Friday evening sessions run into Saturday.
import { defineScenario } from '../api.js';

export default defineScenario({
  name: 'weekday-weekend',
  description: 'Weekend (SAT, SUN) ENERGY 0.29 + TIME 0.60/h; otherwise ENERGY 0.39 + TIME 1.20/h; Friday 22:00 to Saturday 01:00 Berlin',
  seed: 106,
  // 2026-03-06 is a Friday; 21:00Z = 22:00 local.
  sim: { start: '2026-03-06T21:00:00Z', speed: 2400, durationMinutes: 180 },
  location: { timeZone: 'Europe/Berlin' },
  chargers: { count: 15, connectors: 2, maxPowerKw: 11, idPrefix: 'WW' },
  tokens: { count: 100, prefix: 'WW' },
  drivers: { arrivalsPerConnectorPerHour: 0.7, dwellMinutes: [30, 120] },
  ev: { capacityKwh: [40, 70], initialSocPct: [10, 50], targetSocPct: [80, 95], maxPowerKw: [7, 11] },
  meterValueSampleIntervalSec: 300,
  tariff: {
    id: 'weekday-weekend',
    currency: 'EUR',
    elements: [
      {
        price_components: [
          { type: 'ENERGY', price: '0.29', vat: '19', step_size: 1 },
          { type: 'TIME', price: '0.60', vat: '19', step_size: 60 },
        ],
        restrictions: { day_of_week: ['SATURDAY', 'SUNDAY'] },
      },
      {
        price_components: [
          { type: 'ENERGY', price: '0.39', vat: '19', step_size: 1 },
          { type: 'TIME', price: '1.20', vat: '19', step_size: 60 },
        ],
      },
    ],
  },
  thresholds: { 'sessions.mismatched': ['count==0'] },
});
