// Every request body and query string goes through a zod schema; the first problem becomes one
// 400 { error: 'invalid-request', message, field }. Each schema sets its own messages, so the
// text a client sees is the API's, never zod's.
import { z } from 'zod';
import { ApiError } from '../api-error.js';

const invalidRequest = (field: string, message: string): ApiError => new ApiError(400, 'invalid-request', message, field);

type Issue = z.core.$ZodIssue;
type Path = readonly PropertyKey[];

const isPrefix = (outer: Path, inner: Path): boolean => outer.length <= inner.length && outer.every((seg, i) => seg === inner[i]);

/**
 * The problem to report: the first in check order, except that an unknown field of an object
 * comes before anything inside that object (zod reports unknown keys after the known ones).
 */
export function firstIssue(issues: readonly Issue[]): Issue {
  let first = issues[0];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys' && issue !== first && isPrefix(issue.path, first.path)) {
      if (first.code !== 'unrecognized_keys' || issue.path.length < first.path.length) first = issue;
    }
  }
  return first;
}

/**
 * The field an issue names: `[1].expiryDate`, `address.city`, an unknown key itself (`colour`),
 * `[1].` for a whole list item and `(body)` for the whole input.
 */
export function fieldOf(issue: Issue): string {
  const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]] : issue.path;
  if (path.length === 0) return '(body)';
  const text = path.map((seg) => (typeof seg === 'number' ? `[${seg}].` : `${String(seg)}.`)).join('');
  return typeof path[path.length - 1] === 'number' ? text : text.slice(0, -1);
}

/** The input as the schema's output, or a 400 naming the first problem. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issue = firstIssue(r.error.issues);
  throw invalidRequest(fieldOf(issue), issue.message);
}

/**
 * A JSON body of one object or a non-empty array of them. Fields of an array item are named
 * `[i].field`; of a single object, `field`.
 */
export function parseList<S extends z.ZodType>(item: S, body: unknown, emptyMessage: string): Array<z.output<S>> {
  if (!Array.isArray(body)) return [parseInput(item, body)];
  return parseInput(z.array(item).min(1, emptyMessage), body);
}

/** An error map for z.strictObject: one message when the input is no object, one for an unknown key. */
export function objectMessages(notObject: string, unknownField: (key: string) => string) {
  return { error: (issue: { code?: string; keys?: string[] }) => (issue.code === 'unrecognized_keys' ? unknownField(issue.keys![0]) : notObject) };
}

/** A key that must be absent. */
export const absent = (message: string) => z.never(message).optional();

/** A JSON whole number from min to max; any other value answers the message. */
export const wholeNumber = (min: number, max: number, message: string) =>
  z.number(message).refine(Number.isInteger, message).min(min, message).max(max, message);

/** A JSON string of min to max characters. */
export const text = (min: number, max: number, message: string) => z.string(message).min(min, message).max(max, message);

/** A date-time string Date.parse accepts, answered in UTC (toISOString). */
export const dateTime = (message: string) =>
  z
    .string(message)
    .refine((s) => !Number.isNaN(Date.parse(s)), message)
    .transform((s) => new Date(Date.parse(s)).toISOString());

// ------------------------------------------------------------ query strings
// A query value is a string, or an array when the key repeats; an empty value counts as absent.

const blankIsAbsent = (q: unknown): string | undefined => (q === undefined || q === '' ? undefined : String(q));

/** A query whole number (default when absent or empty). */
export const queryInt = (field: string, dflt: number, min: number, max: number) =>
  z.preprocess(
    blankIsAbsent,
    z
      .string()
      .regex(/^\d+$/, `${field} must be a whole number between ${min} and ${max}`)
      .transform(Number)
      .pipe(z.number().min(min, `${field} must be between ${min} and ${max}`).max(max, `${field} must be between ${min} and ${max}`))
      .default(dflt),
  );

/** A query date-time, answered in UTC; undefined when absent or empty. */
export const queryDateTime = (message: string) => z.preprocess(blankIsAbsent, dateTime(message).optional());

/** A query value as text (repeated keys join with commas); undefined when absent. */
export const queryText = () => z.preprocess((q) => (q === undefined ? undefined : String(q)), z.string().optional());

export const offsetParam = (field = 'offset') => queryInt(field, 0, 0, Number.MAX_SAFE_INTEGER);
export const limitParam = (dflt: number) => queryInt('limit', dflt, 1, 10000);
/** A positive id in the path or query, e.g. /sessions/:id. */
export const idParam = (field: string) => queryInt(field, 0, 1, Number.MAX_SAFE_INTEGER);
export const dateTimeParam = (field: string) => queryDateTime(`${field} must be an ISO 8601 date-time, e.g. 2026-03-02T08:00:00Z`);

/** The :id of /sessions/:id and /invoices/:id. */
export const idParams = z.object({ id: idParam('id') });
