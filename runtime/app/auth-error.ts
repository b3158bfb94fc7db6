/**
 * The errors the app and auth layer throw: a server answer that is not a success, a network
 * failure (an answer over its size cap among them), the end of a user's session, and a base URL
 * that would send tokens in the clear.
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

/**
 * The user's session is over: the server refused the refresh token (it expired, was revoked, or
 * the server no longer knows the session or the user: a reset store, a deleted user), or the user
 * is logged out. The user is then logged out; log in again. Queued data stays.
 */
export class SessionExpiredError extends AuthError {
  override name = "SessionExpiredError";
  constructor(
    message = "the user's session is over (refresh token refused): log in again",
    /** The server's `error_code` for the refused refresh (`InvalidSession`), or "" when no server answer caused it. */
    readonly serverCode = "",
  ) {
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

/** An answer's body exceeded the request's cap (`maxResponseBytes`); the request was aborted. */
export class ResponseTooLargeError extends NetworkError {
  override name = "ResponseTooLargeError";
  constructor(
    message: string,
    /** The cap in bytes. */
    readonly limitBytes: number,
  ) {
    super(message);
  }
}

/** `new App({ baseUrl })` was given `http://` to a host other than this machine without `allowInsecureHttp: true`. */
export class InsecureConnectionError extends AsymgenError {
  override name = "InsecureConnectionError";
  constructor(
    /** The refused base URL. */
    readonly baseUrl: string,
  ) {
    super(
      `baseUrl "${baseUrl}" is plain http:// to another machine: passwords and tokens would cross the network unencrypted; use https://, or set allowInsecureHttp: true in the App configuration`,
    );
  }
}
