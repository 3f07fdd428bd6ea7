import type { OcpiParty } from '../cdrs/cdr.js';

export interface OcpiOptions {
  party: OcpiParty;
  /** Credentials token required in the Authorization header; null/undefined = no auth. */
  token?: string | null;
  /** Most objects per page (default 100). */
  maxLimit?: number;
}
