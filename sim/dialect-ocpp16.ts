// OCPP 1.6J dialect.

import type {
  AuthAnswer,
  BootAnswer,
  ChargerIdentity,
  CommandReply,
  ConnectorStatus,
  CsmsCommand,
  Dialect,
  MeterSample,
  OutgoingMessage,
  StartAnswer,
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
    return { action: 'Heartbeat', payload: {} };
  }

  statusNotification(connectorId: number, status: ConnectorStatus, timestamp: string | null, errorCode = 'NoError'): OutgoingMessage {
    if (timestamp === null) return { action: 'StatusNotification', payload: { connectorId, errorCode, status } };
    return { action: 'StatusNotification', payload: { connectorId, errorCode, status, timestamp } };
  }

  authorize(idTag: string): OutgoingMessage {
    return { action: 'Authorize', payload: { idTag } };
  }

  startTransaction(connectorId: number, idTag: string, meterStartWh: number, timestamp: string): OutgoingMessage {
    return { action: 'StartTransaction', payload: { connectorId, idTag, meterStart: meterStartWh, timestamp } };
  }

  meterValues(connectorId: number, transactionId: number | null, s: MeterSample): OutgoingMessage {
    const payload: JsonObject = { connectorId, meterValue: [meterValueOf(s)] };
    if (transactionId !== null) payload.transactionId = transactionId;
    return { action: 'MeterValues', payload };
  }

  stopTransaction(transactionId: number, idTag: string, meterStopWh: number, timestamp: string, reason: WireStopReason, closing?: MeterSample): OutgoingMessage {
    const payload: JsonObject = { transactionId, idTag, meterStop: meterStopWh, timestamp, reason };
    if (closing) payload.transactionData = [meterValueOf(closing)];
    return { action: 'StopTransaction', payload };
  }

  dataTransfer(vendorId: string, messageId: string | null, data: string | null): OutgoingMessage {
    const payload: JsonObject = { vendorId };
    if (messageId !== null) payload.messageId = messageId;
    if (data !== null) payload.data = data;
    return { action: 'DataTransfer', payload };
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
    return { accepted: status === 'Accepted', status, transactionId: int(p.transactionId) };
  }

  readCommand(action: string, p: JsonObject): CsmsCommand | null {
    switch (action) {
      case 'RemoteStartTransaction':
        return { kind: 'remoteStart', connectorId: int(p.connectorId), idTag: str(p.idTag) ?? '' };
      case 'RemoteStopTransaction':
        return { kind: 'remoteStop', transactionId: int(p.transactionId) ?? -1 };
      case 'Reset':
        return { kind: 'reset', hard: p.type === 'Hard' };
      case 'GetConfiguration':
        return { kind: 'getConfiguration', keys: Array.isArray(p.key) ? p.key.filter((k): k is string => typeof k === 'string') : null };
      case 'ChangeConfiguration':
        return { kind: 'changeConfiguration', key: str(p.key) ?? '', value: str(p.value) ?? '' };
      case 'TriggerMessage':
        return { kind: 'trigger', message: str(p.requestedMessage) ?? '', connectorId: int(p.connectorId) };
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
