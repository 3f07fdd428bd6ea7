// Proves an idle fee: EVs that finish early and stay plugged in pay PARKING_TIME, charging time does not.
import { defineScenario } from '../api.js';

export default defineScenario({
  name: 'parking-fee',
  description: 'ENERGY 0.35/kWh + PARKING_TIME 9.00/h (step 60 s), VAT 19 %; small top-ups, long stays',
  seed: 103,
  sim: { start: '2026-03-03T10:00:00Z', speed: 1200, durationMinutes: 120 },
  location: { timeZone: 'Europe/Berlin' },
  chargers: { count: 15, connectors: 2, maxPowerKw: 11, idPrefix: 'PF' },
  tokens: { count: 100, prefix: 'PF' },
  drivers: { arrivalsPerConnectorPerHour: 0.8, dwellMinutes: [40, 110] },
  // 10-35 % of 20-40 kWh at 7-11 kW: full within the stay, then parked.
  ev: { capacityKwh: [20, 40], initialSocPct: [50, 70], targetSocPct: [80, 85], maxPowerKw: [7, 11] },
  meterValueSampleIntervalSec: 300,
  tariff: {
    id: 'parking-fee',
    currency: 'EUR',
    elements: [
      {
        price_components: [
          { type: 'ENERGY', price: '0.35', vat: '19', step_size: 1 },
          { type: 'PARKING_TIME', price: '9.00', vat: '19', step_size: 60 },
        ],
      },
    ],
  },
  thresholds: { 'sessions.mismatched': ['count==0'] },
});
