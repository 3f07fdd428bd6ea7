// Contracts between the fleet simulator and whoever drives it (the scenario runner).
// The simulator knows nothing of the back end; it only speaks OCPP to a URL.

import type { FaultConfig } from './faults/index.js';

/** OCPP versions the simulated chargers speak. */
export type OcppVersion = '1.6';

export interface ChargerSpec {
  id: string;
  /** The OCPP version this charger speaks (default '1.6'; see sim/dialects.ts). */
  ocppVersion?: OcppVersion;
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
  /**
   * Simulated seconds during which drivers arrive. Sessions still open then are stopped by their
   * drivers at that instant with per-connector arrivals; with a load model they run to their planned end.
   */
  durationSimSec: number;
  ev: EvProfile;
  drivers: DriverProfile;
  /** Simulated seconds between MeterValues during a transaction. */
  meterValueSampleIntervalSec: number;
  /**
   * 'full' (default): Preparing, Finishing and meter samples at the start and the stop; 'minimal': only the
   * calls a billed transaction needs, the closing reading inside StopTransaction (transactionData).
   */
  transactionMessages?: 'full' | 'minimal';
  /** Chargers show cost messages (default true); false: they answer them UnknownVendorId. */
  costDisplay?: boolean;
  /** Wall milliseconds before an unanswered CALL counts as timed out. */
  callTimeoutMs: number;
  /** Number of worker threads; default: one per CPU, half of them for a loopback target (see defaultWorkers). */
  workers?: number;
  /** Spread client sockets over 127.0.0.x source addresses when the target is on loopback. */
  spreadLoopbackSources?: boolean;
  /** Wall ms between starting the fleet and sim time starting, so chargers can connect and boot first (added by sim; default 1000 + 1 ms per charger, at most 10 s). */
  startLeadMs?: number;
  /** Mask client frames with an all-zero key, which spares a copy and XOR per frame (added by sim; default true; false = random masks). */
  zeroMaskFrames?: boolean;
  /** How driver arrivals are generated (default: per-connector Poisson from `drivers`). Session length is always `drivers.dwellMinutes`. */
  load?: LoadModel;
  /** Wall ms after sim start whose latency and throughput counts are discarded from the result (default 0). */
  warmUpMs?: number;
  /** New WebSocket connections per wall second across the fleet, so a large fleet does not SYN-flood the target (default 2000). */
  connectRatePerSec?: number;
  /**
   * This process is one of `count` shard processes (0-based `index`) of a larger fleet: its
   * open-model workers take fleet-wide arrivals index, index + count, ... (default: the whole plan).
   */
  arrivalSlice?: { index: number; count: number };
  /** Opt-in behaviours of chargers written by others (see ChargerBehaviour); absent = the fleet's own behaviour. */
  chargerBehaviour?: ChargerBehaviour;
  /** Faults to inject (sim/faults; none defined yet); absent = none. */
  faults?: FaultConfig;
}

/**
 * Behaviours real chargers show that the fleet's own chargers do not, each opt-in and drawn from
 * the seed. Every charger of the fleet behaves alike; the defaults are the fleet's own behaviour.
 */
export interface ChargerBehaviour {
  /**
   * Decimals (0..3, default 0) of every Energy.Active.Import.Register value in MeterValues and in
   * StopTransaction's transactionData: the register in Wh truncated from the exact joules.
   * meterStart and meterStop stay whole Wh (OCPP 1.6 makes them integers), so the last reading is
   * often a fraction of a Wh above meterStop. Truth is unchanged.
   */
  registerDecimals?: number;
  /** false: StatusNotification omits its optional timestamp (default true). */
  statusTimestamps?: boolean;
  /**
   * Crashes per charger per simulated hour (Poisson, from a stream of its own per charger; default 0).
   * A crash loses the open transactions (no StopTransaction ever comes for them), then the charger
   * reboots: see Charger.onCrash.
   */
  crashesPerChargerPerHour?: number;
  /** Simulated minutes after the sim start at which chargers crash (each with probability crashShare). */
  crashAtMinutes?: number[];
  /** Share of chargers (0..1, default 1) that crash at each instant of crashAtMinutes: a seeded draw per charger and instant. */
  crashShare?: number;
  /** Simulated seconds a crashed charger is down by plan (default 60): drivers who arrive then are turned away. */
  crashRebootSec?: number;
}

/** One k6-style stage: ramp linearly from the previous target to `target` over `durationSec` wall seconds. */
export interface RateStage {
  durationSec: number;
  /** Transactions per wall second at the end of the stage. */
  target: number;
}

/**
 * Load models. The open models start transactions on a schedule whatever the server does; an
 * arrival that finds no free connector on its worker is counted as `dropped`. The closed model
 * keeps a share of connectors looping plug-in -> charge -> unplug -> think.
 */
export type LoadModel =
  | { kind: 'per-connector-poisson' }
  | { kind: 'constant-arrival-rate'; /** Transactions per wall second across the whole fleet. */ rate: number }
  | { kind: 'ramping-arrival-rate'; /** Rate at the start of the first stage. */ startRate: number; stages: RateStage[] }
  | {
      kind: 'closed';
      /** Share of connectors that loop, 0..1 (default 1). */ connectorsBusyShare?: number;
      /** Sim seconds between unplug and the next plug-in. */ thinkTimeSec: number;
    };

/** Counters at the edges of the steady window (end of warm-up, end of arrivals), summed over workers. */
export interface SteadyWindow {
  /** Wall ms since fleet start at which the window opens / closes. */
  fromMs: number;
  toMs: number;
  /** Counter deltas inside the window. */
  calls: number;
  transactions: number;
  sessionsDone: number;
  dropped: number;
  turnedAway: number;
  /** Fleet process CPU (all threads) inside the window, microseconds. */
  cpuMicros: number;
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
  /**
   * The faults this session saw, one name each ('crash': the charger crashed under it); empty for
   * a clean session. Injected faults (sim/faults) record themselves here too.
   */
  faults: string[];
  /**
   * What the charger display was shown of the cost (OCPP 1.6 California Pricing messages), costs as
   * the decimal text received; absent when the CSMS sent none for this session.
   */
  display?: {
    userPrice?: string;
    runningCosts: Array<{ timestamp: string; cost: string; meterWh: number }>;
    finalCost?: string;
    finalPriceText?: string;
    qrCodeText?: string;
  };
}

/** Counters a worker reports every second and at the end. */
export interface FleetCounters {
  chargersConnected: number;
  sessionsActive: number;
  sessionsDone: number;
  calls: number;
  callErrors: number; // CALLERROR answers received
  timeouts: number;
  /** Load models: work that could not start on time (an arrival that found no free connector on its worker). */
  dropped: number;
  /**
   * Per-connector drivers: drivers who found their connector busy or the charger down after a
   * crash, demand the site could not serve (a business figure, not a harness failure).
   */
  turnedAway: number;
  reconnects: number;
  transactions: number; // StartTransaction accepted
  /** CALLRESULT or CALLERROR received for one of our CALLs in time (added by sim). */
  answered?: number;
  /** CALLs received from the CSMS (added by sim). */
  incomingCalls?: number;
  /** Charger crashes (ChargerBehaviour; added by sim). */
  crashes?: number;
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
  /** The steady window, when sim time ran past the warm-up (added by sim). */
  steady?: SteadyWindow;
  /** Fleet process RSS: with workers up but no charger yet, and at the end of arrivals (bytes; added by sim). */
  rss?: { baselineBytes: number; loadedBytes: number | null };
  /** Most chargers connected at once, as sampled by the workers each progress interval (added by sim). */
  chargersConnectedMax?: number;
}
