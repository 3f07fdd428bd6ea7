// OCPP 1.6 MeterValue lists (MeterValues.req, StopTransaction.req transactionData) as the core
// takes them: the meter_values rows the store keeps, and the readings billing uses.
import { energyWh, isoUtc, readingOf, type MeterValue16 } from '../../metering/sampled-values.js';
import type { MeterBatch } from '../../core/csms.js';
import { requireIso } from './timestamps.js';

/**
 * The sampled values as the JSON rows the meterValues write expands, and their readings. Every
 * timestamp is checked (a bad one fails the message) and shown to the charger's clock.
 */
export function meterBatch(source: string, meterValue: MeterValue16[], seeTime: (at: string) => void): MeterBatch {
  const rows: unknown[] = [];
  for (const mv of meterValue) {
    const at = requireIso(mv.timestamp, 'meterValue.timestamp');
    seeTime(at);
    for (const sv of mv.sampledValue) {
      const wh = energyWh(sv);
      rows.push([
        at,
        sv.context ?? null,
        sv.measurand ?? null,
        sv.phase ?? null,
        sv.unit ?? null,
        sv.location ?? null,
        sv.format ?? null,
        sv.value,
        wh === null ? null : Number(wh),
      ]);
    }
  }
  const readings = [];
  for (const mv of meterValue) {
    const r = readingOf(mv, isoUtc(mv.timestamp) ?? mv.timestamp);
    if (r) readings.push(r);
  }
  return { source, rows: JSON.stringify(rows), readings };
}
