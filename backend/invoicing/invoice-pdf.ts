// PDF renderings of invoices and statements with pdfkit's standard fonts (rendered on request).
import PDFDocument from 'pdfkit';
import type { InvoiceView, StatementView, VatLine } from './invoices.js';
import { statementTitle, vatRateLabel } from './invoice-html.js';

type Doc = PDFKit.PDFDocument;

/** Column x positions and widths of a table row. */
type Columns = ReadonlyArray<readonly [x: number, width: number, align: 'left' | 'right']>;

function row(doc: Doc, cols: Columns, cells: string[], bold = false): void {
  const y = doc.y;
  doc.font(bold ? 'Helvetica-Bold' : 'Helvetica');
  let bottom = y;
  cells.forEach((text, i) => {
    const [x, width, align] = cols[i];
    doc.text(text, x, y, { width, align });
    bottom = Math.max(bottom, doc.y);
  });
  doc.x = 50;
  doc.y = bottom + 2;
}

function render(title: string, draw: (doc: Doc) => void, createdAt: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // A fixed creation date keeps the same invoice's PDF the same bytes.
    const doc = new PDFDocument({ size: 'A4', margin: 50, info: { Title: title, Producer: 'chargebench', CreationDate: new Date(createdAt) } });
    const chunks: Buffer[] = [];
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
    doc.fontSize(10);
    draw(doc);
    doc.end();
  });
}

const VAT_COLS: Columns = [
  [50, 200, 'left'],
  [260, 130, 'right'],
  [400, 145, 'right'],
];

function vatRows(doc: Doc, vat: VatLine[], currency: string): void {
  row(doc, VAT_COLS, ['VAT rate', `Base (${currency})`, `VAT (${currency})`], true);
  for (const v of vat) row(doc, VAT_COLS, [`VAT ${vatRateLabel(v.rate)}`, v.base, v.amount]);
}

const TOTAL_COLS: Columns = [
  [260, 130, 'left'],
  [400, 145, 'right'],
];
const ITEM_COLS: Columns = [
  [50, 110, 'left'],
  [160, 90, 'right'],
  [250, 80, 'right'],
  [330, 60, 'right'],
  [390, 75, 'right'],
  [470, 75, 'right'],
];

export function invoicePdf(inv: InvoiceView): Promise<Buffer> {
  return render(
    `Invoice ${inv.number}`,
    (doc) => {
      doc.font('Helvetica-Bold').fontSize(18).text(`Invoice ${inv.number}`);
      doc.font('Helvetica').fontSize(10).moveDown(0.5);
      doc.text(`Issued: ${inv.issuedAt}`);
      doc.text(`Customer: ${inv.idTag}${inv.group ? ` (group ${inv.group})` : ''}`);
      doc.text(`Session ${inv.sessionId}, charger ${inv.chargerId} connector ${inv.connectorId}${inv.locationId ? `, location ${inv.locationId}` : ''}`);
      doc.text(`From ${inv.startedAt} to ${inv.stoppedAt}, ${inv.energyWh} Wh, tariff ${inv.tariffId ?? '-'}`);
      doc.moveDown();
      row(doc, ITEM_COLS, ['Item', 'Quantity', `Unit price`, 'VAT', `Excl. VAT`, `Incl. VAT`], true);
      for (const i of inv.items) {
        row(doc, ITEM_COLS, [i.description, `${i.quantity} ${i.unit}`, i.unitPrice, vatRateLabel(i.vatRate), i.exclVat, i.inclVat]);
      }
      doc.moveDown();
      vatRows(doc, inv.vat, inv.currency);
      doc.moveDown();
      row(doc, TOTAL_COLS, ['Total excl. VAT', `${inv.currency} ${inv.totalExclVat}`]);
      row(doc, TOTAL_COLS, ['VAT', `${inv.currency} ${inv.totalVat}`]);
      row(doc, TOTAL_COLS, ['Total incl. VAT', `${inv.currency} ${inv.totalInclVat}`], true);
      doc.moveDown();
      doc.font('Helvetica').fontSize(8).text("Line amounts are exact to 4 decimals; totals are rounded once, half-up, to the currency's minor unit.", 50);
    },
    inv.issuedAt,
  );
}

const LIST_COLS: Columns = [
  [50, 90, 'left'],
  [140, 130, 'left'],
  [270, 85, 'left'],
  [355, 60, 'right'],
  [415, 65, 'right'],
  [480, 65, 'right'],
];

export function statementPdf(st: StatementView): Promise<Buffer> {
  const title = statementTitle(st);
  return render(
    title,
    (doc) => {
      doc.font('Helvetica-Bold').fontSize(16).text(title);
      doc.font('Helvetica').fontSize(10).text(`Invoices issued from ${st.from} to ${st.to} (UTC)`).moveDown();
      row(doc, LIST_COLS, ['Invoice', 'Issued', 'Charger', 'Wh', 'Excl. VAT', 'Incl. VAT'], true);
      for (const i of st.invoices) {
        row(doc, LIST_COLS, [i.number, i.issuedAt, i.chargerId, String(i.energyWh), `${i.currency} ${i.totalExclVat}`, `${i.currency} ${i.totalInclVat}`]);
      }
      if (st.invoices.length === 0) doc.text('No invoices this month.');
      for (const t of st.totals) {
        doc.moveDown();
        doc.font('Helvetica-Bold').text(`Totals ${t.currency} (${t.count} invoices, ${t.energyWh} Wh)`, 50);
        vatRows(doc, t.vat, t.currency);
        row(doc, TOTAL_COLS, ['Total excl. VAT', `${t.currency} ${t.totalExclVat}`]);
        row(doc, TOTAL_COLS, ['VAT', `${t.currency} ${t.totalVat}`]);
        row(doc, TOTAL_COLS, ['Total incl. VAT', `${t.currency} ${t.totalInclVat}`], true);
      }
    },
    st.to,
  );
}
