// OCPP 1.6J dialect: the one place that knows 1.6 action names, payload shapes and the
// integer transaction ids on the wire.

import type {
  AuthAnswer,
  BootAnswer,
  CallMeaning,
  ChargerIdentity,
  CommandReply,
  ConnectorStatus,
  CsmsCommand,
  Dialect,
  MeterSample,
  OutgoingMessage,
  StartAnswer,
  TriggerableMeaning,
  WireStopReason,
} from './dialect.js';
import { whTextOf } from './ev-physics.js';
import type { JsonObject } from '../ocpp-j/index.js';

const UNITS: Record<string, string> = {
  'Energy.Active.Import.Register': 'Wh',
  'Power.Active.Import': 'W',
  SoC: 'Percent',
};

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

function int(v: unknown): number | null {
  return typeof v === 'number' && Number.isInteger(v) ? v : null;
}

/** One MeterValue: the sample's measurands that have a value, each tagged with the sample's context. */
function meterValueOf(s: MeterSample): JsonObject {
  const sampledValue: JsonObject[] = [];
  for (const m of s.measurands) {
    let value: string;
    if (m === 'Energy.Active.Import.Register') value = whTextOf(s.registerJ, s.registerDecimals);
    else if (m === 'Power.Active.Import') value = String(s.powerW);
    else if (s.socPct !== null) value = String(s.socPct);
    else continue;
    sampledValue.push({
      value,
      context: s.context,
      measurand: m,
      location: m === 'SoC' ? 'EV' : 'Outlet',
      unit: UNITS[m],
    });
  }
  return { timestamp: s.timestamp, sampledValue };
}

/** 1.6 transaction ids are integers on the wire; the charger holds them as text. */
function wireTransactionId(id: string | null): number | null {
  return id === null ? null : Number(id);
}

/** A charger that never got an id for its transaction stops it with -1 (OCPP 1.6 offline behaviour). */
const UNCONFIRMED_TRANSACTION = -1;

const TRIGGERABLE = new Map<string, TriggerableMeaning>([
  ['BootNotification', 'boot'],
  ['Heartbeat', 'heartbeat'],
  ['StatusNotification', 'status'],
  ['MeterValues', 'reading'],
]);

function idTagStatus(payload: JsonObject): string {
  const info = payload.idTagInfo;
  if (info && typeof info === 'object' && !Array.isArray(info)) {
    const s = (info as JsonObject).status;
    if (typeof s === 'string') return s;
  }
  return 'Invalid';
}

export class Ocpp16Dialect implements Dialect {
  readonly protocol = 'ocpp1.6' as const;
  readonly subprotocol = 'ocpp1.6';

  bootNotification(id: ChargerIdentity): OutgoingMessage {
    return {
      meaning: 'boot',
      action: 'BootNotification',
      payload: {
        chargePointVendor: id.vendor.slice(0, 20),
        chargePointModel: id.model.slice(0, 20),
        chargePointSerialNumber: id.serialNumber.slice(0, 25),
        firmwareVersion: id.firmwareVersion.slice(0, 50),
      },
    };
  }

  heartbeat(): OutgoingMessage {
    return { meaning: 'heartbeat', action: 'Heartbeat', payload: {} };
  }

  statusNotification(connectorId: number, status: ConnectorStatus, timestamp: string | null, errorCode = 'NoError'): OutgoingMessage {
    if (timestamp === null) return { meaning: 'status', action: 'StatusNotification', payload: { connectorId, errorCode, status } };
    return { meaning: 'status', action: 'StatusNotification', payload: { connectorId, errorCode, status, timestamp } };
  }

  authorize(idTag: string): OutgoingMessage {
    return { meaning: 'authorize', action: 'Authorize', payload: { idTag } };
  }

  startTransaction(connectorId: number, idTag: string, meterStartWh: number, timestamp: string): OutgoingMessage {
    return { meaning: 'start', action: 'StartTransaction', payload: { connectorId, idTag, meterStart: meterStartWh, timestamp } };
  }

  meterValues(connectorId: number, transactionId: string | null, s: MeterSample): OutgoingMessage {
    const payload: JsonObject = { connectorId, meterValue: [meterValueOf(s)] };
    if (transactionId !== null) payload.transactionId = wireTransactionId(transactionId);
    return { meaning: 'reading', action: 'MeterValues', payload };
  }

  stopTransaction(
    transactionId: string | null,
    idTag: string,
    meterStopWh: number,
    timestamp: string,
    reason: WireStopReason,
    closing?: MeterSample,
  ): OutgoingMessage {
    const payload: JsonObject = {
      transactionId: wireTransactionId(transactionId) ?? UNCONFIRMED_TRANSACTION,
      idTag,
      meterStop: meterStopWh,
      timestamp,
      reason,
    };
    if (closing) payload.transactionData = [meterValueOf(closing)];
    return { meaning: 'stop', action: 'StopTransaction', payload };
  }

  dataTransfer(vendorId: string, messageId: string | null, data: string | null): OutgoingMessage {
    const payload: JsonObject = { vendorId };
    if (messageId !== null) payload.messageId = messageId;
    if (data !== null) payload.data = data;
    return { meaning: 'dataTransfer', action: 'DataTransfer', payload };
  }

  bindTransaction(meaning: CallMeaning, payload: JsonObject, transactionId: string | null): void {
    if (meaning === 'reading') {
      if (transactionId !== null) payload.transactionId = wireTransactionId(transactionId);
    } else if (meaning === 'stop') {
      payload.transactionId = wireTransactionId(transactionId) ?? UNCONFIRMED_TRANSACTION;
    }
  }

  readBootAnswer(p: JsonObject): BootAnswer {
    const status = p.status === 'Accepted' || p.status === 'Pending' ? p.status : 'Rejected';
    const interval = int(p.interval);
    return { status, intervalSec: interval !== null && interval > 0 ? interval : 0 };
  }

  readAuthAnswer(p: JsonObject): AuthAnswer {
    const status = idTagStatus(p);
    return { accepted: status === 'Accepted', status };
  }

  readStartAnswer(p: JsonObject): StartAnswer {
    const status = idTagStatus(p);
    const id = int(p.transactionId);
    return { accepted: status === 'Accepted', status, transactionId: id === null ? null : String(id) };
  }

  readCommand(action: string, p: JsonObject): CsmsCommand | null {
    switch (action) {
      case 'RemoteStartTransaction':
        return { kind: 'remoteStart', connectorId: int(p.connectorId), idTag: str(p.idTag) ?? '' };
      case 'RemoteStopTransaction':
        return { kind: 'remoteStop', transactionId: String(int(p.transactionId) ?? -1) };
      case 'Reset':
        return { kind: 'reset', hard: p.type === 'Hard' };
      case 'GetConfiguration':
        return { kind: 'getConfiguration', keys: Array.isArray(p.key) ? p.key.filter((k): k is string => typeof k === 'string') : null };
      case 'ChangeConfiguration':
        return { kind: 'changeConfiguration', key: str(p.key) ?? '', value: str(p.value) ?? '' };
      case 'TriggerMessage':
        return { kind: 'trigger', message: TRIGGERABLE.get(str(p.requestedMessage) ?? '') ?? null, connectorId: int(p.connectorId) };
      case 'DataTransfer':
        return { kind: 'dataTransfer', vendorId: str(p.vendorId) ?? '', messageId: str(p.messageId), data: str(p.data) };
      default:
        return null;
    }
  }

  replyPayload(_command: CsmsCommand, reply: CommandReply): JsonObject {
    if (reply.kind === 'status') return { status: reply.status };
    const payload: JsonObject = {
      configurationKey: reply.entries.map((e) => ({ key: e.key, readonly: e.readonly, value: e.value })),
    };
    if (reply.unknownKeys.length > 0) payload.unknownKey = reply.unknownKeys;
    return payload;
  }
}

export const ocpp16 = new Ocpp16Dialect();
