// Tariffs: posting versions, the current list, the OCPI published list and tariff assignments.
import express from 'express';
import { z } from 'zod';
import { ApiError } from '../../api-error.js';
import { TariffValidationError, validateTariff } from '../../billing/tariff-validation.js';
import { listTariffs } from '../../ocpi/tariffs.js';
import { SCOPE_PRECEDENCE } from '../../core/tariff-assignments.js';
import { ocpiOptions, type ApiContext } from '../context.js';
import { limitParam, offsetParam, parseInput } from '../validate.js';
import { parseAssignment } from './tariff-assignment-schema.js';

const postQuery = z.object({ default: z.enum(['true', 'false'], 'default must be true or false').optional() });
const pageQuery = z.object({ offset: offsetParam(), limit: limitParam(100) });

/** The tariff body goes through the billing engine's own validation, as OCPI defines a tariff. */
function tariffOf(body: unknown) {
  try {
    return validateTariff(body);
  } catch (err) {
    if (err instanceof TariffValidationError) {
      throw new ApiError(400, 'invalid-tariff', err.message, err.field || '(body)');
    }
    throw err;
  }
}

export function tariffRoutes(ctx: ApiContext): express.Router {
  const { csms, store } = ctx;
  const { party } = ocpiOptions(ctx);
  const r = express.Router();
  r.get('/tariffs', (_req, res) => {
    res.json({ items: csms.currentTariffs(), defaultTariffId: csms.getDefaultTariffId() });
  });

  r.post('/tariffs', async (req, res) => {
    const tariff = tariffOf(req.body);
    const query = parseInput(postQuery, req.query);
    const v = await csms.putTariff(tariff, query.default === 'true');
    res.status(201).json({ id: tariff.id, version: v.version, default: v.isDefault });
  });

  r.get('/tariffs/ocpi', async (req, res) => {
    const page = parseInput(pageQuery, req.query);
    const { items, total } = await listTariffs(store, party, page);
    res.json({ items, total, ...page });
  });

  r.get('/tariff-assignments', (_req, res) => {
    const items = csms.tariffAssignments();
    res.json({ items, total: items.length, precedence: SCOPE_PRECEDENCE });
  });
  r.post('/tariff-assignments', async (req, res) => {
    const a = parseAssignment(req.body, csms);
    await csms.putTariffAssignment(a);
    res.status(200).json(a);
  });
  return r;
}
