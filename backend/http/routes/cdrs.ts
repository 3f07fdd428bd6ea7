// CDRs: the list (paged, by last_updated), one CDR byte for byte as stored, and corrections.
import express from 'express';
import { z } from 'zod';
import { ApiError } from '../../api-error.js';
import { correctCdr } from '../../cdrs/corrections.js';
import { listCdrs } from '../../ocpi/cdrs.js';
import { cdrJsonById } from '../../store/queries.js';
import type { ApiContext } from '../context.js';
import { dateTimeParam, idParam, limitParam, offsetParam, parseInput } from '../validate.js';
import { parseCorrection } from './correction-schema.js';

// An empty sessionId reads as session 0 (which matches none).
const listQuery = z.object({
  offset: offsetParam(),
  limit: limitParam(100),
  from: dateTimeParam('from'),
  to: dateTimeParam('to'),
  sessionId: idParam('sessionId').optional(),
});

export function cdrRoutes({ csms, store }: ApiContext): express.Router {
  const r = express.Router();
  r.get('/cdrs', async (req, res) => {
    const { sessionId, ...q } = parseInput(listQuery, req.query);
    const page: { offset: number; limit: number; from?: string; to?: string } = { offset: q.offset, limit: q.limit };
    if (q.from) page.from = q.from;
    if (q.to) page.to = q.to;
    const { items, total } = await listCdrs(store, page, sessionId);
    res.json({ items, total, limit: page.limit, offset: page.offset });
  });
  r.get('/cdrs/:id', async (req, res) => {
    const row = await cdrJsonById(store, String(req.params.id));
    if (!row) throw new ApiError(404, 'not-found', `no CDR ${req.params.id}`);
    // The stored text as is: a CDR never changes, byte for byte.
    res.type('application/json').send(row.json);
  });
  r.post('/cdrs/:id/corrections', async (req, res) => {
    const correction = parseCorrection(req.body);
    res.status(201).json(await correctCdr(csms, store, String(req.params.id), correction));
  });
  return r;
}
