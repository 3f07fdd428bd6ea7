// A CDR correction as posted. Checked in the order the API has always answered: the object
// and its keys, that it corrects something and not by two tariffs, then each field. The
// tariff itself is validated where it is priced (cdr-corrections.ts).
import { z } from 'zod';
import type { CorrectionRequest } from '../../cdrs/corrections.js';
import { objectMessages, parseInput } from '../validate.js';

const KEYS = ['tariffId', 'tariff', 'meterStartWh', 'meterStopWh', 'remark'] as const;

const keysSchema = z.strictObject(
  Object.fromEntries(KEYS.map((k) => [k, z.unknown().optional()])),
  objectMessages(
    'send { tariffId? | tariff?, meterStartWh?, meterStopWh?, remark? }',
    (k) => `unknown field ${k}; a correction has tariffId, tariff, meterStartWh, meterStopWh, remark`,
  ),
);

const intentSchema = z
  .record(z.string(), z.unknown())
  .refine((b) => Object.keys(b).some((k) => k !== 'remark'), 'say what to correct: tariffId, tariff, meterStartWh and/or meterStopWh')
  .refine((b) => b.tariffId === undefined || b.tariff === undefined, { message: 'give tariffId or tariff, not both', path: ['tariff'] });

const wh = (k: string) =>
  z
    .number(`${k} must be a whole number of Wh >= 0`)
    .refine(Number.isInteger, `${k} must be a whole number of Wh >= 0`)
    .min(0, `${k} must be a whole number of Wh >= 0`)
    .optional();

const fieldsSchema = z.object({
  tariffId: z.string('tariffId must be a string').optional(),
  meterStartWh: wh('meterStartWh'),
  meterStopWh: wh('meterStopWh'),
  remark: z.string('remark must be a string of at most 255 characters').max(255, 'remark must be a string of at most 255 characters').optional(),
});

/** The body as sent, once it passes. */
export function parseCorrection(body: unknown): CorrectionRequest {
  parseInput(keysSchema, body);
  parseInput(intentSchema, body);
  parseInput(fieldsSchema, body);
  return body as CorrectionRequest;
}
