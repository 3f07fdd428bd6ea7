// Settling a stopped session: its bill, and the writes that close it in one commit (the session
// row, its cost lines, its invoice and its CDR), so a session is either open or fully billed.
import type { ChargingPeriod, CostBreakdown } from '../billing/ocpi.js';
import type { MeterReading, StateChange } from '../billing/periods.js';
import { buildCdr, cdrLocation, cdrTotals, type AuthMethod, type OcpiParty } from '../cdrs/cdr.js';
import type { Store } from '../store/store.js';
import type { Op } from '../store/write-queue.js';
import { wallIso } from './clock.js';
import type { Registry } from './registry.js';
import { billSession, vatSummary } from './session-billing.js';
import type { Tariffs } from './tariffs.js';

/** What settlement reads of a session. */
export interface SessionToSettle {
  id: number;
  chargerId: string;
  connectorId: number;
  token: string;
  startedAt: string;
  meterStart: number;
  tariffVid: number | null;
  timeZone: string;
  locationId: string | null;
  authMethod: AuthMethod;
  states: StateChange[];
}

/** How the session ended. */
export interface StopFacts {
  stoppedAt: string;
  meterStopWh: number;
  /** Every reading of the session, the stop's own included. */
  readings: MeterReading[];
  /** The stop reason the charger gave; null when it never sent a stop. */
  reason: string | null;
  /** The token the stop was made with, if it named one. */
  token: string | null;
  /** The answer the charger got, kept so that a repeated stop gets it again. */
  answerJson: string;
  /** Why the back end closed the session itself (the charger lost it); null for a stop. */
  closedWithoutStop: string | null;
}

export class Settlement {
  constructor(
    private readonly store: Store,
    private readonly tariffs: Tariffs,
    private readonly registry: Registry,
    private readonly party: OcpiParty,
    private readonly log: (line: string) => void,
  ) {}

  /** The writes that close and bill the session, the session row first. */
  ops(sess: SessionToSettle, f: StopFacts): Op[] {
    const s = this.store;
    const version = this.tariffs.version(sess.tariffVid);
    const bill = billSession({
      startedAt: sess.startedAt,
      stoppedAt: f.stoppedAt,
      meterStartWh: sess.meterStart,
      meterStopWh: f.meterStopWh,
      readings: f.readings,
      states: sess.states,
      timeZone: sess.timeZone,
      tariff: version?.tariff ?? null,
    });
    if (f.closedWithoutStop !== null) bill.flags.unshift('closed-without-stop');
    if (bill.pricingError !== null) {
      this.log(`session ${sess.id}: pricing failed, closed unbilled: ${bill.pricingError}`);
    }
    const cost = bill.cost;
    let costJson: string | null = null;
    if (cost) {
      const { lines: _lines, ...totals } = cost;
      costJson = JSON.stringify({ ...totals, flat_count: cost.lines.filter((l) => l.dimension === 'FLAT').length });
    }
    const ops: Op[] = [
      s.writes.sessionStop({
        id: sess.id,
        stoppedAt: f.stoppedAt,
        meterStop: f.meterStopWh,
        stopReason: f.reason,
        stopIdTag: f.token,
        stopResponse: f.answerJson,
        energyWh: bill.energyWh,
        chargingSeconds: bill.chargingSeconds,
        parkingSeconds: bill.parkingSeconds,
        flags: JSON.stringify(bill.flags),
        pricingError: bill.pricingError,
        currency: cost?.currency ?? null,
        totalExclVat: cost?.total_cost.excl_vat ?? null,
        totalInclVat: cost?.total_cost.incl_vat ?? null,
        costJson,
        invoiceId: cost ? sess.id : null,
        receivedAt: wallIso(),
      }),
    ];
    if (f.closedWithoutStop !== null) ops.push(s.writes.sessionClosedWithoutStop({ id: sess.id, closeReason: f.closedWithoutStop }));
    if (cost) {
      const cdr = this.cdrOf(sess, bill.stopAt, bill.periods ?? [], cost);
      if (cdr) ops.push(cdr);
      ops.push(s.writes.costLines({ sessionId: sess.id, lines: JSON.stringify(cost.lines) }));
      ops.push(
        s.writes.invoice({
          id: sess.id,
          year: new Date(Date.parse(f.stoppedAt)).getUTCFullYear(),
          issuedAt: f.stoppedAt,
          currency: cost.currency,
          totalExclVat: cost.total_cost.excl_vat,
          totalInclVat: cost.total_cost.incl_vat,
          vatJson: JSON.stringify(vatSummary(cost)),
        }),
      );
    }
    return ops;
  }

  /** The CDR insert of a priced session (its id is the session id). */
  private cdrOf(sess: SessionToSettle, stopAt: string, periods: ChargingPeriod[], cost: CostBreakdown): Op | null {
    const tariff = sess.tariffVid !== null ? this.tariffs.publishedVersion(sess.tariffVid) : null;
    if (!tariff) return null;
    const now = wallIso();
    const cdr = buildCdr({
      party: this.party,
      id: String(sess.id),
      sessionId: sess.id,
      startedAt: sess.startedAt,
      stoppedAt: stopAt,
      idTag: sess.token,
      authMethod: sess.authMethod,
      location: cdrLocation(sess.locationId ? (this.registry.locations.get(sess.locationId) ?? null) : null, sess.chargerId, sess.connectorId, sess.timeZone),
      tariff,
      periods,
      cost,
      lastUpdated: now,
    });
    const totals = cdrTotals(cdr);
    return this.store.writes.cdr({
      id: cdr.id,
      sessionId: sess.id,
      credit: 0,
      creditReferenceId: null,
      lastUpdated: now,
      currency: cdr.currency,
      totalExclVat: totals.excl,
      totalInclVat: totals.incl,
      json: JSON.stringify(cdr),
    });
  }
}
