/**
 * An error that becomes an HTTP answer: a status and App Services' error body
 * `{ error, error_code }`. Anything else thrown in a route is a 500.
 */

/** A failure with its HTTP status and a stable machine-readable code. */
export class HttpError extends Error {
  override name = "HttpError";
  constructor(
    readonly status: number,
    /** App Services-style code: `InvalidSession`, `BadRequest`, … */
    readonly errorCode: string,
    message: string,
    /** Extra response headers (e.g. `Retry-After`). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}
