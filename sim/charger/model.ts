// What the parts of a charger share: the worker's context, connectors and visits, and the
// kinds and same-instant order of the events a charger plans.

import type { DeadlineSweeper } from '../deadline-sweeper.js';
import type { ConnectorStatus, Dialect, WireStopReason } from '../dialect.js';
import type { EvSpec, SessionMeter } from '../ev-physics.js';
import type { FaultPlan } from '../faults/index.js';
import type { SchemaValidator } from '../../ocpp-j/index.js';
import type { Rng } from '../prng.js';
import type { ScheduledEvent, Scheduler } from '../scheduler.js';
import type { SimClock } from '../sim-clock.js';
import type { FleetConfig, TruthSession } from '../types.js';
import type { WorkerMetrics } from '../worker-metrics.js';
import type { SessionDisplay } from './cost-messages.js';
import type { Charger } from './charger.js';

export interface ChargerContext {
  config: FleetConfig;
  scheduler: Scheduler;
  clock: SimClock;
  metrics: WorkerMetrics;
  sweeper: DeadlineSweeper;
  validator: SchemaValidator;
  dialect: Dialect;
  /** Drivers arrive strictly before this sim second; open sessions stop at it unless `gracefulStop`. */
  simEndSec: number;
  /**
   * Sessions under way at simEndSec run to their planned end (k6's graceful stop) instead of all
   * stopping at that instant, which would end a load test with a burst no real fleet sends.
   */
  gracefulStop?: boolean;
  onTruth: (t: TruthSession) => void;
  /** A connector became free for a new driver (booted with no visit, or unplugged); worker-fleet load models listen. */
  onConnectorFree?: (charger: Charger, connector: Connector, sec: number) => void;
  localAddress?: string;
  /** Default heartbeat interval until the CSMS gives one (sim seconds). */
  defaultHeartbeatSec?: number;
  /** The worker's fault plan (sim/faults); absent: no faults. */
  faults?: FaultPlan;
}

/** 'lost': the transaction was lost in a crash (no stop will be sent); its truth is written when the charger drops its connection. */
export type VisitPhase = 'authorizing' | 'starting' | 'charging' | 'stopped' | 'lost' | 'idle';

/** An EV plugged into a connector, from plug-in to unplug; at most one transaction. */
export interface Visit {
  connector: Connector;
  plugInSec: number;
  departSec: number;
  /** Planned instant of the pending authorize or start call. */
  planSec: number;
  idTag: string;
  ev: EvSpec;
  phase: VisitPhase;
  departPending: boolean;
  meter: SessionMeter | null;
  /** The CSMS's id, as text whatever the protocol's wire type (the dialect converts). */
  transactionId: string | null;
  startSec: number;
  stopSec: number;
  wireStopReason: WireStopReason | null;
  lastSampleSec: number;
  boundaryEvent: ScheduledEvent | null;
  /** What the display showed of this visit's cost, once the CSMS sent any. */
  display?: SessionDisplay;
  /** The sim second of the crash that ended this visit (see Crashes.crash); null while the charger has not crashed under it. */
  crashSec: number | null;
}

export interface Connector {
  id: number;
  status: ConnectorStatus;
  /** Driver and EV draws for this connector (its own stream). */
  rng: Rng;
  /** Lifetime energy register, joules. */
  registerJ: number;
  visit: Visit | null;
  /**
   * Drivers who arrived, by the plan, after the current visit's planned departure while that
   * visit still waits for late answers. They plug in as soon as it clears, with their planned
   * instants, so a slow CSMS changes when messages are sent but never what the truth is.
   */
  waiting: Visit[];
  /** Planned departure of the last driver who took this connector: earlier arrivals find it busy. */
  plannedFreeSec: number;
}

/**
 * The kinds of event a charger plans. Small integers under names: the scheduler's hot loop
 * compares them without allocating or hashing anything.
 */
export const ChargerEvent = {
  arrival: 1,
  departure: 2,
  meterBoundary: 3,
  heartbeat: 4,
  bootRetry: 5,
  command: 6,
  crash: 7,
  rebootEnd: 8,
} as const;

export type ChargerEventKind = (typeof ChargerEvent)[keyof typeof ChargerEvent];

/** Same-instant order: meter boundaries, then departures, then commands, then arrivals (the load models' too). */
export const SameInstant = {
  meterBoundary: 0,
  departure: 1,
  command: 2,
  arrival: 3,
  housekeeping: 4,
} as const;
