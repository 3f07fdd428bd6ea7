// OCPI credentials token auth: "Authorization: Token <base64 of the token>".
import { timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { OcpiError } from './envelope.js';

function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Token\s+(\S+)$/.exec(header ?? '');
  if (!m) return false;
  const given = Buffer.from(m[1], 'base64');
  const want = Buffer.from(token, 'utf8');
  return given.length === want.length && timingSafeEqual(given, want);
}

/** Lets a request through only with the credentials token. */
export function requireToken(token: string): RequestHandler {
  return (req, _res, next) => {
    if (!tokenMatches(req.get('authorization'), token)) {
      next(new OcpiError(401, 2000, 'missing or unknown credentials token; send Authorization: Token <base64 of the token>'));
    } else next();
  };
}
