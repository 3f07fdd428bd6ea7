// What the HTTP routes are built from.
import { DEFAULT_PARTY } from '../cdrs/cdr.js';
import type { Csms } from '../core/csms.js';
import type { OcppEndpoint } from '../ocpp/endpoint.js';
import type { OcpiOptions } from '../ocpi/options.js';
import type { Store } from '../store/store.js';

export interface ApiContext {
  csms: Csms;
  store: Store;
  ocpp: OcppEndpoint;
  version: string;
  startedAtMs: number;
  /** OCPI endpoints under /ocpi/2.2.1 (party defaults to NL / CBX, no auth). */
  ocpi?: OcpiOptions;
}

/** The OCPI options in force: as given, else the back end's party without auth. */
export const ocpiOptions = (ctx: ApiContext): OcpiOptions => ctx.ocpi ?? { party: ctx.csms.party ?? DEFAULT_PARTY };
