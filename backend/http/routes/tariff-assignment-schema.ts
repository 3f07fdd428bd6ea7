// A tariff assignment as posted: which tariff applies at which scope (group, connector,
// charger, location or the default). Checked in the order the API has always answered:
// the object and its keys, scope, tariffId, keys that do not belong to the scope, then the
// keys the scope needs.
import { z } from 'zod';
import type { Csms } from '../../core/csms.js';
import { SCOPE_PRECEDENCE, type AssignmentScope } from '../../core/tariff-assignments.js';
import { absent, objectMessages, parseInput, text, wholeNumber } from '../validate.js';

export interface AssignmentRequest {
  scope: AssignmentScope;
  tariffId: string | null;
  locationId?: string;
  chargerId?: string;
  connectorId?: number;
  group?: string;
}

const SCOPED_KEYS = ['locationId', 'chargerId', 'connectorId', 'group'] as const;
type ScopedKey = (typeof SCOPED_KEYS)[number];
const NEEDS: Record<AssignmentScope, readonly ScopedKey[]> = {
  location: ['locationId'],
  charger: ['chargerId'],
  connector: ['chargerId', 'connectorId'],
  group: ['group'],
  default: [],
};

function headSchema(csms: Csms) {
  const tariffMessage = 'tariffId must name a tariff already posted to /api/tariffs (or be null to remove the assignment)';
  return z.strictObject(
    {
      scope: z.enum(SCOPE_PRECEDENCE as [AssignmentScope, ...AssignmentScope[]], `scope must be one of ${SCOPE_PRECEDENCE.join(', ')}`),
      tariffId: z
        .string(tariffMessage)
        .refine((id) => csms.hasTariff(id), tariffMessage)
        .nullable(),
      ...Object.fromEntries(SCOPED_KEYS.map((k) => [k, z.unknown().optional()])),
    },
    objectMessages('an assignment must be a JSON object { tariffId, scope, locationId?, chargerId?, connectorId?, group? }', (k) => `unknown field ${k}`),
  );
}

function scopedFieldSchemas(csms: Csms) {
  return {
    locationId: z
      .string('locationId must name a location posted to /api/locations')
      .refine((id) => csms.locations.has(id), 'locationId must name a location posted to /api/locations'),
    chargerId: z
      .string('chargerId must name a known charger (POST /api/chargers first)')
      .refine((id) => csms.chargers.has(id), 'chargerId must name a known charger (POST /api/chargers first)'),
    connectorId: wholeNumber(1, 100, 'connectorId must be a whole number from 1 to 100'),
    group: text(1, 64, 'group must be a string of 1 to 64 characters'),
  };
}

/** The keys a scope does not take (each must be absent), then the ones it needs. */
function scopeSchema(csms: Csms, scope: AssignmentScope) {
  const fields = scopedFieldSchemas(csms);
  const shape: Record<string, z.ZodType> = {};
  for (const k of SCOPED_KEYS) if (!NEEDS[scope].includes(k)) shape[k] = absent(`${k} does not belong to scope ${scope}`);
  for (const k of NEEDS[scope]) shape[k] = fields[k];
  return z.object(shape);
}

export function parseAssignment(body: unknown, csms: Csms): AssignmentRequest {
  const { scope, tariffId } = parseInput(headSchema(csms), body);
  const scoped = parseInput(scopeSchema(csms, scope), body) as Record<string, unknown>;
  return { scope, tariffId, ...Object.fromEntries(NEEDS[scope].map((k) => [k, scoped[k]])) };
}
