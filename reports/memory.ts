// The fleet's memory per connected charger: RSS growth from before the chargers to the end of
// arrivals, divided by the most chargers connected at once. On a small fleet the growth is lost
// in the runtime's own heap and allocator movements (it may even be negative), so below a size
// the figure is not given as a number but as the reason it cannot be measured.

import type { Summary } from './model.js';
import { formatNumber } from './format.js';

/** Fewest connected chargers for which the per-charger growth stands above the runtime's own noise. */
export const MIN_CHARGERS_FOR_MEMORY = 100;

export type MemoryFigure = Pick<Summary['resources'], 'fleetBytesPerCharger' | 'fleetBytesPerChargerUnmeasured'>;

/** The figure for summary.json: absent when the RSS is unknown, null with a reason when it cannot be measured. */
export function memoryPerCharger(baselineBytes: number | undefined, loadedBytes: number | undefined, connectedMax: number): MemoryFigure {
  if (baselineBytes === undefined || loadedBytes === undefined || !(connectedMax > 0)) return {};
  const growth = loadedBytes - baselineBytes;
  if (connectedMax < MIN_CHARGERS_FOR_MEMORY) {
    return {
      fleetBytesPerCharger: null,
      fleetBytesPerChargerUnmeasured: `${formatNumber(connectedMax)} chargers connected, fewer than the ${MIN_CHARGERS_FOR_MEMORY} the figure needs`,
    };
  }
  if (growth <= 0) {
    return { fleetBytesPerCharger: null, fleetBytesPerChargerUnmeasured: `the fleet's RSS did not grow with its ${formatNumber(connectedMax)} chargers` };
  }
  return { fleetBytesPerCharger: Math.round(growth / connectedMax) };
}

/** The figure as the reports say it: "52.1 KB per connected charger", or why it cannot be measured. */
export function memoryText(r: Summary['resources'] | undefined): string | null {
  if (!r) return null;
  const perCharger = r.fleetBytesPerCharger;
  if (typeof perCharger === 'number' && perCharger > 0) return `${formatNumber(perCharger / 1024, 1)} KB per connected charger`;
  // Older summaries wrote a negative number here: it could not be measured either.
  if (perCharger === null || typeof perCharger === 'number') {
    return `per connected charger cannot be measured at this size${r.fleetBytesPerChargerUnmeasured ? `: ${r.fleetBytesPerChargerUnmeasured}` : ''}`;
  }
  return null;
}
