// An error a request handler throws to answer with this HTTP status and a JSON body naming the problem.
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}
