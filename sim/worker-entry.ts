// piscina worker entry: one long-lived task per worker thread, hosting its worker fleet (its part of the chargers).

import { runWorkerFleet, type WorkerFleetResult, type WorkerFleetTask } from './worker-fleet.js';

export default function workerEntry(task: WorkerFleetTask): Promise<WorkerFleetResult> {
  return runWorkerFleet(task);
}
