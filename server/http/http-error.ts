/**
 * An error that becomes an HTTP answer: a status and App Services' error body
 * `{ error, error_code }`. Anything else thrown in a route is a 500.
 */
import type { IngestErrorCode } from "asymgen/protocol";

/**
 * Every `error_code` the server answers with (App Services' names). A closed set: clients branch
 * on them. The ingest route's are the protocol's (`IngestErrorCode`, with what each means for a
 * client); the auth routes add three.
 */
export type HttpErrorCode = IngestErrorCode | "InvalidPassword" | "AuthProviderNotFound" | "AccountNameInUse";

/** A failure with its HTTP status and a stable machine-readable code. */
export class HttpError extends Error {
  override name = "HttpError";
  constructor(
    readonly status: number,
    /** App Services-style code: `InvalidSession`, `BadRequest`, … */
    readonly errorCode: HttpErrorCode,
    message: string,
    /** Extra response headers (e.g. `Retry-After`). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}
