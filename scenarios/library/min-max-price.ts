// Proves min_price and max_price: short top-ups are raised to the minimum, long DC sessions capped at the maximum.
import { defineScenario } from '../api.js';

export default defineScenario({
  name: 'min-max-price',
  description: 'ENERGY 0.30/kWh VAT 19 %; min_price 3.00 / 3.57; max_price 12.00 without incl_vat (caps both totals)',
  seed: 108,
  sim: { start: '2026-03-05T08:00:00Z', speed: 1200, durationMinutes: 120 },
  location: { timeZone: 'Europe/Berlin' },
  chargers: { count: 15, connectors: 2, maxPowerKw: 50, idPrefix: 'MM' },
  tokens: { count: 100, prefix: 'MM' },
  drivers: { arrivalsPerConnectorPerHour: 1, dwellMinutes: [3, 100] },
  ev: { capacityKwh: [40, 90], initialSocPct: [5, 60], targetSocPct: [80, 100], maxPowerKw: [11, 50] },
  meterValueSampleIntervalSec: 300,
  tariff: {
    id: 'min-max-price',
    currency: 'EUR',
    min_price: { excl_vat: '3.00', incl_vat: '3.57' },
    max_price: { excl_vat: '12.00' },
    elements: [{ price_components: [{ type: 'ENERGY', price: '0.30', vat: '19', step_size: 1 }] }],
  },
  thresholds: { 'sessions.mismatched': ['count==0'] },
});
