// Validation of OCPP payloads against the JSON schemas that ship inside ocpp-rpc.
// One Ajv instance per worker thread (module singleton); each schema is compiled the first
// time its action is seen, then cached.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Ocpp16ErrorCode } from './errors.js';

export type SchemaProtocol = 'ocpp1.6' | 'ocpp2.0.1';

const SCHEMA_FILES: Record<SchemaProtocol, string> = {
  'ocpp1.6': 'ocpp1_6.json',
  'ocpp2.0.1': 'ocpp2_0_1.json',
};

/** RFC 3339 date-time, as OCPP uses it (offset required). */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:?\d{2})$/;

const KEYWORD_TO_CODE: Record<string, Ocpp16ErrorCode> = {
  type: 'TypeConstraintViolation',
  required: 'OccurenceConstraintViolation',
  minItems: 'OccurenceConstraintViolation',
  maxItems: 'OccurenceConstraintViolation',
  additionalProperties: 'PropertyConstraintViolation',
  enum: 'PropertyConstraintViolation',
  pattern: 'PropertyConstraintViolation',
  format: 'PropertyConstraintViolation',
  maxLength: 'PropertyConstraintViolation',
  minLength: 'PropertyConstraintViolation',
  maximum: 'PropertyConstraintViolation',
  minimum: 'PropertyConstraintViolation',
  multipleOf: 'PropertyConstraintViolation',
};

export interface ValidationFailure {
  code: Ocpp16ErrorCode;
  message: string;
}

export function ocppRpcSchemaDir(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('ocpp-rpc')), 'lib', 'schemas');
}

export class SchemaValidator {
  private readonly ajv: Ajv;
  /** Raw schemas by id; compiled on first use. */
  private readonly known = new Map<string, object>();
  /** Compiled validators by action, request and response apart: no key string is built per message. */
  private readonly compiledReq = new Map<string, ValidateFunction | null>();
  private readonly compiledConf = new Map<string, ValidateFunction | null>();

  constructor(readonly protocol: SchemaProtocol) {
    const file = path.join(ocppRpcSchemaDir(), SCHEMA_FILES[protocol]);
    const schemas = JSON.parse(readFileSync(file, 'utf8')) as Array<{ $id: string; $schema?: string }>;
    this.ajv = new Ajv({ strict: false, allErrors: false });
    this.ajv.addFormat('date-time', DATE_TIME);
    for (const { $id, $schema: _draft, ...schema } of schemas) {
      // The ids ('urn:Action.req') are not URNs a URI parser accepts; we key by them ourselves.
      this.known.set($id, schema);
    }
  }

  /** True when the protocol defines `action` (has a request schema for it). */
  hasAction(action: string): boolean {
    return this.known.has(this.schemaId(action, 'req'));
  }

  /** Validates `payload` as `action`'s request ('req') or response ('conf'). null when valid. */
  validate(action: string, kind: 'req' | 'conf', payload: unknown): ValidationFailure | null {
    const cache = kind === 'req' ? this.compiledReq : this.compiledConf;
    let fn = cache.get(action);
    if (fn === undefined) {
      const schema = this.known.get(this.schemaId(action, kind));
      fn = schema ? this.ajv.compile(schema) : null;
      cache.set(action, fn);
    }
    if (fn === null) return { code: 'NotImplemented', message: `no schema for ${action}.${kind} in ${this.protocol}` };
    if (fn(payload)) return null;
    const first: ErrorObject | undefined = fn.errors?.[0];
    const code = (first && KEYWORD_TO_CODE[first.keyword]) || 'FormationViolation';
    return { code, message: this.ajv.errorsText(fn.errors, { dataVar: action }) };
  }

  private schemaId(action: string, kind: 'req' | 'conf'): string {
    // ocpp-rpc names every schema urn:Action.req / urn:Action.conf, in 1.6 and 2.0.1 alike.
    return `urn:${action}.${kind}`;
  }
}

const perWorker = new Map<SchemaProtocol, SchemaValidator>();

/** The worker's shared validator for a protocol (created on first use). */
export function schemaValidator(protocol: SchemaProtocol): SchemaValidator {
  let v = perWorker.get(protocol);
  if (!v) {
    v = new SchemaValidator(protocol);
    perWorker.set(protocol, v);
  }
  return v;
}
