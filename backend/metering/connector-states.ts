// The charging / parking meaning of an OCPP 1.6 connector status, as status_history keeps it.

/** Connector statuses that switch the session between TIME (charging) and PARKING_TIME. */
export function chargingStateOf(status: string): boolean | null {
  switch (status) {
    case 'Charging':
    case 'SuspendedEVSE':
      return true;
    case 'SuspendedEV':
    case 'Finishing':
      return false;
    default:
      return null; // Available, Preparing, Reserved, Unavailable, Faulted: no change
  }
}
