// OCPP 1.6 timestamps as the core takes them: UTC ISO with milliseconds, or a CALLERROR.
import { isoUtc } from '../../metering/sampled-values.js';
import { OcppRequestError } from '../request-error.js';

export function requireIso(ts: string, field: string): string {
  const iso = isoUtc(ts);
  if (iso === null) throw new OcppRequestError('PropertyConstraintViolation', `${field} is not a valid date-time: ${ts}`);
  return iso;
}
