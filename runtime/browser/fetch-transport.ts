/**
 * The browser transport (`HttpTransport`) over the global `fetch`: what the `browser` entry
 * installs. Platform-neutral TypeScript (fetch, AbortController, web streams), so it also runs,
 * and is tested, on Node 20. The Node entry uses node-http-transport.ts instead: undici's fetch
 * costs several times the CPU of `http.request` per exchange.
 *
 * The same contract as the Node transport: one deadline for the whole exchange, the body
 * included; an answer over `maxResponseBytes` (declared or counted as it arrives) aborts the
 * request with `ResponseTooLargeError` without reading the rest; redirects are not followed (a
 * redirect is a `NetworkError`: the server never sends one, and following it would post the
 * batch, or a token, somewhere the app did not name). Proxies are the browser's business.
 */
import { NetworkError, ResponseTooLargeError } from "../app/auth-error.js";
import { DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT_MS, type HttpRequest, type HttpResponse } from "../app/http-transport.js";

/** Sends `request` with `fetch` and reads the whole answer; a transport failure throws `NetworkError`. */
export async function fetchTransport(request: HttpRequest): Promise<HttpResponse> {
  const timeoutMs = request.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const limit = request.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const tooLarge = (what: string): ResponseTooLargeError => {
    // The rest of the answer is never read: drop the connection rather than drain it.
    controller.abort();
    return new ResponseTooLargeError(`${request.method} ${request.url} failed: the answer's body ${what} the cap of ${limit} bytes (maxResponseBytes)`, limit);
  };
  try {
    const init: RequestInit = { method: request.method, signal: controller.signal, redirect: "error" };
    if (request.headers !== undefined) init.headers = request.headers;
    // A view over part of a larger buffer is sent as exactly its bytes (fetch takes the view's range).
    if (request.body !== undefined) init.body = request.body as BodyInit;
    const answer = await fetch(request.url, init);
    const declared = Number(answer.headers.get("content-length") ?? NaN);
    if (declared > limit) throw tooLarge(`is ${declared} bytes (Content-Length), over`);
    const body = await readCapped(answer, limit, tooLarge);
    return { status: answer.status, headers: answer.headers, body };
  } catch (error) {
    if (error instanceof ResponseTooLargeError) throw error;
    const reason = timedOut ? "timed out" : describeFailure(error);
    throw new NetworkError(`${request.method} ${request.url} failed: ${reason}`, error, timedOut);
  } finally {
    clearTimeout(timer);
  }
}

/** The answer's body, read chunk by chunk and stopped past `limit` bytes. */
async function readCapped(answer: Response, limit: number, tooLarge: (what: string) => Error): Promise<Uint8Array> {
  if (answer.body === null) return new Uint8Array(0);
  const reader = answer.body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  for (;;) {
    // A connection cut mid-answer rejects here: part of the exchange, so a NetworkError.
    const { done, value } = await reader.read();
    if (done) break;
    received += value.byteLength;
    if (received > limit) {
      void reader.cancel().catch(() => undefined);
      throw tooLarge("exceeds");
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const body = new Uint8Array(received);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/**
 * What went wrong, with the underlying error's message when there is one (fetch's "fetch failed"
 * hides it in `cause`). Read by shape, not `instanceof Error`: fetch's errors may come from
 * another realm (a test runner's VM context, an iframe), whose `Error` is another class.
 */
function describeFailure(error: unknown): string {
  const message = messageOf(error);
  if (message === null) return String(error);
  const cause = messageOf((error as { cause?: unknown }).cause);
  return cause === null ? message : `${message} (${cause})`;
}

function messageOf(value: unknown): string | null {
  if (typeof value !== "object" || value === null) return null;
  const message = (value as { message?: unknown }).message;
  return typeof message === "string" ? message : null;
}
