// OCPP-J error codes as OCPP 1.6 spells them (note "OccurenceConstraintViolation").

export const OCPP16_ERROR_CODES = [
  'NotImplemented',
  'NotSupported',
  'InternalError',
  'ProtocolError',
  'SecurityError',
  'FormationViolation',
  'PropertyConstraintViolation',
  'OccurenceConstraintViolation',
  'TypeConstraintViolation',
  'GenericError',
] as const;

export type Ocpp16ErrorCode = (typeof OCPP16_ERROR_CODES)[number];

/** A CALL the charger could not accept; becomes a CALLERROR frame. */
export class OcppCallError extends Error {
  constructor(
    readonly code: Ocpp16ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'OcppCallError';
  }
}
