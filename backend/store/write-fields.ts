// What each write of writes.ts takes, by name: the columns it sets, as the back end holds them
// (JSON columns as their text).
export interface ChargerBoot {
  id: string;
  vendor: string;
  model: string;
  serialNumber: string | null;
  firmwareVersion: string | null;
  bootedAt: string;
}

export interface ChargerEnsure {
  id: string;
  createdAt: string;
}

export interface ChargerAdmin {
  id: string;
  connectors: number;
  timeZone: string;
  tariffId: string | null;
  createdAt: string;
  locationId: string | null;
}

export interface ChargerTariff {
  id: string;
  tariffId: string | null;
}

export interface LocationWrite {
  id: string;
  name: string;
  timeZone: string;
  addressJson: string | null;
  updatedAt: string;
}

export interface TariffAssignmentPut {
  scope: string;
  target: string;
  tariffId: string;
  updatedAt: string;
}

export interface TariffAssignmentDelete {
  scope: string;
  target: string;
}

export interface SettingDelete {
  key: string;
}

export interface ChargerHeartbeat {
  id: string;
  at: string;
}

export interface StatusWrite {
  chargerId: string;
  connectorId: number;
  status: string;
  errorCode: string;
  info: string | null;
  vendorId: string | null;
  vendorErrorCode: string | null;
  at: string;
  atFromMessage: 0 | 1;
  receivedAt: string;
}

export interface TokenWrite {
  idTag: string;
  status: string;
  expiryDate: string | null;
  parentIdTag: string | null;
  updatedAt: string;
  group: string | null;
}

export interface TariffInsert {
  vid: number;
  id: string;
  validFrom: string | null;
  validTo: string | null;
  json: string;
  createdAt: string;
  lastUpdated: string;
}

export interface TariffSupersede {
  id: string;
  vid: number;
  validFrom: string | null;
  validTo: string | null;
}

export interface SettingWrite {
  key: string;
  value: string;
}

export interface SessionStart {
  id: number;
  chargerId: string;
  connectorId: number;
  idTag: string;
  startedAt: string;
  meterStart: number;
  reservationId: number | null;
  tariffVid: number | null;
  tariffId: string | null;
  timeZone: string;
  receivedAt: string;
  tariffScope: string | null;
  locationId: string | null;
  tokenGroup: string | null;
  authMethod: string;
}

export interface SessionStop {
  id: number;
  stoppedAt: string;
  meterStop: number;
  stopReason: string | null;
  stopIdTag: string | null;
  /** The answer to the stop as JSON (a repeated stop gets it again). */
  stopResponse: string;
  energyWh: number;
  chargingSeconds: number;
  parkingSeconds: number;
  /** JSON array of the bill flags. */
  flags: string;
  pricingError: string | null;
  currency: string | null;
  totalExclVat: string | null;
  totalInclVat: string | null;
  costJson: string | null;
  invoiceId: number | null;
  receivedAt: string;
}

export interface MeterValuesWrite {
  sessionId: number | null;
  chargerId: string;
  connectorId: number;
  source: string;
  receivedAt: string;
  /** JSON array of [at, context, measurand, phase, unit, location, format, value, valueWh] rows. */
  rows: string;
}

export interface CostLinesWrite {
  sessionId: number;
  /** The cost lines as a JSON array. */
  lines: string;
}

export interface InvoiceWrite {
  id: number;
  year: number;
  issuedAt: string;
  currency: string;
  totalExclVat: string;
  totalInclVat: string;
  vatJson: string;
}

export interface CdrWrite {
  id: string;
  sessionId: number;
  credit: 0 | 1;
  creditReferenceId: string | null;
  lastUpdated: string;
  currency: string;
  totalExclVat: string;
  totalInclVat: string;
  json: string;
}

export interface UnmatchedStop {
  chargerId: string;
  transactionId: number;
  idTag: string | null;
  timestamp: string;
  meterStop: number;
  reason: string | null;
  transactionData: string | null;
  receivedAt: string;
}

export interface SessionClosedWithoutStop {
  id: number;
  closeReason: string;
}

export interface SessionLateStop {
  id: number;
  /** The late StopTransaction as JSON. */
  lateStop: string;
}
