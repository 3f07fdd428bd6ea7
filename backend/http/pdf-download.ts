// A PDF sent as a download under a file name safe for any file system.
import type { Response } from 'express';

export function sendPdfDownload(res: Response, filename: string, pdf: Buffer): void {
  res.setHeader('Content-Type', 'application/pdf');
  res.setHeader('Content-Disposition', `attachment; filename="${filename.replace(/[^A-Za-z0-9._-]/g, '_')}"`);
  res.send(pdf);
}
