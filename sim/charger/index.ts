// One simulated charge point (sim/charger/charger.ts) and what its worker fleet needs of it.

export { Charger } from './charger.js';
export { SameInstant, type ChargerContext, type Connector, type Visit } from './model.js';
