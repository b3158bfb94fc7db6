/**
 * The one place the client runtime speaks HTTP, through Node's own `http`/`https` clients and
 * their keep-alive global agents. Not `fetch`: on Node 20, undici's fetch costs 3–4 times the
 * CPU of `http.request` per exchange (web streams, a copy of the body; about 280 µs more for a
 * 60 KB upload here), which a client uploading small batches pays on every one. The runtime is
 * Node-only already (the queue is files through `node:fs`), so nothing is lost by it.
 */
import http from "node:http";
import https from "node:https";
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

const DEFAULT_TIMEOUT_MS = 60_000;

/** Sends `request` and reads the whole answer; a transport failure throws `NetworkError`. */
export async function sendHttpRequest(request: HttpRequest): Promise<HttpResponse> {
  const timeoutMs = request.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  // One deadline for the whole exchange, the answer's body included.
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const url = new URL(request.url);
    const body = typeof request.body === "string" ? Buffer.from(request.body, "utf8") : request.body;
    const headers: Record<string, string | number> = { ...request.headers };
    if (body !== undefined) headers["content-length"] = body.byteLength;
    const answer = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const client = url.protocol === "https:" ? https : http;
      const outgoing = client.request(url, { method: request.method, headers, signal }, resolve);
      outgoing.on("error", reject);
      outgoing.end(body);
    });
    // Reading the body is part of the exchange: a connection cut mid-answer throws here.
    const chunks: Buffer[] = [];
    for await (const chunk of answer) chunks.push(chunk as Buffer);
    return { status: answer.statusCode ?? 0, headers: headersOf(answer), body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) };
  } catch (error) {
    const timedOut = signal.aborted;
    const reason = timedOut ? "timed out" : describeFailure(error);
    throw new NetworkError(`${request.method} ${request.url} failed: ${reason}`, error, timedOut);
  }
}

function headersOf(answer: http.IncomingMessage): ResponseHeaders {
  return {
    get(name) {
      const value = answer.headers[name.toLowerCase()];
      if (value === undefined) return null;
      return Array.isArray(value) ? value.join(", ") : value;
    },
  };
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

/** What went wrong, with the underlying error's message when there is one. */
function describeFailure(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    if (cause instanceof Error) return `${error.message} (${cause.message})`;
    return error.message;
  }
  return String(error);
}
