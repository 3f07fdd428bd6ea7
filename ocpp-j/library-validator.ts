// ocpp-rpc's own strict OCPP 1.6 validator (same schemas, same errors), with each action's
// compiled schema looked up once instead of by id on every message: that lookup costs more
// than validating a typical message. The answering side (the back end) uses it, so a charger
// gets the library's CALLERROR codes and texts; schemas.ts is the simulator's own reading of the
// same schema files, which reports a violation instead of throwing the library's error.
import { createRequire } from 'node:module';

type ValidateFn = (data: unknown) => boolean;

export interface StrictValidator {
  readonly subprotocol: string;
  validate(schemaId: string, params: unknown): boolean;
}

interface LibraryValidator extends StrictValidator {
  /** ocpp-rpc keeps its Ajv instance here; if a later version does not, the library's validator is used as it is. */
  _ajv?: { getSchema(id: string): ValidateFn | undefined };
}

export function ocpp16Validator(): StrictValidator | null {
  const require = createRequire(import.meta.url);
  const standard = require('ocpp-rpc/lib/standard-validators') as LibraryValidator[];
  const base = standard.find((v) => v.subprotocol === 'ocpp1.6');
  if (!base) return null;
  const ajv = base._ajv;
  if (!ajv || typeof ajv.getSchema !== 'function') return base;
  const compiled = new Map<string, ValidateFn | undefined>();
  return {
    subprotocol: base.subprotocol,
    validate(schemaId: string, params: unknown): boolean {
      let fn = compiled.get(schemaId);
      if (fn === undefined && !compiled.has(schemaId)) compiled.set(schemaId, (fn = ajv.getSchema(schemaId)));
      // Valid: done. Invalid or unknown: the library validates again and throws its own error.
      if (fn && fn(params)) return true;
      return base.validate(schemaId, params);
    },
  };
}
