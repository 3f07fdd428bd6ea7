// The OCPI response envelope and the errors answered in it.

export class OcpiError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** 2001: invalid or missing parameters. */
export const invalidParameters = (message: string): OcpiError => new OcpiError(400, 2001, message);

export function envelope(data: unknown, statusCode = 1000, message = 'Success'): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (data !== undefined) body.data = data;
  body.status_code = statusCode;
  body.status_message = message;
  body.timestamp = new Date().toISOString();
  return body;
}
