// What a charger display is shown of the cost: OCPP 1.6 "California Pricing" DataTransfer
// messages (vendorId org.openchargealliance.costmsg). Reads and checks the `data` JSON and keeps
// costs as the exact decimal text received ("5.10" stays "5.10").
import type { TruthSession } from '../types.js';

export const COST_VENDOR_ID = 'org.openchargealliance.costmsg';

export type SessionDisplay = NonNullable<TruthSession['display']>;

export type CostMessage =
  | { kind: 'userPrice'; idToken: string; priceText: string }
  | { kind: 'runningCost'; transactionId: string; timestamp: string; cost: string; meterWh: number }
  | { kind: 'finalCost'; transactionId: string; cost: string; priceText?: string; qrCodeText?: string };

export type CostMessageReading = { ok: true; message: CostMessage } | { ok: false; status: 'Rejected' | 'UnknownMessageId' };

const DECIMAL = /^-?\d+(\.\d+)?$/;
const rejected: CostMessageReading = { ok: false, status: 'Rejected' };

/** Reads one cost message; malformed data is Rejected, a message id this display does not know UnknownMessageId. */
export function readCostMessage(messageId: string | null, data: string | null): CostMessageReading {
  if (messageId !== 'SetUserPrice' && messageId !== 'RunningCost' && messageId !== 'FinalCost') return { ok: false, status: 'UnknownMessageId' };
  if (data === null) return rejected;
  let body: unknown;
  try {
    body = JSON.parse(data);
  } catch {
    return rejected;
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return rejected;
  const o = body as Record<string, unknown>;
  const optText = (v: unknown): v is string | undefined => v === undefined || typeof v === 'string';
  switch (messageId) {
    case 'SetUserPrice':
      if (typeof o.idToken !== 'string' || typeof o.priceText !== 'string') return rejected;
      return { ok: true, message: { kind: 'userPrice', idToken: o.idToken, priceText: o.priceText } };
    case 'RunningCost': {
      const cost = rawCost(data, o.cost);
      const ts = o.timestamp;
      if (!isTransactionId(o.transactionId) || cost === null || typeof ts !== 'string' || Number.isNaN(Date.parse(ts))) return rejected;
      if (typeof o.meterValue !== 'number' || !Number.isInteger(o.meterValue) || o.meterValue < 0) return rejected;
      if (o.state !== undefined && o.state !== 'Charging' && o.state !== 'Idle') return rejected;
      return { ok: true, message: { kind: 'runningCost', transactionId: String(o.transactionId), timestamp: ts, cost, meterWh: o.meterValue } };
    }
    case 'FinalCost': {
      const cost = rawCost(data, o.cost);
      if (!isTransactionId(o.transactionId) || cost === null || !optText(o.priceText) || !optText(o.qrCodeText)) return rejected;
      const message: CostMessage = { kind: 'finalCost', transactionId: String(o.transactionId), cost };
      if (o.priceText !== undefined) message.priceText = o.priceText;
      if (o.qrCodeText !== undefined) message.qrCodeText = o.qrCodeText;
      return { ok: true, message };
    }
  }
}

/** An integer, as 1.6 transaction ids are; kept as text like the charger's own ids. */
function isTransactionId(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

/** The cost's decimal text exactly as written (a JSON number, or a decimal string); null if neither. */
function rawCost(data: string, parsed: unknown): string | null {
  if (typeof parsed === 'string') return DECIMAL.test(parsed) ? parsed : null;
  if (typeof parsed !== 'number' || !Number.isFinite(parsed)) return null;
  const text = topLevelRawValue(data, 'cost');
  return text !== null && DECIMAL.test(text) ? text : String(parsed);
}

/** The source text of a top-level member of a JSON object already known to be valid. */
function topLevelRawValue(json: string, key: string): string | null {
  let i = json.indexOf('{') + 1;
  const skipSpace = (): void => {
    while (i < json.length && ' \t\r\n'.includes(json[i])) i++;
  };
  const stringEnd = (from: number): number => {
    let j = from + 1;
    while (j < json.length && json[j] !== '"') j += json[j] === '\\' ? 2 : 1;
    return j + 1;
  };
  while (i < json.length) {
    skipSpace();
    if (json[i] !== '"') return null;
    const keyEnd = stringEnd(i);
    const name = JSON.parse(json.slice(i, keyEnd)) as string;
    i = keyEnd;
    skipSpace();
    i++; // ':'
    skipSpace();
    const start = i;
    let depth = 0;
    while (i < json.length) {
      const ch = json[i];
      if (ch === '"') {
        i = stringEnd(i);
        continue;
      }
      if (ch === '{' || ch === '[') depth++;
      else if (ch === '}' || ch === ']') {
        if (depth === 0) break;
        depth--;
      } else if (ch === ',' && depth === 0) break;
      i++;
    }
    if (name === key) return json.slice(start, i).trim();
    i++; // ',' or the closing '}'
  }
  return null;
}

export function emptyDisplay(): SessionDisplay {
  return { runningCosts: [] };
}

/** Records a message about a session on its display record. */
export function showOn(display: SessionDisplay, m: CostMessage): void {
  switch (m.kind) {
    case 'userPrice':
      display.userPrice = m.priceText;
      return;
    case 'runningCost':
      display.runningCosts.push({ timestamp: m.timestamp, cost: m.cost, meterWh: m.meterWh });
      return;
    case 'finalCost':
      display.finalCost = m.cost;
      if (m.priceText !== undefined) display.finalPriceText = m.priceText;
      if (m.qrCodeText !== undefined) display.qrCodeText = m.qrCodeText;
      return;
  }
}
