// Chargers that behave like an OCPP 1.6 simulator written by somebody else: register readings in
// Wh with two decimals (meterStart and meterStop stay whole Wh, so the last reading is a fraction
// of a Wh above meterStop), StatusNotifications without a timestamp, and a crash of every
// charger twice that loses the transactions under way (a reading at the crash instant, no
// StopTransaction, then a reboot). Every session, lost ones included, must be billed exactly.
import { defineScenario } from '../api.js';

export default defineScenario({
  name: 'foreign-charger',
  description:
    'decimal registers, no status timestamps, two crashes of every charger; FLAT 0.50 + ENERGY 0.39/kWh + TIME 1.20/h + PARKING_TIME 6.00/h (step 60 s), VAT 19 %',
  seed: 113,
  sim: { start: '2026-03-04T09:00:00Z', speed: 450, durationMinutes: 200 },
  location: { timeZone: 'Europe/Berlin' },
  chargers: {
    count: 20,
    connectors: 2,
    maxPowerKw: 11,
    idPrefix: 'FC',
    transactionMessages: 'full',
    // The cost messages are chargebench's own display extension, which such a charger does not have.
    costDisplay: false,
    behaviour: { registerDecimals: 2, statusTimestamps: false, crashAtMinutes: [60, 130] },
  },
  tokens: { count: 100, prefix: 'FC' },
  drivers: { arrivalsPerConnectorPerHour: 1, dwellMinutes: [20, 75] },
  // 5-25 % of 20-30 kWh at 7-11 kW (5-65 minutes): most are full within the stay, then parked; some still charge at a crash.
  ev: { capacityKwh: [20, 30], initialSocPct: [60, 75], targetSocPct: [80, 85], maxPowerKw: [7, 11] },
  meterValueSampleIntervalSec: 300,
  tariff: {
    id: 'foreign-charger',
    currency: 'EUR',
    elements: [
      {
        price_components: [
          { type: 'FLAT', price: '0.50', vat: '19', step_size: 1 },
          { type: 'ENERGY', price: '0.39', vat: '19', step_size: 1 },
          { type: 'TIME', price: '1.20', vat: '19', step_size: 60 },
          { type: 'PARKING_TIME', price: '6.00', vat: '19', step_size: 60 },
        ],
      },
    ],
  },
  thresholds: { 'sessions.mismatched': ['count==0'] },
});
