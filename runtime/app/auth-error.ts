/**
 * The errors the app and auth layer throw: a server answer that is not a success, a network
 * failure, and the end of a user's session.
 */
import { AsymgenError } from "../errors.js";

/** The server answered with a non-2xx status; `errorCode` is its `error_code` when it sent one. */
export class AuthError extends AsymgenError {
  override name = "AuthError";
  constructor(
    message: string,
    /** The HTTP status. */
    readonly statusCode: number,
    /** The server's machine-readable `error_code` (App Services style), or "" when absent. */
    readonly errorCode: string,
  ) {
    super(message);
  }
}

/** The refresh token was refused (expired, revoked or logged out): log in again; queued data stays. */
export class SessionExpiredError extends AuthError {
  override name = "SessionExpiredError";
  constructor(message = "the user's session is over (refresh token refused): log in again") {
    super(message, 401, "session_expired");
  }
}

/** The server could not be reached (connection refused, reset, timed out). */
export class NetworkError extends AsymgenError {
  override name = "NetworkError";
  constructor(
    message: string,
    /** The underlying failure. */
    override readonly cause?: unknown,
    /** True when the request gave up after its timeout (a slow or stalled link). */
    readonly timedOut = false,
  ) {
    super(message);
  }
}
