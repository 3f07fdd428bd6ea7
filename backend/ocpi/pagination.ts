// OCPI pagination: offset, limit, date_from (inclusive) and date_to (exclusive) on
// last_updated in; X-Total-Count, X-Limit and a Link to the next page out.
import type { Request, Response } from 'express';
import { z } from 'zod';
import { envelope, invalidParameters } from './envelope.js';

export interface Page {
  offset: number;
  limit: number;
  from?: string;
  to?: string;
}

const blankIsAbsent = (q: unknown): string | undefined => (q === undefined || q === '' ? undefined : String(q));

const wholeNumber = (name: string, min: number) =>
  z.preprocess(
    blankIsAbsent,
    z
      .string()
      .regex(/^\d+$/, `${name} must be a whole number >= ${min}`)
      .transform(Number)
      .pipe(z.number().min(min, `${name} must be a whole number >= ${min}`))
      .optional(),
  );

const dateTime = (name: string) => {
  const message = `${name} must be an RFC 3339 date-time, e.g. 2026-03-01T00:00:00Z`;
  return z.preprocess(
    blankIsAbsent,
    z
      .string()
      .refine((s) => !Number.isNaN(Date.parse(s)), message)
      .transform((s) => new Date(Date.parse(s)).toISOString())
      .optional(),
  );
};

const pageQuery = z.object({
  limit: wholeNumber('limit', 1),
  offset: wholeNumber('offset', 0),
  date_from: dateTime('date_from'),
  date_to: dateTime('date_to'),
});

/** A limit above the maximum is served as the maximum (X-Limit says which). */
export function pageOf(query: Request['query'], maxLimit: number): Page {
  const r = pageQuery.safeParse(query);
  if (!r.success) throw invalidParameters(r.error.issues[0].message);
  const q = r.data;
  const page: Page = { offset: q.offset ?? 0, limit: Math.min(q.limit ?? maxLimit, maxLimit) };
  if (q.date_from !== undefined) page.from = q.date_from;
  if (q.date_to !== undefined) page.to = q.date_to;
  return page;
}

export function sendPage(req: Request, res: Response, page: Page, items: unknown[], total: number, maxLimit: number): void {
  res.setHeader('X-Total-Count', String(total));
  res.setHeader('X-Limit', String(maxLimit));
  const nextOffset = page.offset + items.length;
  if (items.length > 0 && nextOffset < total) {
    const q = new URLSearchParams();
    if (page.from !== undefined) q.set('date_from', page.from);
    if (page.to !== undefined) q.set('date_to', page.to);
    q.set('offset', String(nextOffset));
    q.set('limit', String(page.limit));
    res.setHeader('Link', `<${req.protocol}://${req.get('host')}${req.baseUrl}${req.path}?${q}>; rel="next"`);
  }
  res.json(envelope(items));
}
