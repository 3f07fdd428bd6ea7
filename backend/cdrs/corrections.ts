// Correcting a CDR: a credit CDR for it plus a new CDR, committed together. The corrected CDR
// is never touched. The new CDR is re-priced with another tariff (by id: its version valid at
// the session start; or given whole) and/or from corrected meter registers.
import type { ChargingPeriod, CostBreakdown, Tariff } from '../billing/ocpi.js';
import { validateTariff } from '../billing/tariff-validation.js';
import { buildCdr, cdrTotals, creditCdr, publishedTariff, type OcpiCdr } from './cdr.js';
import type { Csms } from '../core/csms.js';
import { billSession, repriceSession } from '../core/session-billing.js';
import { readConnectorStates, readSessionReadings } from '../store/state-reads.js';
import type { Store } from '../store/store.js';
import { ApiError } from '../api-error.js';

export interface CorrectionRequest {
  tariffId?: string;
  tariff?: unknown;
  meterStartWh?: number;
  meterStopWh?: number;
  remark?: string;
}

interface CdrRow {
  seq: number;
  id: string;
  session_id: number;
  credit: number;
  json: string;
}

interface StoppedSession {
  charger_id: string;
  connector_id: number;
  started_at: string;
  stopped_at: string;
  meter_start: number;
  meter_stop: number;
  time_zone: string;
}

/** What the charger reported during a finished session, read back from the store. */
async function reportedFacts(store: Store, sessionId: number, s: StoppedSession) {
  const readings = await readSessionReadings(store, sessionId);
  const states = await readConnectorStates(store, s.charger_id, s.connector_id, s.started_at, s.stopped_at);
  return { readings, states };
}

function chosenTariff(csms: Csms, req: CorrectionRequest, original: OcpiCdr, startMs: number, now: string): Tariff {
  if (req.tariff !== undefined) {
    try {
      return publishedTariff(validateTariff(req.tariff), csms.party, now);
    } catch (err) {
      throw new ApiError(400, 'invalid-tariff', (err as Error).message, 'tariff');
    }
  }
  if (req.tariffId !== undefined) {
    const v = csms.publishedTariffVersionAt(req.tariffId, startMs);
    if (!v) throw new ApiError(400, 'invalid-request', `tariff ${req.tariffId} has no version valid at the session start`, 'tariffId');
    return v.tariff;
  }
  return original.tariffs[0];
}

export async function correctCdr(csms: Csms, store: Store, cdrId: string, req: CorrectionRequest): Promise<{ credit: OcpiCdr; cdr: OcpiCdr }> {
  const row = await store.read<CdrRow>('cdrById', [cdrId]);
  if (!row) throw new ApiError(404, 'not-found', `no CDR ${cdrId}`);
  if (row.credit === 1) throw new ApiError(409, 'conflict', `CDR ${cdrId} is a credit CDR; correct the CDR it credits instead`);
  const ofSession = await store.readAll<CdrRow>('cdrsOfSession', [row.session_id]);
  if (ofSession.some((c) => c.credit === 1 && (JSON.parse(c.json) as OcpiCdr).credit_reference_id === cdrId)) {
    const newest = ofSession.filter((c) => c.credit === 0).pop()!;
    throw new ApiError(409, 'conflict', `CDR ${cdrId} has already been credited; correct the newest CDR ${newest.id}`);
  }
  const original = JSON.parse(row.json) as OcpiCdr;
  const session = await store.read<StoppedSession>('sessionById', [row.session_id]);
  if (!session) throw new ApiError(404, 'not-found', `the session of CDR ${cdrId} is gone`);

  const now = new Date().toISOString();
  const startMs = Date.parse(original.start_date_time);
  const tariff = chosenTariff(csms, req, original, startMs, now);
  let periods: ChargingPeriod[];
  let cost: CostBreakdown;
  try {
    if (req.meterStartWh !== undefined || req.meterStopWh !== undefined) {
      const facts = await reportedFacts(store, row.session_id, session);
      const bill = billSession({
        startedAt: original.start_date_time,
        stoppedAt: original.end_date_time,
        meterStartWh: req.meterStartWh ?? session.meter_start,
        meterStopWh: req.meterStopWh ?? session.meter_stop,
        readings: facts.readings,
        states: facts.states,
        timeZone: original.cdr_location.time_zone,
        tariff,
      });
      if (!bill.cost || !bill.periods) throw new Error(bill.pricingError ?? 'the session could not be priced');
      periods = bill.periods;
      cost = bill.cost;
    } else {
      // Same periods as published, priced with the other tariff.
      periods = original.charging_periods.map((p) => ({
        start_date_time: p.start_date_time,
        dimensions: p.dimensions.map((d) => ({ type: d.type as ChargingPeriod['dimensions'][number]['type'], volume: d.volume })),
      }));
      cost = repriceSession(tariff, {
        startedAt: original.start_date_time,
        stoppedAt: original.end_date_time,
        timeZone: original.cdr_location.time_zone,
        periods,
      });
    }
  } catch (err) {
    throw new ApiError(422, 'pricing-failed', `the corrected session could not be priced: ${(err as Error).message}`);
  }

  const credit = creditCdr(original, now, req.remark);
  const replacements = ofSession.filter((c) => c.credit === 0).length;
  const cdr = buildCdr({
    party: { countryCode: original.country_code, partyId: original.party_id },
    id: `${row.session_id}-${replacements}`,
    sessionId: row.session_id,
    startedAt: original.start_date_time,
    stoppedAt: original.end_date_time,
    idTag: original.cdr_token.uid,
    authMethod: original.auth_method,
    location: original.cdr_location,
    tariff,
    periods,
    cost,
    lastUpdated: now,
    ...(req.remark !== undefined ? { remark: req.remark } : {}),
  });
  const op = (c: OcpiCdr) => {
    const t = cdrTotals(c);
    return store.writes.cdr({
      id: c.id,
      sessionId: row.session_id,
      credit: c.credit ? 1 : 0,
      creditReferenceId: c.credit_reference_id ?? null,
      lastUpdated: now,
      currency: c.currency,
      totalExclVat: t.excl,
      totalInclVat: t.incl,
      json: JSON.stringify(c),
    });
  };
  try {
    await store.commit(op(credit), op(cdr));
  } catch (err) {
    if (/UNIQUE constraint failed/.test((err as Error).message)) {
      throw new ApiError(409, 'conflict', `CDR ${cdrId} was corrected concurrently; fetch /api/cdrs?sessionId=${row.session_id}`);
    }
    throw err;
  }
  return { credit, cdr };
}
