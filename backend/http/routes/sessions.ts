// Sessions (OCPP transactions): a filtered, paginated list and one session with its meter
// values and cost lines.
import express from 'express';
import { z } from 'zod';
import { ApiError } from '../../api-error.js';
import { costLinesOfSession, meterValuesOfSession, sessionById, sessionPage } from '../../store/queries.js';
import type { ApiContext } from '../context.js';
import { dateTimeParam, idParams, limitParam, offsetParam, parseInput, queryText } from '../validate.js';
import { meterValueJson, sessionJson } from './session-json.js';

const listQuery = z.object({
  chargerId: queryText(),
  state: z.preprocess((q) => (q === undefined ? undefined : String(q)), z.enum(['active', 'completed'], 'state must be active or completed').optional()),
  from: dateTimeParam('from'),
  to: dateTimeParam('to'),
  limit: limitParam(100),
  offset: offsetParam(),
});

export function sessionRoutes({ store }: ApiContext): express.Router {
  const r = express.Router();
  r.get('/sessions', async (req, res) => {
    const { limit, offset, ...filter } = parseInput(listQuery, req.query);
    const { rows, total } = await sessionPage(store, filter, { limit, offset });
    res.json({ items: rows.map((s) => sessionJson(s)), total, limit, offset });
  });

  r.get('/sessions/:id', async (req, res) => {
    const { id } = parseInput(idParams, req.params);
    const row = await sessionById(store, id);
    if (!row) throw new ApiError(404, 'not-found', `no session ${id}`);
    const [mvs, lines] = await Promise.all([meterValuesOfSession(store, id), costLinesOfSession(store, id)]);
    const out = sessionJson(row, lines);
    out.meterValues = mvs.map(meterValueJson);
    res.json(out);
  });
  return r;
}
