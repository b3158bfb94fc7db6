/**
 * How the platform-neutral core sends HTTP: one function from a request to its whole answer.
 * DRAFT (package-split issue): the sync/app helper owns and refines this interface.
 */
import type { HttpRequest, HttpResponse } from "./http-request.js";

/** Sends `request` and reads the whole answer; a transport failure rejects with `NetworkError`. */
export type HttpTransport = (request: HttpRequest) => Promise<HttpResponse>;
