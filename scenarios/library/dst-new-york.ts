// Proves local-time prices on the night New York springs forward (2026-03-08): 02:00-03:00 local never happens.
import { defineScenario } from '../api.js';

export default defineScenario({
  name: 'dst-new-york',
  description:
    'America/New_York 2026-03-08 00:00-05:00 local (2:00 EST -> 3:00 EDT); TIME 2.40/h 02:00-03:00 (a window that does not exist that night), ENERGY 0.18 01:00-03:30, else 0.28; USD',
  seed: 111,
  // 05:00Z = 00:00 EST; clocks jump at 07:00Z; the run ends at 09:00Z = 05:00 EDT.
  sim: { start: '2026-03-08T05:00:00Z', speed: 2400, durationMinutes: 240 },
  location: { timeZone: 'America/New_York' },
  chargers: { count: 12, connectors: 2, maxPowerKw: 11, idPrefix: 'NY' },
  tokens: { count: 100, prefix: 'NY' },
  drivers: { arrivalsPerConnectorPerHour: 0.6, dwellMinutes: [30, 150] },
  ev: { capacityKwh: [40, 70], initialSocPct: [10, 50], targetSocPct: [80, 95], maxPowerKw: [7, 11] },
  meterValueSampleIntervalSec: 300,
  tariff: {
    id: 'dst-new-york',
    currency: 'USD',
    elements: [
      { price_components: [{ type: 'TIME', price: '2.40', step_size: 60 }], restrictions: { start_time: '02:00', end_time: '03:00' } },
      { price_components: [{ type: 'ENERGY', price: '0.18', step_size: 1 }], restrictions: { start_time: '01:00', end_time: '03:30' } },
      { price_components: [{ type: 'ENERGY', price: '0.28', step_size: 1 }] },
    ],
  },
  thresholds: { 'sessions.mismatched': ['count==0'] },
});
