// Tokens (OCPP idTags) the back end authorises, with their customer group.
import express from 'express';
import { z } from 'zod';
import type { TokenRec, TokenStatus } from '../../core/csms.js';
import type { ApiContext } from '../context.js';
import { dateTime, objectMessages, parseList, text } from '../validate.js';

const TOKEN_STATUSES: readonly TokenStatus[] = ['Accepted', 'Blocked', 'Expired', 'Invalid'];

const tokenSchema = z
  .strictObject(
    {
      idTag: text(1, 20, 'idTag must be a string of 1 to 20 characters (OCPP 1.6 IdToken)'),
      status: z.enum(TOKEN_STATUSES, 'status must be one of Accepted, Blocked, Expired, Invalid').nullish(),
      expiryDate: dateTime('expiryDate must be an ISO 8601 date-time').nullish(),
      parentIdTag: text(1, 20, 'parentIdTag must be a string of 1 to 20 characters').nullish(),
      group: text(1, 64, 'group must be a string of 1 to 64 characters (the customer group the token belongs to)').nullish(),
    },
    objectMessages(
      'a token must be a JSON object { idTag, status?, expiryDate?, parentIdTag?, group? }',
      (k) => `unknown field ${k}; a token has idTag, status, expiryDate, parentIdTag, group`,
    ),
  )
  .transform((t): TokenRec => ({
    idTag: t.idTag,
    status: t.status ?? 'Accepted',
    expiryDate: t.expiryDate ?? null,
    parentIdTag: t.parentIdTag ?? null,
    group: t.group ?? null,
  }));

/** A token as the API shows it: group only when the token has one. */
function tokenJson(t: TokenRec): Record<string, unknown> {
  const { group, ...rest } = t;
  return group === null ? rest : { ...rest, group };
}

export function tokenRoutes({ csms }: ApiContext): express.Router {
  const r = express.Router();
  r.get('/tokens', (_req, res) => {
    res.json({ items: [...csms.tokens.values()].map(tokenJson) });
  });
  r.post('/tokens', async (req, res) => {
    const tokens = parseList(tokenSchema, req.body, 'send one token object or a non-empty array of them');
    await csms.putTokens(tokens);
    res.status(200).json({ items: tokens.map(tokenJson), total: tokens.length });
  });
  return r;
}
