// The seam where faults will be injected. A plan, built from the run's seed and its fault config,
// gives each charger the faults it will show; the charger's connection consults them where faults
// act: at connect, right before a call goes on the wire, and when an answer arrives. No fault
// kind exists yet: every charger gets null, and the connection tests that null once per message
// (nothing allocated, nothing called). The faults a session saw go into its truth record
// (TruthSession.faults), as the crash behaviour writes 'crash' there already.

import type { JsonObject } from '../../ocpp-j/index.js';
import type { OutgoingCall } from '../ocpp-connection.js';

/** Which faults to inject and how often; no kind is defined yet, so any config is a clean run. */
export interface FaultConfig {
  readonly [kind: string]: never;
}

/** The faults of one charger, consulted by its connection at the points where they act. */
export interface ChargerFaults {
  /** Each connection attempt, before the socket is opened. */
  onConnect(): void;
  /**
   * A call right before it goes on the wire (after late binding): a fault may skip its schema
   * check or replace its frame text (OutgoingCall.skipValidation, rawFrame), which the
   * connection's unchecked and raw paths then send as a strict library would refuse to.
   */
  beforeCall(call: OutgoingCall): void;
  /** An answer to `call` before the charger reads it: the CALLRESULT payload, or null for a CALLERROR. */
  onAnswer(call: OutgoingCall, payload: JsonObject | null): void;
}

export interface FaultPlan {
  /** The faults one charger shows; null: none. */
  forCharger(chargerId: string): ChargerFaults | null;
}

/**
 * The run's plan. Each fault kind will draw from a stream of its own per charger
 * (Rng.derive(seed, chargerId, 'fault', kind)), so injecting faults moves no other draw.
 */
class SeededFaultPlan implements FaultPlan {
  constructor(
    readonly seed: number,
    readonly config: FaultConfig,
  ) {}

  forCharger(_chargerId: string): ChargerFaults | null {
    return null;
  }
}

/** The fault plan of a run with this seed and fault config (absent: none). */
export function faultPlanFor(seed: number, config: FaultConfig = {}): FaultPlan {
  return new SeededFaultPlan(seed, config);
}
