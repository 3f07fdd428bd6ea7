// Cost on the charger display, OCPP 1.6 "California Pricing" DataTransfer messages
// (vendorId org.openchargealliance.costmsg): SetUserPrice after authorization, RunningCost
// during a transaction, FinalCost once the stop is committed. Every message goes out after the
// charger's own message was answered, one at a time per charger, and never holds anything up.
import type { Tariff } from '../../billing/ocpi.js';
import type { OpenSessionView } from '../../core/csms.js';
import { tariffPriceText } from '../../cost-display/price-text.js';
import { finalCost, runningCost, type CompletedSessionRow } from '../../cost-display/running-cost.js';
import type { MeterValue16 } from '../../metering/sampled-values.js';
import type { DataTransferConf } from './data-transfer-registry.js';
import type { IdTagInfo } from './handlers.js';

export const COST_VENDOR_ID = 'org.openchargealliance.costmsg';
export type CostMessageId = 'SetUserPrice' | 'RunningCost' | 'FinalCost';

/** Sends one DataTransfer CALL to a connected charger; rejects when it is not connected or does not answer. */
export type CostMessageSender = (chargerId: string, messageId: CostMessageId, data: string) => Promise<DataTransferConf>;

/** What the notifier reads of the CSMS (a Csms satisfies it). */
export interface CostSource {
  nowFor(chargerId: string): number;
  tariffFor(chargerId: string, idTag: string, atMs: number): Tariff | null;
  openSession(chargerId: string, ref: { transactionId?: number; connectorId?: number }): OpenSessionView | null;
}

export interface RunningCostOptions {
  /** Simulated seconds between RunningCost messages of a transaction; 0 = none. */
  intervalSec: number;
  /** Where the invoice of a session can be seen (FinalCost.qrCodeText). */
  invoiceUrl: (invoiceId: number) => string;
  log: (line: string) => void;
}

/** Cost messages waiting per charger beyond which RunningCost updates are skipped (the next one catches up). */
const MAX_QUEUED_PER_CHARGER = 4;

/** A decimal written into JSON as a number with exactly these digits ("5.10", not 5.1). */
class JsonDecimal {
  constructor(readonly text: string) {}
}
const num = (d: { toFixed(): string } | string): JsonDecimal => new JsonDecimal(typeof d === 'string' ? d : d.toFixed());

function jsonText(value: unknown): string {
  if (value instanceof JsonDecimal) return value.text;
  if (Array.isArray(value)) return `[${value.map(jsonText).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const fields = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{${fields.map(([k, v]) => `${JSON.stringify(k)}:${jsonText(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

interface ChargerQueue {
  tail: Promise<void>;
  queued: number;
}

export class RunningCostNotifier {
  /** Chargers that said they do not show cost messages: they get none. */
  private readonly declined = new Set<string>();
  private readonly queues = new Map<string, ChargerQueue>();
  /** Sim instant (ms) of the last RunningCost per open session (its start before the first). */
  private readonly lastRunningMs = new Map<number, number>();
  /** charger + idTag that were shown a user price after Authorize and have not started yet. */
  private readonly userPriceShown = new Set<string>();

  constructor(
    private readonly source: CostSource,
    private readonly completedSession: (id: number) => Promise<CompletedSessionRow | undefined>,
    private readonly send: CostMessageSender,
    readonly opts: RunningCostOptions,
  ) {}

  get runningCostEnabled(): boolean {
    return this.opts.intervalSec > 0;
  }

  /** The charger is no longer connected: forget what is queued for it (its sends fail anyway). */
  forgetConnection(chargerId: string): void {
    this.queues.delete(chargerId);
  }

  /** A charger that booted may have new firmware: it gets cost messages again until it declines them. */
  afterBoot(chargerId: string): void {
    this.declined.delete(chargerId);
  }

  afterAuthorize(chargerId: string, idTag: string, info: IdTagInfo): void {
    if (info.status !== 'Accepted' || this.declined.has(chargerId)) return;
    if (this.sendUserPrice(chargerId, idTag)) this.userPriceShown.add(`${chargerId}\u0000${idTag}`);
  }

  /** A start without a preceding Authorize (remote start, local authorization list) gets its price now. */
  afterStart(chargerId: string, idTag: string, transactionId: number, info: IdTagInfo): void {
    const shown = this.userPriceShown.delete(`${chargerId}\u0000${idTag}`);
    if (info.status !== 'Accepted' || transactionId <= 0 || shown || this.declined.has(chargerId)) return;
    this.sendUserPrice(chargerId, idTag);
  }

  /** For a remote start the CSMS initiated: the price for the token it started with. */
  afterRemoteStart(chargerId: string, idTag: string): void {
    if (this.declined.has(chargerId)) return;
    if (this.sendUserPrice(chargerId, idTag)) this.userPriceShown.add(`${chargerId}\u0000${idTag}`);
  }

  afterMeterValues(chargerId: string, p: { connectorId: number; transactionId?: number; meterValue: MeterValue16[] }): void {
    if (!this.runningCostEnabled || this.declined.has(chargerId)) return;
    let latestMs = -Infinity;
    for (const mv of p.meterValue) {
      const t = Date.parse(mv.timestamp);
      if (t > latestMs) latestMs = t;
    }
    const open = this.source.openSession(chargerId, p);
    if (!open || !open.tariff || !Number.isFinite(latestMs)) return;
    const last = this.lastRunningMs.get(open.id) ?? Date.parse(open.startedAt);
    if (latestMs < last + this.opts.intervalSec * 1000) return;
    const queue = this.queues.get(chargerId);
    if (queue && queue.queued >= MAX_QUEUED_PER_CHARGER) return; // a slow display: the next reading catches up
    this.lastRunningMs.set(open.id, latestMs);
    const data = this.runningCostData(open, open.tariff, latestMs);
    if (data !== null) this.enqueue(chargerId, 'RunningCost', data);
  }

  /** After a stop was committed and answered: the session's bill (sessionId = transactionId). */
  afterStop(chargerId: string, sessionId: number): void {
    this.lastRunningMs.delete(sessionId);
    if (this.declined.has(chargerId)) return;
    this.completedSession(sessionId).then(
      (row) => {
        const final = row ? finalCost(row) : null;
        if (!final) return;
        const data = jsonText({
          transactionId: sessionId,
          cost: num(final.totalInclVat),
          priceText: final.text,
          qrCodeText: row!.invoice_id !== null ? this.opts.invoiceUrl(row!.invoice_id) : undefined,
        });
        this.enqueue(chargerId, 'FinalCost', data);
      },
      (err: Error) => this.opts.log(`charger ${chargerId}: final cost of session ${sessionId} not shown: ${err.message}`),
    );
  }

  // ------------------------------------------------------------------------------------

  private sendUserPrice(chargerId: string, idTag: string): boolean {
    const tariff = this.source.tariffFor(chargerId, idTag, this.source.nowFor(chargerId));
    if (!tariff) return false; // nothing is billed, so no price to show
    this.enqueue(chargerId, 'SetUserPrice', jsonText({ idToken: idTag, priceText: tariffPriceText(tariff) }));
    return true;
  }

  /** RunningCost of an open session priced as if it stopped at its latest reading (null if it cannot be priced). */
  private runningCostData(open: OpenSessionView, tariff: Tariff, atMs: number): string | null {
    const c = runningCost(open, tariff, atMs);
    if (!c) return null;
    const unit = c.unitPrice;
    return jsonText({
      transactionId: open.id,
      timestamp: c.at,
      meterValue: c.meterWh,
      cost: num(c.totalInclVat),
      state: c.charging ? 'Charging' : 'Idle',
      chargingPrice: { kWhPrice: num(unit.ENERGY), hourPrice: num(unit.TIME), flatFee: num(unit.FLAT) },
      idlePrice: c.parkingPriced ? { graceMinutes: 0, hourPrice: num(unit.PARKING_TIME) } : undefined,
      priceText: tariffPriceText(tariff),
    });
  }

  /** One cost message at a time per charger, in order; a refusal of SetUserPrice ends them for that charger. */
  private enqueue(chargerId: string, messageId: CostMessageId, data: string): void {
    let q = this.queues.get(chargerId);
    if (!q) this.queues.set(chargerId, (q = { tail: Promise.resolve(), queued: 0 }));
    const queue = q;
    queue.queued++;
    queue.tail = queue.tail
      .then(async () => {
        if (this.declined.has(chargerId)) return;
        const answer = await this.send(chargerId, messageId, data);
        if (answer.status === 'UnknownVendorId' || (messageId === 'SetUserPrice' && answer.status !== 'Accepted')) {
          this.declined.add(chargerId);
          this.opts.log(`charger ${chargerId} answered ${answer.status} to ${messageId}: no more cost messages to it`);
        }
      })
      .catch((err: Error & { rpcErrorCode?: string }) => {
        if (err.rpcErrorCode === 'NotImplemented' || err.rpcErrorCode === 'NotSupported') this.declined.add(chargerId);
        this.opts.log(`charger ${chargerId}: ${messageId} not delivered: ${err.message}`);
      })
      .finally(() => {
        queue.queued--;
        if (queue.queued === 0 && this.queues.get(chargerId) === queue) this.queues.delete(chargerId);
      });
  }
}
