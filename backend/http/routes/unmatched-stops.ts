// Reconciliation: StopTransactions that matched no session.
import express from 'express';
import { z } from 'zod';
import { unmatchedStopPage } from '../../store/queries.js';
import type { ApiContext } from '../context.js';
import { limitParam, offsetParam, parseInput } from '../validate.js';

const listQuery = z.object({ limit: limitParam(1000), offset: offsetParam() });

export function unmatchedStopRoutes({ store }: ApiContext): express.Router {
  const r = express.Router();
  r.get('/unmatched-stops', async (req, res) => {
    const { limit, offset } = parseInput(listQuery, req.query);
    const { rows, total } = await unmatchedStopPage(store, { limit, offset });
    res.json({
      items: rows.map((u) => ({
        id: u.id,
        chargerId: u.charger_id,
        transactionId: u.transaction_id,
        idTag: u.id_tag,
        timestamp: u.timestamp,
        meterStop: u.meter_stop,
        reason: u.reason,
        transactionData: u.transaction_data === null ? null : JSON.parse(String(u.transaction_data)),
        receivedAt: u.received_at,
      })),
      total,
    });
  });
  return r;
}
