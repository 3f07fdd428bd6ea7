// OCPP 1.6 for the core: each charger message translated into core calls, and the core's
// answers back into 1.6 payloads. 1.6 calls a session a transaction and uses the back end's
// session id as its transactionId.
import { wallIso } from '../../core/clock.js';
import type { Authorization, Csms } from '../../core/csms.js';
import { chargingStateOf } from '../../metering/connector-states.js';
import type { MeterValue16 } from '../../metering/sampled-values.js';
import { dataTransfer, type DataTransferConf, type DataTransferReq } from './data-transfer-registry.js';
import { meterBatch } from './meter-values.js';
import { requireIso } from './timestamps.js';

export interface IdTagInfo {
  status: Authorization['status'] | 'ConcurrentTx';
  expiryDate?: string;
  parentIdTag?: string;
}

export interface StartConf {
  transactionId: number;
  idTagInfo: IdTagInfo;
}

export interface StopConf {
  idTagInfo?: IdTagInfo;
}

/** OCPP 1.6: a StopTransaction without a reason was stopped locally. */
const DEFAULT_STOP_REASON = 'Local';

function idTagInfo(a: Authorization): IdTagInfo {
  const info: IdTagInfo = { status: a.status };
  if (a.expiryDate) info.expiryDate = a.expiryDate;
  if (a.parentId) info.parentIdTag = a.parentId;
  return info;
}

/** The StopTransaction.conf for the idTag's authorization at the stop (none without an idTag). */
const stopConf = (a: Authorization | null): StopConf => (a ? { idTagInfo: idTagInfo(a) } : {});

export class Ocpp16Handlers {
  constructor(private readonly csms: Csms) {}

  async bootNotification(
    chargerId: string,
    p: { chargePointVendor: string; chargePointModel: string; chargePointSerialNumber?: string; firmwareVersion?: string },
  ): Promise<{ status: 'Accepted'; currentTime: string; interval: number }> {
    // A charger boots after a restart: a session it still has open is one it lost.
    const now = await this.csms.chargerBooted(
      chargerId,
      { vendor: p.chargePointVendor, model: p.chargePointModel, serialNumber: p.chargePointSerialNumber ?? null, firmwareVersion: p.firmwareVersion ?? null },
      'the charger rebooted (BootNotification) with the session open',
    );
    return { status: 'Accepted', currentTime: now, interval: this.csms.opts.heartbeatIntervalSec };
  }

  async heartbeat(chargerId: string): Promise<{ currentTime: string }> {
    return { currentTime: await this.csms.chargerAlive(chargerId) };
  }

  async statusNotification(
    chargerId: string,
    p: {
      connectorId: number;
      errorCode: string;
      status: string;
      info?: string;
      timestamp?: string;
      vendorId?: string;
      vendorErrorCode?: string;
    },
  ): Promise<Record<string, never>> {
    const clocks = this.csms.clocks;
    const received = wallIso();
    let at: string;
    let fromMessage: 0 | 1 = 0;
    if (p.timestamp !== undefined) {
      at = requireIso(p.timestamp, 'timestamp');
      fromMessage = 1;
      clocks.see(chargerId, at);
    } else {
      // It happened when it arrived: at the charger's current time as best known.
      at = clocks.knows(chargerId) ? new Date(clocks.nowFor(chargerId)).toISOString() : received;
    }
    await this.csms.connectorStatus(chargerId, {
      connectorId: p.connectorId,
      at,
      atFromMessage: fromMessage,
      receivedAt: received,
      charging: chargingStateOf(p.status),
      // A connector reported Available has no transaction: a session still open on it was lost.
      freedWhy: p.status === 'Available' ? () => `the charger reported connector ${p.connectorId} Available with the session open` : null,
      status: p.status,
      errorCode: p.errorCode,
      info: p.info ?? null,
      vendorId: p.vendorId ?? null,
      vendorErrorCode: p.vendorErrorCode ?? null,
    });
    return {};
  }

  authorize(chargerId: string, p: { idTag: string }): { idTagInfo: IdTagInfo } {
    return { idTagInfo: idTagInfo(this.csms.authorize(p.idTag, this.csms.nowFor(chargerId))) };
  }

  async startTransaction(
    chargerId: string,
    p: { connectorId: number; idTag: string; meterStart: number; timestamp: string; reservationId?: number },
  ): Promise<StartConf> {
    const startedAt = requireIso(p.timestamp, 'timestamp');
    this.csms.clocks.see(chargerId, startedAt);
    const res = await this.csms.startSession(
      chargerId,
      { connectorId: p.connectorId, token: p.idTag, meterStartWh: p.meterStart, startedAt, reservationId: p.reservationId },
      () => `a new StartTransaction on connector ${p.connectorId} with the session open`,
    );
    // OCPP 1.6: the charger ends the transaction on a non-Accepted idTagInfo (transactionId 0).
    return { transactionId: res.sessionId, idTagInfo: idTagInfo(res.authorization) };
  }

  async meterValues(chargerId: string, p: { connectorId: number; transactionId?: number; meterValue: MeterValue16[] }): Promise<Record<string, never>> {
    const clocks = this.csms.clocks;
    await this.csms.recordReadings(chargerId, { sessionId: p.transactionId, connectorId: p.connectorId }, () =>
      meterBatch('MeterValues', p.meterValue, (at) => clocks.see(chargerId, at)),
    );
    return {};
  }

  async stopTransaction(
    chargerId: string,
    p: { transactionId: number; idTag?: string; meterStop: number; timestamp: string; reason?: string; transactionData?: MeterValue16[] },
  ): Promise<StopConf> {
    const stoppedAt = requireIso(p.timestamp, 'timestamp');
    const clocks = this.csms.clocks;
    clocks.see(chargerId, stoppedAt);
    const values = p.transactionData;
    return (await this.csms.stopSession(chargerId, {
      sessionId: p.transactionId,
      token: p.idTag,
      meterStopWh: p.meterStop,
      stoppedAt,
      reason: p.reason ?? DEFAULT_STOP_REASON,
      values: values && values.length > 0 ? () => meterBatch('StopTransaction', values, (at) => clocks.see(chargerId, at)) : null,
      valuesJson: () => (values ? JSON.stringify(values) : null),
      answer: stopConf,
    })) as StopConf;
  }

  dataTransfer(_chargerId: string, p: DataTransferReq): DataTransferConf {
    return dataTransfer(p);
  }

  // Notifications a 1.6 charger may send on its own; acknowledged, nothing to keep yet.

  diagnosticsStatusNotification(): Record<string, never> {
    return {};
  }

  firmwareStatusNotification(): Record<string, never> {
    return {};
  }
}
