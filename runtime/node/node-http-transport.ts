/**
 * The Node transport (`HttpTransport`): Node's own `http`/`https` clients and their keep-alive
 * global agents. Not `fetch`: on Node 20, undici's fetch costs 3–4 times the CPU of
 * `http.request` per exchange (web streams, a copy of the body; about 280 µs more for a 60 KB
 * upload here), which a client uploading small batches pays on every one. Browsers use
 * runtime/browser/fetch-transport.ts instead.
 *
 * A proxy named by the environment (`HTTPS_PROXY`, lowercase `http_proxy`, `NO_PROXY`: see
 * proxy-from-env.ts) is used through agents of its own; without one, requests take the direct
 * path through the global agents, as before.
 */
import http from "node:http";
import https from "node:https";
import { NetworkError, ResponseTooLargeError } from "../app/auth-error.js";
import { DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT_MS, type HttpRequest, type HttpResponse, type ResponseHeaders } from "../app/http-transport.js";
import { getProxyForUrl, proxyAuthorization, type ProxyChoice } from "./proxy-from-env.js";
import { getForwardAgent, getTunnelAgent } from "./proxy-tunnel-agent.js";

/** Sends `request` and reads the whole answer; a transport failure throws `NetworkError`. */
export async function sendNodeHttpRequest(request: HttpRequest): Promise<HttpResponse> {
  const timeoutMs = request.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const limit = request.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  // One deadline for the whole exchange, the answer's body included.
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const url = new URL(request.url);
    const body = typeof request.body === "string" ? Buffer.from(request.body, "utf8") : request.body;
    const headers: Record<string, string | number> = { ...request.headers };
    if (body !== undefined) headers["content-length"] = body.byteLength;
    const proxy = getProxyForUrl(url);
    let outgoing!: http.ClientRequest;
    const answer = await new Promise<http.IncomingMessage>((resolve, reject) => {
      outgoing = openRequest(url, proxy, { method: request.method, headers, signal }, resolve);
      outgoing.on("error", reject);
      outgoing.end(body);
    });
    const tooLarge = (what: string): ResponseTooLargeError => {
      // The rest of the answer is never read: drop the connection rather than drain it.
      answer.destroy();
      return new ResponseTooLargeError(`${request.method} ${request.url} failed: the answer's body ${what} the cap of ${limit} bytes (maxResponseBytes)`, limit);
    };
    const declared = Number(answer.headers["content-length"] ?? NaN);
    if (declared > limit) throw tooLarge(`is ${declared} bytes (Content-Length), over`);
    // Reading the body is part of the exchange: a connection cut mid-answer throws here.
    const chunks: Buffer[] = [];
    let received = 0;
    for await (const chunk of answer) {
      received += (chunk as Buffer).length;
      if (received > limit) throw tooLarge("exceeds");
      chunks.push(chunk as Buffer);
    }
    // Answered before the whole body left (a server that did not read it all): stop sending, so
    // that nothing reads the body once this returns (`releasesRequestBodies`). A server reads the
    // body before it answers, and then this costs nothing.
    if (!outgoing.writableFinished) outgoing.destroy();
    return { status: answer.statusCode ?? 0, headers: headersOf(answer), body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) };
  } catch (error) {
    if (error instanceof ResponseTooLargeError) throw error;
    const timedOut = signal.aborted;
    const reason = timedOut ? "timed out" : describeFailure(error);
    throw new NetworkError(`${request.method} ${request.url} failed: ${reason}${proxyNote(request.url)}`, error, timedOut);
  }
}

/**
 * Once a request has been answered, nothing here reads its body any more (see above): the sync
 * session may write its next request into the same buffer (runtime/sync/request-body-pool.ts).
 */
sendNodeHttpRequest.releasesRequestBodies = true;

/**
 * `new App` checks its base URL with this: an unusable proxy variable is a configuration error
 * to show at startup, not at every upload.
 */
sendNodeHttpRequest.checkTarget = (url: URL): void => {
  getProxyForUrl(url);
};

/**
 * Starts the request: directly through the global keep-alive agents (the upload hot path, as
 * before proxies), or through `proxy`: a CONNECT tunnel for https, the absolute-URI form for
 * http (RFC 9112 §3.2.2).
 */
function openRequest(
  url: URL,
  proxy: ProxyChoice | null,
  options: http.RequestOptions,
  onAnswer: (answer: http.IncomingMessage) => void,
): http.ClientRequest {
  if (proxy === null) return (url.protocol === "https:" ? https : http).request(url, options, onAnswer);
  if (url.protocol === "https:") return https.request(url, { ...options, agent: getTunnelAgent(proxy.url) }, onAnswer);
  return http.request(
    {
      ...options,
      host: proxy.url.hostname.replace(/^\[(.*)\]$/, "$1"),
      port: Number(proxy.url.port),
      path: url.href,
      headers: { ...options.headers, host: url.host, ...proxyAuthorization(proxy.url) },
      agent: getForwardAgent(proxy.url),
    },
    onAnswer,
  );
}

/** " (through the proxy from HTTPS_PROXY)" when the request went through one, so a failure says where to look. */
function proxyNote(url: string): string {
  try {
    const proxy = getProxyForUrl(new URL(url));
    return proxy === null ? "" : ` (through the proxy from ${proxy.variable})`;
  } catch {
    return "";
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

/** What went wrong, with the underlying error's message when there is one. */
function describeFailure(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    if (cause instanceof Error) return `${error.message} (${cause.message})`;
    return error.message;
  }
  return String(error);
}
