/**
 * How the platform-neutral core sends HTTP: one function from a request to its whole answer,
 * installed by the platform (Node: `node:http`/`https` with proxies, runtime/node/
 * node-http-transport.ts; browsers: `fetch`, runtime/browser/fetch-transport.ts). `App`, `User`
 * and the sync session see only this.
 */

/** One request. */
export interface HttpRequest {
  method: "GET" | "POST" | "DELETE";
  url: string;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  /** Abort the request after this many ms (default `DEFAULT_TIMEOUT_MS`, 60 000). */
  timeoutMs?: number;
  /**
   * The most bytes of answer body to read (default `DEFAULT_MAX_RESPONSE_BYTES`, 1 MiB): a longer
   * answer, or one that declares a longer `Content-Length`, aborts the request with
   * `ResponseTooLargeError`, so a broken or hostile server cannot fill the client's memory.
   */
  maxResponseBytes?: number;
}

/** An answer's headers, looked up by name in any case (as fetch's `Headers.get`). */
export interface ResponseHeaders {
  get(name: string): string | null;
}

/** One answer, read to the end. */
export interface HttpResponse {
  status: number;
  headers: ResponseHeaders;
  body: Uint8Array;
}

/**
 * Sends `request` and reads the whole answer, however its status reads; a transport failure
 * (no answer, a timeout, a cut connection) rejects with `NetworkError`, an answer over its cap
 * with `ResponseTooLargeError`. Redirects are not followed.
 */
export interface HttpTransport {
  (request: HttpRequest): Promise<HttpResponse>;
  /**
   * Throws when requests to `url` could never be sent as the host is configured (Node: a proxy
   * variable that cannot be used). `new App` calls it once, so a configuration error shows at
   * startup, not at every upload. Absent: nothing to check.
   */
  checkTarget?: (url: URL) => void;
  /**
   * True when, once the promise has settled with an answer, the transport reads nothing more of
   * that request's body (it keeps no reference, and sends nothing more of it): the sync session
   * then reuses the buffer for a later request. Absent: the session gives every request a buffer
   * of its own.
   */
  releasesRequestBodies?: boolean;
}

/** The whole exchange's deadline when a request sets none. */
export const DEFAULT_TIMEOUT_MS = 60_000;

/** The answer cap when a request sets none: an auth answer is a few hundred bytes of JSON. */
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;
