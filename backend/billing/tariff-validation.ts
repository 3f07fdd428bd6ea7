// STUB: being written. Signatures are the contract.
import type { Tariff } from './ocpi.js';

export class TariffValidationError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** Check an untrusted JSON value is an OCPI 2.2.1 tariff; throws TariffValidationError naming the field. */
export function validateTariff(input: unknown): Tariff {
  throw new TariffValidationError('', `not implemented: ${typeof input}`);
}
