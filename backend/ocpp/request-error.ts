// The error a protocol handler throws for a request the OCPP schema allows but the back end
// cannot make sense of; the endpoint answers it as a CALLERROR with this code.
export class OcppRequestError extends Error {
  constructor(
    readonly rpcCode: 'PropertyConstraintViolation' | 'FormationViolation' | 'GenericError',
    message: string,
  ) {
    super(message);
  }
}
