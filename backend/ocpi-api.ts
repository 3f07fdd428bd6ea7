// OCPI 2.2.1 sender interfaces (read-only): GET /ocpi/2.2.1/cdrs and /ocpi/2.2.1/tariffs, with
// OCPI pagination (offset, limit, date_from inclusive / date_to exclusive on last_updated;
// Link next, X-Total-Count, X-Limit) inside the OCPI response envelope. Optional credentials
// token auth: "Authorization: Token <base64 of the token>".
import { timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { publishedTariff, type OcpiParty } from './cdrs/cdr.js';
import type { Tariff } from './billing/ocpi.js';
import type { Store } from './store/store.js';

export interface OcpiOptions {
  party: OcpiParty;
  /** Credentials token required in the Authorization header; null/undefined = no auth. */
  token?: string | null;
  /** Most objects per page (default 100). */
  maxLimit?: number;
}

export class OcpiError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

const invalid = (message: string): OcpiError => new OcpiError(400, 2001, message);

export function envelope(data: unknown, statusCode = 1000, message = 'Success'): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (data !== undefined) body.data = data;
  body.status_code = statusCode;
  body.status_message = message;
  body.timestamp = new Date().toISOString();
  return body;
}

export interface Page {
  offset: number;
  limit: number;
  from?: string;
  to?: string;
}

function intParam(v: unknown, name: string, min: number): number | undefined {
  if (v === undefined || v === '') return undefined;
  const s = String(v);
  if (!/^\d+$/.test(s) || Number(s) < min) throw invalid(`${name} must be a whole number >= ${min}`);
  return Number(s);
}

function dateParam(v: unknown, name: string): string | undefined {
  if (v === undefined || v === '') return undefined;
  const ms = Date.parse(String(v));
  if (Number.isNaN(ms)) throw invalid(`${name} must be an RFC 3339 date-time, e.g. 2026-03-01T00:00:00Z`);
  return new Date(ms).toISOString();
}

/** A limit above the maximum is served as the maximum (X-Limit says which). */
export function pageOf(query: Request['query'], maxLimit: number): Page {
  const limit = Math.min(intParam(query.limit, 'limit', 1) ?? maxLimit, maxLimit);
  const page: Page = { offset: intParam(query.offset, 'offset', 0) ?? 0, limit };
  const from = dateParam(query.date_from, 'date_from');
  const to = dateParam(query.date_to, 'date_to');
  if (from !== undefined) page.from = from;
  if (to !== undefined) page.to = to;
  return page;
}

function lastUpdatedFilter(page: Page, column: string): { sql: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  if (page.from !== undefined) {
    where.push(`${column} >= ?`);
    params.push(page.from);
  }
  if (page.to !== undefined) {
    where.push(`${column} < ?`);
    params.push(page.to);
  }
  return { sql: where.join(' AND '), params };
}

const and = (...parts: string[]): string => {
  const p = parts.filter((x) => x !== '');
  return p.length ? `WHERE ${p.join(' AND ')}` : '';
};

/** CDRs by last_updated (then creation order), as stored. */
export async function listCdrs(store: Store, page: Page, sessionId?: number): Promise<{ items: unknown[]; total: number }> {
  const f = lastUpdatedFilter(page, 'last_updated');
  const where = and(f.sql, sessionId !== undefined ? 'session_id = ?' : '');
  const params = sessionId !== undefined ? [...f.params, sessionId] : f.params;
  const [count] = await store.query<{ n: number }>(`SELECT COUNT(*) AS n FROM cdrs ${where}`, params);
  const rows = await store.query<{ json: string }>(`SELECT json FROM cdrs ${where} ORDER BY last_updated, seq LIMIT ? OFFSET ?`, [
    ...params,
    page.limit,
    page.offset,
  ]);
  return { items: rows.map((r) => JSON.parse(r.json)), total: count?.n ?? 0 };
}

/** Current tariff versions in their OCPI published form, by last_updated. */
export async function listTariffs(store: Store, party: OcpiParty, page: Page): Promise<{ items: Tariff[]; total: number }> {
  const f = lastUpdatedFilter(page, 'last_updated');
  const where = and('superseded = 0', f.sql);
  const [count] = await store.query<{ n: number }>(`SELECT COUNT(*) AS n FROM tariffs ${where}`, f.params);
  const rows = await store.query<{ json: string; last_updated: string }>(
    `SELECT json, last_updated FROM tariffs ${where} ORDER BY last_updated, vid LIMIT ? OFFSET ?`,
    [...f.params, page.limit, page.offset],
  );
  return { items: rows.map((r) => publishedTariff(JSON.parse(r.json) as Tariff, party, r.last_updated)), total: count?.n ?? 0 };
}

function sendPage(req: Request, res: Response, page: Page, items: unknown[], total: number, maxLimit: number): void {
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

function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Token\s+(\S+)$/.exec(header ?? '');
  if (!m) return false;
  const given = Buffer.from(m[1], 'base64');
  const want = Buffer.from(token, 'utf8');
  return given.length === want.length && timingSafeEqual(given, want);
}

export function createOcpiRouter(store: Store, opts: OcpiOptions): express.Router {
  const maxLimit = opts.maxLimit ?? 100;
  const r = express.Router();
  const token = opts.token ?? null;
  if (token !== null) {
    r.use((req, _res, next) => {
      if (!tokenMatches(req.get('authorization'), token)) {
        next(new OcpiError(401, 2000, 'missing or unknown credentials token; send Authorization: Token <base64 of the token>'));
      } else next();
    });
  }
  r.get('/cdrs', async (req, res) => {
    const page = pageOf(req.query, maxLimit);
    const { items, total } = await listCdrs(store, page);
    sendPage(req, res, page, items, total, maxLimit);
  });
  r.get('/tariffs', async (req, res) => {
    const page = pageOf(req.query, maxLimit);
    const { items, total } = await listTariffs(store, opts.party, page);
    sendPage(req, res, page, items, total, maxLimit);
  });
  r.use((req, _res, next) => next(new OcpiError(404, 2000, `no OCPI endpoint ${req.method} ${req.path}; this back end serves GET cdrs and tariffs`)));
  r.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof OcpiError) {
      res.status(err.httpStatus).json(envelope(undefined, err.statusCode, err.message));
      return;
    }
    res.status(500).json(envelope(undefined, 3000, `the back end failed: ${(err as Error)?.message ?? String(err)}`));
  });
  return r;
}
