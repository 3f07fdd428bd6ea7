// Contracts between the fleet simulator and whoever drives it (the scenario runner).
// The simulator knows nothing of the back end; it only speaks OCPP to a URL.

export interface ChargerSpec {
  id: string;
  connectors: number;
  /** EVSE limit per connector, watts. */
  maxPowerW: number;
  vendor?: string;
  model?: string;
}

export interface EvProfile {
  /** Battery capacity range in Wh; each EV draws uniformly from [min, max]. */
  capacityWh: [number, number];
  /** Initial state of charge range, percent. */
  initialSocPct: [number, number];
  /** Target state of charge range, percent. */
  targetSocPct: [number, number];
  /** On-board charger limit range in watts. */
  maxPowerW: [number, number];
}

export interface DriverProfile {
  /** Mean arrivals per connector per simulated hour (Poisson). */
  arrivalsPerConnectorPerHour: number;
  /** How long a driver stays plugged in, simulated minutes, uniform in [min, max]. */
  dwellMinutes: [number, number];
}

export interface FleetConfig {
  /** OCPP endpoint without the charger id, e.g. ws://127.0.0.1:8180/ocpp */
  targetUrl: string;
  chargers: ChargerSpec[];
  /** idTags the drivers use; each driver picks one deterministically. */
  tokens: string[];
  seed: number;
  /** ISO instant at which simulated time starts. */
  simStart: string;
  /** Simulated seconds per wall second. */
  speed: number;
  /** Simulated seconds during which drivers arrive; sessions still open then are stopped by their drivers. */
  durationSimSec: number;
  ev: EvProfile;
  drivers: DriverProfile;
  /** Simulated seconds between MeterValues during a transaction. */
  meterValueSampleIntervalSec: number;
  /** Wall milliseconds before an unanswered CALL counts as timed out. */
  callTimeoutMs: number;
  /** Number of worker threads; defaults to the number of CPUs. */
  workers?: number;
  /** Spread client sockets over 127.0.0.x source addresses when the target is on loopback. */
  spreadLoopbackSources?: boolean;
  /** Wall ms between starting the fleet and sim time starting, so chargers can connect and boot first (added by sim; default 1000 + 1 ms per charger, at most 10 s). */
  startLeadMs?: number;
  /** Mask client frames with an all-zero key, which spares a copy and XOR per frame (added by sim; default true; false = random masks). */
  zeroMaskFrames?: boolean;
}

export type ChargeState = 'charging' | 'parking';

/** One stretch of a truth session with constant state, as the simulator lived it. */
export interface TruthInterval {
  /** ISO sim-time start (inclusive). The interval ends where the next begins, or at stopAt. */
  from: string;
  state: ChargeState;
  /** Exact energy delivered during the interval, in Wh at register resolution (integer Wh). */
  energyWh: number;
  /** Average power during the interval in W (for power restrictions). */
  avgPowerW: number;
}

/** Ground truth of one finished charging session: what really happened. */
export interface TruthSession {
  chargerId: string;
  connectorId: number;
  idTag: string;
  /** Transaction id the CSMS gave, or null if the start was never confirmed. */
  transactionId: number | null;
  plugInAt: string;
  startAt: string; // instant sent as StartTransaction.timestamp
  stopAt: string; // instant sent as StopTransaction.timestamp
  unplugAt: string;
  /** Meter register at start/stop, integer Wh (as sent on the wire). */
  meterStartWh: number;
  meterStopWh: number;
  /** Energy delivered between start and stop, integer Wh (= meterStopWh - meterStartWh for an honest meter). */
  energyWh: number;
  /** Seconds between start and stop with energy flowing (or requested), and plugged in without. */
  chargingSeconds: number;
  parkingSeconds: number;
  /** Consecutive stretches covering [startAt, stopAt). */
  timeline: TruthInterval[];
  stopReason: 'Local' | 'EVDisconnected' | 'Remote' | 'Other';
  /** The reason exactly as sent in StopTransaction (e.g. 'SoftReset', 'DeAuthorized'; added by sim). */
  wireStopReason?: string;
  /** Faults injected into this session's messages; empty for a clean session. */
  faults: string[];
}

/** Counters a worker reports every second and at the end. */
export interface FleetCounters {
  chargersConnected: number;
  sessionsActive: number;
  sessionsDone: number;
  calls: number;
  callErrors: number; // CALLERROR answers received
  timeouts: number;
  dropped: number; // work that could not start on time
  reconnects: number;
  transactions: number; // StartTransaction accepted
  /** CALLRESULT or CALLERROR received for one of our CALLs in time (added by sim). */
  answered?: number;
  /** CALLs received from the CSMS (added by sim). */
  incomingCalls?: number;
}

export interface FleetProgress {
  workerId: number;
  wallMs: number; // since fleet start
  simTime: string;
  counters: FleetCounters;
  /** Per OCPP action, hdr-histogram-js encodeIntoCompressedBase64 of latency in microseconds since the last report. */
  latencyDelta: Record<string, string>;
}

export interface FleetResult {
  workers: number;
  wallMs: number;
  counters: FleetCounters;
  /** Per OCPP action: merged latency histogram (µs, from the planned send time), compressed base64. */
  latency: Record<string, string>;
  /** Per OCPP action: merged service-time histogram (µs, from the actual send), compressed base64. */
  serviceTime: Record<string, string>;
  truth: TruthSession[];
  /** CPU time the fleet used (user+system, all workers and the main thread), microseconds. */
  cpuMicros: number;
  errors: Record<string, number>; // by kind
}
