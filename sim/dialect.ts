// The protocol-neutral face of a charger. Charger logic is written once against this
// interface, in meanings (a boot, a reading, a stop); each OCPP version is a dialect that
// builds and reads the wire messages, and only it knows their action names and wire types.
// A charger's dialect comes from its spec (sim/dialects.ts).

import type { JsonObject, SchemaProtocol } from '../ocpp-j/index.js';

export type ConnectorStatus = 'Available' | 'Preparing' | 'Charging' | 'SuspendedEV' | 'SuspendedEVSE' | 'Finishing' | 'Reserved' | 'Unavailable' | 'Faulted';

export type WireStopReason = 'Local' | 'Remote' | 'EVDisconnected' | 'SoftReset' | 'HardReset' | 'DeAuthorized' | 'Reboot' | 'PowerLoss' | 'Other';

export type Measurand = 'Energy.Active.Import.Register' | 'Power.Active.Import' | 'SoC';
export const SUPPORTED_MEASURANDS: readonly Measurand[] = ['Energy.Active.Import.Register', 'Power.Active.Import', 'SoC'];

export type SampleContext = 'Sample.Periodic' | 'Sample.Clock' | 'Trigger' | 'Transaction.Begin' | 'Transaction.End';

export interface MeterSample {
  timestamp: string;
  /** The energy register, exact joules: the dialect writes it in Wh with `registerDecimals` decimals, truncated. */
  registerJ: number;
  /** 0..3; 0 = whole Wh (floor(J / 3600)). */
  registerDecimals: number;
  powerW: number;
  socPct: number | null;
  context: SampleContext;
  measurands: readonly Measurand[];
}

export interface ChargerIdentity {
  vendor: string;
  model: string;
  serialNumber: string;
  firmwareVersion: string;
}

/**
 * What an outgoing call means to the charger, whatever the protocol calls it: the charger
 * dispatches answers on this, the dialect alone knows the action names on the wire.
 */
export type CallMeaning = 'boot' | 'heartbeat' | 'status' | 'authorize' | 'start' | 'reading' | 'stop' | 'dataTransfer';

/** The calls a CSMS may ask for out of turn (TriggerMessage in 1.6). */
export type TriggerableMeaning = 'boot' | 'heartbeat' | 'status' | 'reading';

export interface OutgoingMessage {
  meaning: CallMeaning;
  /** The action name on the wire (for validation, framing and per-action latency). */
  action: string;
  payload: JsonObject;
}

export type BootStatus = 'Accepted' | 'Pending' | 'Rejected';

export interface BootAnswer {
  status: BootStatus;
  /** Heartbeat interval (Accepted) or retry interval (Pending/Rejected), seconds. */
  intervalSec: number;
}

export interface AuthAnswer {
  accepted: boolean;
  status: string;
}

export interface StartAnswer {
  accepted: boolean;
  status: string;
  /** The CSMS's transaction id as text (the dialect converts from the wire type); null: none given. */
  transactionId: string | null;
}

/** What the CSMS asked the charger to do, independent of the protocol version. */
export type CsmsCommand =
  | { kind: 'remoteStart'; connectorId: number | null; idTag: string }
  | { kind: 'remoteStop'; transactionId: string }
  | { kind: 'reset'; hard: boolean }
  | { kind: 'getConfiguration'; keys: string[] | null }
  | { kind: 'changeConfiguration'; key: string; value: string }
  /** message null: a message this charger cannot be asked for. */
  | { kind: 'trigger'; message: TriggerableMeaning | null; connectorId: number | null }
  | { kind: 'dataTransfer'; vendorId: string; messageId: string | null; data: string | null };

export interface ConfigurationEntry {
  key: string;
  readonly: boolean;
  value: string;
}

export type CommandReply = { kind: 'status'; status: string } | { kind: 'configuration'; entries: ConfigurationEntry[]; unknownKeys: string[] };

export interface Dialect {
  readonly protocol: SchemaProtocol;
  /** WebSocket subprotocol. */
  readonly subprotocol: string;

  bootNotification(id: ChargerIdentity): OutgoingMessage;
  heartbeat(): OutgoingMessage;
  /** timestamp null: the message carries none (it is optional in 1.6). */
  statusNotification(connectorId: number, status: ConnectorStatus, timestamp: string | null, errorCode?: string): OutgoingMessage;
  authorize(idTag: string): OutgoingMessage;
  startTransaction(connectorId: number, idTag: string, meterStartWh: number, timestamp: string): OutgoingMessage;
  /** transactionId null: outside a transaction, or the start not answered yet (see bindTransaction). */
  meterValues(connectorId: number, transactionId: string | null, sample: MeterSample): OutgoingMessage;
  /**
   * transactionId null: the start was never confirmed (1.6 sends -1). closing: the reading at the
   * stop, sent as the transaction's closing meter data (1.6: transactionData).
   */
  stopTransaction(
    transactionId: string | null,
    idTag: string,
    meterStopWh: number,
    timestamp: string,
    reason: WireStopReason,
    closing?: MeterSample,
  ): OutgoingMessage;
  dataTransfer(vendorId: string, messageId: string | null, data: string | null): OutgoingMessage;

  /**
   * Late binding right before a call goes on the wire: a reading or stop queued while the start
   * answer was still out carries the transaction id known by the time it is sent.
   */
  bindTransaction(meaning: CallMeaning, payload: JsonObject, transactionId: string | null): void;

  readBootAnswer(payload: JsonObject): BootAnswer;
  readAuthAnswer(payload: JsonObject): AuthAnswer;
  readStartAnswer(payload: JsonObject): StartAnswer;

  /** Translates an incoming CALL (already schema-valid) into a command; null when not supported. */
  readCommand(action: string, payload: JsonObject): CsmsCommand | null;
  /** Builds the CALLRESULT payload for a command. */
  replyPayload(command: CsmsCommand, reply: CommandReply): JsonObject;
}
