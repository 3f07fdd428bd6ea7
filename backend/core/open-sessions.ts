// The sessions open right now, by id and by connector, the starts that opened them (so a
// retried start gets the same answer), and each connector's recent charging states.
import type { MeterReading, StateChange } from '../billing/periods.js';
import type { SessionToSettle } from './settlement.js';
import type { StartResult } from './sessions.js';

/** Status changes remembered per connector, so a session can pick up ones that raced its start. */
export const RECENT_STATES = 8;

export interface ActiveSession extends SessionToSettle {
  key: string;
  readings: MeterReading[];
  stopping: Promise<unknown> | null;
}

/** Readings as one report brought them: as the store keeps them, and as billing reads them. */
export interface MeterBatch {
  /** The message that carried them (meter_values.source). */
  source: string;
  /** The meter_values rows as the JSON array the meterValues write expands. */
  rows: string;
  readings: MeterReading[];
}

export class OpenSessions {
  readonly active = new Map<number, ActiveSession>();
  readonly byConnector = new Map<string, ActiveSession>();
  readonly startsByKey = new Map<string, Promise<StartResult>>();
  readonly recentStates = new Map<string, StateChange[]>();

  /** A session that was closed and committed is forgotten. */
  closed(sess: ActiveSession): void {
    this.active.delete(sess.id);
    this.startsByKey.delete(sess.key);
    const ck = connKey(sess.chargerId, sess.connectorId);
    if (this.byConnector.get(ck) === sess) this.byConnector.delete(ck);
  }
}

export function startKey(chargerId: string, connectorId: number, token: string, startedAt: string, meterStart: number): string {
  return `${chargerId}\u0000${connectorId}\u0000${token}\u0000${startedAt}\u0000${meterStart}`;
}

export function connKey(chargerId: string, connectorId: number): string {
  return `${chargerId}\u0000${connectorId}`;
}
