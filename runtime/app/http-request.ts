/**
 * The one place the client runtime speaks HTTP. It uses the platform's global `fetch` (Node 20,
 * Electron, React Native), so nothing else in the runtime depends on a transport.
 */
import { NetworkError } from "./auth-error.js";

/** One request. */
export interface HttpRequest {
  method: "GET" | "POST" | "DELETE";
  url: string;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  /** Abort the request after this many ms (default 60 000). */
  timeoutMs?: number;
}

/** One answer, read to the end. */
export interface HttpResponse {
  status: number;
  headers: Headers;
  body: Uint8Array;
}

const DEFAULT_TIMEOUT_MS = 60_000;

/** Sends `request` and reads the whole answer; a transport failure throws `NetworkError`. */
export async function sendHttpRequest(request: HttpRequest): Promise<HttpResponse> {
  const timeoutMs = request.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const init: RequestInit = {
    method: request.method,
    headers: request.headers ?? {},
    signal: AbortSignal.timeout(timeoutMs),
  };
  // A Uint8Array is a valid fetch body; the cast only bridges ArrayBufferLike vs ArrayBuffer typing.
  if (request.body !== undefined) init.body = request.body as BodyInit;
  try {
    const response = await fetch(request.url, init);
    // Reading the body is part of the exchange: a connection cut mid-answer is a network failure.
    const body = new Uint8Array(await response.arrayBuffer());
    return { status: response.status, headers: response.headers, body };
  } catch (error) {
    const reason = describeFailure(error);
    // Duck-typed: the DOMException may come from another realm (a vm context), failing instanceof.
    const timedOut = (error as { name?: unknown } | null)?.name === "TimeoutError";
    throw new NetworkError(`${request.method} ${request.url} failed: ${reason}`, error, timedOut);
  }
}

/** Parses a JSON answer body; an empty body is `{}`. */
export function parseJsonBody(response: HttpResponse): Record<string, unknown> {
  if (response.body.length === 0) return {};
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(response.body));
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The innermost message of a fetch failure (undici wraps the socket error in `cause`). */
function describeFailure(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === "TimeoutError") return "timed out";
    const cause = (error as { cause?: unknown }).cause;
    if (cause instanceof Error) return `${error.message} (${cause.message})`;
    return error.message;
  }
  return String(error);
}
