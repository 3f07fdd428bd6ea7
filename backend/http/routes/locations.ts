// Locations (sites): a time zone and an optional postal address for the CDRs.
import express from 'express';
import { z } from 'zod';
import { isValidTimeZone } from '../../billing/local-time.js';
import type { LocationRec } from '../../cdrs/cdr.js';
import type { ApiContext } from '../context.js';
import { objectMessages, parseInput, text } from '../validate.js';

const LOCATION_ID = /^[A-Za-z0-9_.:-]{1,36}$/;

const addressSchema = z
  .strictObject(
    {
      address: z.string('address.address must be a string of at most 45 characters').max(45, 'address.address must be a string of at most 45 characters'),
      city: z.string('address.city must be a string of at most 45 characters').max(45, 'address.city must be a string of at most 45 characters'),
      postalCode: z
        .string('address.postalCode must be a string of at most 10 characters')
        .max(10, 'address.postalCode must be a string of at most 10 characters')
        .optional(),
      country: z
        .string('address.country must be an ISO 3166 alpha-3 code such as NLD')
        .regex(/^[A-Z]{3}$/, 'address.country must be an ISO 3166 alpha-3 code such as NLD'),
    },
    objectMessages('address must be an object { address, city, postalCode?, country }', (k) => `unknown field ${k}`),
  )
  .transform((a): NonNullable<LocationRec['address']> => ({
    address: a.address,
    city: a.city,
    country: a.country,
    ...(a.postalCode !== undefined ? { postalCode: a.postalCode } : {}),
  }));

const locationSchema = z
  .strictObject(
    {
      id: z.string('id must be 1 to 36 characters of letters, digits, _ . : -').regex(LOCATION_ID, 'id must be 1 to 36 characters of letters, digits, _ . : -'),
      name: text(1, 255, 'name must be a string of 1 to 255 characters'),
      timeZone: z
        .string('timeZone must be an IANA time zone such as Europe/Amsterdam')
        .refine(isValidTimeZone, 'timeZone must be an IANA time zone such as Europe/Amsterdam'),
      address: addressSchema.nullish(),
    },
    objectMessages(
      'a location must be a JSON object { id, name, timeZone, address? }',
      (k) => `unknown field ${k}; a location has id, name, timeZone, address`,
    ),
  )
  .transform((v): LocationRec => ({ id: v.id, name: v.name, timeZone: v.timeZone, address: v.address ?? null }));

export function locationRoutes({ csms }: ApiContext): express.Router {
  const r = express.Router();
  r.get('/locations', (_req, res) => {
    const items = [...csms.locations.values()];
    res.json({ items, total: items.length });
  });
  r.post('/locations', async (req, res) => {
    const loc = parseInput(locationSchema, req.body);
    await csms.putLocation(loc);
    res.status(200).json(loc);
  });
  return r;
}
