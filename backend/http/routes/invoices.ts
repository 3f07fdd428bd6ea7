// One invoice per billed session: JSON with its cost lines, HTML and PDF.
import express from 'express';
import { ApiError } from '../../api-error.js';
import { invoiceHtml } from '../../invoicing/invoice-html.js';
import { invoicePdf } from '../../invoicing/invoice-pdf.js';
import { loadInvoice } from '../../invoicing/invoices.js';
import type { Store } from '../../store/store.js';
import type { ApiContext } from '../context.js';
import { lineJson } from '../cost-line-json.js';
import { sendPdfDownload } from '../pdf-download.js';
import { idParams, parseInput } from '../validate.js';

async function invoiceOr404(store: Store, params: unknown) {
  const { id } = parseInput(idParams, params);
  const inv = await loadInvoice(store, id);
  if (!inv) throw new ApiError(404, 'not-found', `no invoice ${id}`);
  return inv;
}

export function invoiceRoutes({ store }: ApiContext): express.Router {
  const r = express.Router();
  // .html and .pdf before the bare id, which would match them too.
  r.get('/invoices/:id.html', async (req, res) => {
    const { view } = await invoiceOr404(store, req.params);
    res.type('text/html; charset=utf-8').send(invoiceHtml(view));
  });
  r.get('/invoices/:id.pdf', async (req, res) => {
    const { view } = await invoiceOr404(store, req.params);
    sendPdfDownload(res, `invoice-${view.number}.pdf`, await invoicePdf(view));
  });
  r.get('/invoices/:id', async (req, res) => {
    const { view, lines } = await invoiceOr404(store, req.params);
    res.json({ ...view, lines: lines.map(lineJson) });
  });
  return r;
}
