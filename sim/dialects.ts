// The dialects by OCPP version: each charger speaks the one its spec names (ChargerSpec.ocppVersion).

import type { Dialect } from './dialect.js';
import { ocpp16 } from './dialect-ocpp16.js';
import type { OcppVersion } from './types.js';

export const DEFAULT_OCPP_VERSION: OcppVersion = '1.6';

const DIALECTS: Record<OcppVersion, Dialect> = { '1.6': ocpp16 };

/** The dialect of an OCPP version (default 1.6). */
export function dialectFor(version: OcppVersion = DEFAULT_OCPP_VERSION): Dialect {
  const dialect = DIALECTS[version];
  if (!dialect) throw new Error(`no OCPP dialect for version ${JSON.stringify(version)}; known: ${Object.keys(DIALECTS).join(', ')}`);
  return dialect;
}
