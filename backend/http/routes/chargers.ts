// Chargers: provisioning, the list with connection and connector status, status history.
import express from 'express';
import { z } from 'zod';
import { isValidTimeZone } from '../../billing/local-time.js';
import type { ChargerRec, Csms } from '../../core/csms.js';
import { chargerRows, connectorStatusRows, statusHistory, type ConnectorStatusRow } from '../../store/queries.js';
import type { ApiContext } from '../context.js';
import { objectMessages, parseInput, parseList, queryInt, text, wholeNumber } from '../validate.js';

/** A charger as posted; fields left out keep what the charger has (or the defaults). */
function chargerSchema(csms: Csms) {
  return z
    .strictObject(
      {
        id: text(1, 255, 'id must be a string of 1 to 255 characters without "/" or spaces (it is the OCPP identity)').refine(
          (id) => !/[/\s]/.test(id),
          'id must be a string of 1 to 255 characters without "/" or spaces (it is the OCPP identity)',
        ),
        connectors: wholeNumber(1, 100, 'connectors must be a whole number from 1 to 100').optional(),
        timeZone: z
          .string('timeZone must be an IANA time zone such as Europe/Berlin')
          .refine(isValidTimeZone, 'timeZone must be an IANA time zone such as Europe/Berlin')
          .optional(),
        tariffId: z
          .string('tariffId must name a tariff already posted to /api/tariffs (or be null for the default)')
          .refine((id) => csms.hasTariff(id), 'tariffId must name a tariff already posted to /api/tariffs (or be null for the default)')
          .nullable()
          .optional(),
        locationId: z
          .string('locationId must name a location already posted to /api/locations (or be null)')
          .refine((id) => csms.locations.has(id), 'locationId must name a location already posted to /api/locations (or be null)')
          .nullable()
          .optional(),
      },
      objectMessages(
        'a charger must be a JSON object { id, connectors?, timeZone?, tariffId?, locationId? }',
        (k) => `unknown field ${k}; a charger has id, connectors, timeZone, tariffId, locationId`,
      ),
    )
    .transform((v): ChargerRec => {
      const existing = csms.chargers.get(v.id);
      return {
        id: v.id,
        connectors: v.connectors ?? existing?.connectors ?? 1,
        timeZone: v.timeZone ?? existing?.timeZone ?? 'UTC',
        tariffId: v.tariffId !== undefined ? v.tariffId : (existing?.tariffId ?? null),
        locationId: v.locationId !== undefined ? v.locationId : (existing?.locationId ?? null),
      };
    });
}

// Without connectorId the whole charger; an empty connectorId reads as connector 0.
const historyQuery = z.object({ connectorId: queryInt('connectorId', 0, 0, 1000).optional() });

function statusByCharger(statuses: ConnectorStatusRow[]): Map<string, Array<Record<string, unknown>>> {
  const byCharger = new Map<string, Array<Record<string, unknown>>>();
  for (const s of statuses) {
    let l = byCharger.get(s.charger_id);
    if (!l) byCharger.set(s.charger_id, (l = []));
    l.push({ connectorId: s.connector_id, status: s.status, errorCode: s.error_code, at: s.at });
  }
  return byCharger;
}

export function chargerRoutes({ csms, store, ocpp }: ApiContext): express.Router {
  const r = express.Router();
  r.get('/chargers', async (_req, res) => {
    const rows = await chargerRows(store);
    // Exact unless the store is closing: then what was folded last.
    await store.foldConnectorStatus().catch(() => undefined);
    const byCharger = statusByCharger(await connectorStatusRows(store));
    res.json({
      items: rows.map((c) => ({
        id: c.id,
        connectors: c.connectors,
        vendor: c.vendor,
        model: c.model,
        timeZone: c.time_zone,
        tariffId: c.tariff_id,
        locationId: c.location_id,
        registered: c.registered === 1,
        lastBootAt: c.last_boot_at,
        lastHeartbeatAt: c.last_heartbeat_at,
        connected: ocpp.isConnected(c.id),
        connectorStatus: byCharger.get(c.id) ?? [],
      })),
      total: rows.length,
    });
  });

  r.post('/chargers', async (req, res) => {
    const chargers = parseList(chargerSchema(csms), req.body, 'send one charger object or a non-empty array of them');
    await csms.putChargers(chargers);
    res.status(200).json({ items: chargers, total: chargers.length });
  });

  r.get('/chargers/:id/status-history', async (req, res) => {
    const { connectorId } = parseInput(historyQuery, req.query);
    const rows = await statusHistory(store, String(req.params.id), connectorId);
    res.json({
      items: rows.map((h) => ({
        connectorId: h.connector_id,
        status: h.status,
        errorCode: h.error_code,
        at: h.at,
        receivedAt: h.received_at,
      })),
    });
  });
  return r;
}
