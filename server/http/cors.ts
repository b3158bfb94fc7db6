/**
 * CORS for web apps on other origins (`asymgen serve --cors-origin https://app.example.com`): a
 * page's `fetch` to the auth and ingest routes sends `Authorization` and a non-form
 * `Content-Type`, so the browser first asks with a preflight `OPTIONS` and reads the answer only
 * when the server names the page's origin. Off by default: with no origin listed the server sends
 * no CORS header at all, and a preflight gets the 404 any unknown route or method gets.
 *
 * Exact origins only, never `*`, and no `Access-Control-Allow-Credentials`: the runtime sends
 * bearer tokens in `Authorization` (fetch's default `credentials: "same-origin"` sends no cookie
 * to another origin), so there is no cookie for the browser to attach and nothing to allow.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * The request headers a page's fetch transport sends (runtime/browser/fetch-transport.ts passes
 * on what its callers set): `authorization` (user.ts: every authorized request, refresh, logout),
 * `content-type` (`application/json` on the auth routes, `application/bson` on ingest; neither
 * is a form type, so both need a preflight) and `accept` (`application/bson` on ingest: CORS
 * safelists it, listed anyway so the list is the transport's whole set).
 */
export const corsAllowedHeaders = ["authorization", "content-type", "accept"] as const;

/**
 * The answer headers the runtime reads besides the ones CORS always exposes (`content-length`,
 * `content-type`): `retry-after` on 429 and 503 (runtime/sync/classify-ingest-answer.ts). A header
 * not named here reads as null in the page, and the client would retry on its own back-off
 * instead of the server's.
 */
export const corsExposedHeaders = ["retry-after"] as const;

/**
 * How long a browser may reuse a preflight answer: 2 hours, Chromium's cap (Firefox caps at 24
 * hours; without the header it is 5 seconds, which would double the requests of a page ingesting
 * in small batches). Reuse cannot outlive a removed origin's access: the browser checks the
 * actual answer's `Access-Control-Allow-Origin` too, and that is gone at once.
 */
export const corsMaxAgeSeconds = 7200;

/**
 * Why `value` cannot be a CORS origin, or null when it is one exactly as a browser sends it in
 * `Origin` (`scheme://host[:port]`, lowercase, no default port, no path and no trailing slash):
 * the server compares the header with the list byte for byte.
 */
export function corsOriginProblem(value: string): string | null {
  if (value.includes("*"))
    return 'a wildcard is refused: these routes take credentials (Authorization: Bearer …), and "*" would let every page a user visits call this server from their browser (log in, write data, reach a server only their network can reach); list each app\'s origin';
  // Sandboxed frames, data: URLs and local files all send "null": any page can make one.
  if (value === "null") return 'the origin "null" is refused: any page can send it (a sandboxed frame, a data: URL, a local file)';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "expected an origin such as https://app.example.com (scheme://host[:port])";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return "expected an http:// or https:// origin such as https://app.example.com";
  // URL's origin is the browser's own serialization of `Origin`: anything else would never match.
  if (url.origin !== value)
    return `expected an exact origin, scheme://host[:port] in lowercase with no path, query or trailing slash and no default port: ${url.origin}, as the browser sends it`;
  return null;
}

/** What CORS does for one request: `prepare` before routing, then `answerPreflight` or nothing. */
export interface Cors {
  /**
   * Sets the CORS headers every answer to `req` carries, whatever its status (an error's body
   * too, so the app can read why): `Access-Control-Allow-Origin` and `-Expose-Headers` for a
   * listed origin, `Vary: Origin` for any request once a list is set. Returns whether the origin
   * is listed.
   */
  prepare(req: IncomingMessage, res: ServerResponse): boolean;
  /**
   * Answers a preflight (`OPTIONS` with `Access-Control-Request-Method`) from a listed origin to
   * one of `path`'s routes with 204 and returns true; otherwise writes nothing and returns false
   * (the request goes on to the router, which answers an unknown method with 404). Never reads
   * the body, authenticates or touches the store.
   */
  answerPreflight(req: IncomingMessage, res: ServerResponse, path: string): boolean;
}

/**
 * The methods a browser may use on the route at `path`, or null for a route browsers do not call
 * cross-origin: `/health`, the auth session and profile routes, the provider logins and
 * registration, and ingest (the pipelined path too). Any app id matches: a wrong one then gets its
 * `AppNotFound` on the actual request, readable by the page, instead of an opaque failed preflight.
 */
function routeMethods(path: string, apiPrefix: string): string | null {
  if (path === "/health") return "GET";
  if (path === `${apiPrefix}/auth/session`) return "POST, DELETE";
  if (path === `${apiPrefix}/auth/profile`) return "GET";
  if (!path.startsWith(`${apiPrefix}/app/`)) return null;
  const [, route = ""] = /^[^/]+\/(.*)$/.exec(path.slice(`${apiPrefix}/app/`.length)) ?? [];
  if (route === "ingest" || route === "ingest/pipelined") return "POST";
  if (/^auth\/providers\/[^/]+\/login$/.test(route) || route === "auth/providers/local-userpass/register") return "POST";
  return null;
}

/** The CORS policy of a server whose routes live under `apiPrefix`; `origins` are checked (see corsOriginProblem). */
export function createCors(origins: readonly string[], apiPrefix: string): Cors {
  const problems = origins.flatMap((origin) => {
    const problem = corsOriginProblem(origin);
    return problem === null ? [] : [`CORS origin ${JSON.stringify(origin)}: ${problem}`];
  });
  if (problems.length > 0) throw new Error(problems.join("; "));
  const allowed = new Set(origins);
  const listedOrigin = (req: IncomingMessage): string | null => {
    const origin = req.headers["origin"];
    return typeof origin === "string" && allowed.has(origin) ? origin : null;
  };
  return {
    prepare(req, res) {
      if (allowed.size === 0) return false;
      // Answers differ by Origin once a list is set, so every one says so, those without CORS
      // headers too: otherwise a cache could hand a listed page an answer made for another origin
      // (the Fetch standard's "CORS protocol and HTTP caches").
      res.setHeader("vary", "Origin");
      const origin = listedOrigin(req);
      if (origin === null) return false;
      res.setHeader("access-control-allow-origin", origin);
      res.setHeader("access-control-expose-headers", corsExposedHeaders.join(", "));
      return true;
    },
    answerPreflight(req, res, path) {
      if (req.method !== "OPTIONS" || req.headers["access-control-request-method"] === undefined || listedOrigin(req) === null) return false;
      const methods = routeMethods(path, apiPrefix);
      if (methods === null) return false;
      // The browser, not the server, checks the requested method and headers against these
      // lists, and says which one failed in the page's console.
      res.writeHead(204, {
        "access-control-allow-methods": methods,
        "access-control-allow-headers": corsAllowedHeaders.join(", "),
        "access-control-max-age": String(corsMaxAgeSeconds),
      });
      res.end();
      return true;
    },
  };
}
