// Monthly statements of one token or one customer group: JSON, HTML and PDF.
import express from 'express';
import { z } from 'zod';
import { statementHtml } from '../../invoicing/invoice-html.js';
import { statementPdf } from '../../invoicing/invoice-pdf.js';
import { loadStatement, type StatementQuery } from '../../invoicing/invoices.js';
import type { ApiContext } from '../context.js';
import { sendPdfDownload } from '../pdf-download.js';
import { parseInput, queryText } from '../validate.js';

const statementQuery = z
  .object({
    month: z.preprocess((q) => String(q ?? ''), z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'month must be YYYY-MM, e.g. 2026-03')),
    idTag: queryText(),
    group: queryText(),
  })
  .refine((q) => (q.idTag === undefined) !== (q.group === undefined), { message: 'give exactly one of idTag or group', path: ['idTag'] })
  .transform(({ month, idTag, group }): StatementQuery => ({
    month,
    ...(idTag !== undefined ? { idTag } : {}),
    ...(group !== undefined ? { group } : {}),
  }));

export function statementRoutes({ store }: ApiContext): express.Router {
  const r = express.Router();
  r.get('/statements', async (req, res) => {
    res.json(await loadStatement(store, parseInput(statementQuery, req.query)));
  });
  r.get('/statements.html', async (req, res) => {
    res.type('text/html; charset=utf-8').send(statementHtml(await loadStatement(store, parseInput(statementQuery, req.query))));
  });
  r.get('/statements.pdf', async (req, res) => {
    const st = await loadStatement(store, parseInput(statementQuery, req.query));
    sendPdfDownload(res, `statement-${st.idTag ?? st.group}-${st.month}.pdf`, await statementPdf(st));
  });
  return r;
}
