// One simulated charge point (sim/charger/charger.ts) and what its worker fleet needs of it.

export { Charger } from './charger.js';
export type { ChargerContext, Connector, Visit } from './model.js';
