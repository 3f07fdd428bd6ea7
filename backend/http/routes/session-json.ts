// A session row and its meter values as the API shows them.
import type { CostLineRow } from '../../invoicing/invoices.js';
import { costDimensions } from '../../core/session-billing.js';
import type { MeterValueRow, SessionRow } from '../../store/queries.js';
import { lineJson } from '../cost-line-json.js';

/** The cost, with its lines when given (the single-session view). */
export function sessionJson(r: SessionRow, lines?: CostLineRow[]): Record<string, unknown> {
  let cost: Record<string, unknown> | null = null;
  if (r.cost_json !== null) {
    const breakdown = JSON.parse(r.cost_json);
    cost = {
      currency: r.currency,
      totalExclVat: r.total_excl_vat,
      totalInclVat: r.total_incl_vat,
      dimensions: costDimensions(breakdown, breakdown.flat_count ?? 0),
    };
    if (lines) cost.lines = lines.map(lineJson);
  }
  return {
    id: r.id,
    transactionId: r.id,
    chargerId: r.charger_id,
    connectorId: r.connector_id,
    idTag: r.id_tag,
    state: r.state,
    startedAt: r.started_at,
    stoppedAt: r.stopped_at,
    meterStartWh: r.meter_start,
    meterStopWh: r.meter_stop,
    energyWh: r.energy_wh,
    chargingSeconds: r.charging_seconds,
    parkingSeconds: r.parking_seconds,
    stopReason: r.stop_reason,
    flags: JSON.parse(r.flags) as string[],
    closeReason: r.close_reason,
    lateStop: r.late_stop === null ? null : JSON.parse(r.late_stop),
    tariffId: r.tariff_id,
    tariffVersion: r.tariff_vid,
    tariffScope: r.tariff_scope,
    locationId: r.location_id,
    tokenGroup: r.token_group,
    authMethod: r.auth_method,
    timeZone: r.time_zone,
    invoiceId: r.invoice_id,
    pricingError: r.pricing_error,
    cost,
  };
}

/** A meter value as sent; valueWh only for energy registers (normalised to Wh). */
export function meterValueJson(m: MeterValueRow): Record<string, unknown> {
  const o: Record<string, unknown> = {
    at: m.at,
    measurand: m.measurand ?? 'Energy.Active.Import.Register',
    phase: m.phase,
    unit: m.unit,
    context: m.context,
    location: m.location,
    format: m.format,
    value: m.value,
  };
  if (m.value_wh !== null) o.valueWh = m.value_wh;
  return o;
}
