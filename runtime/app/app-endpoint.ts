/**
 * What `User` and `EmailPasswordAuth` need of their `App`: its id, the server's base URL and the
 * transport to reach it. Handing them this instead of the `App` keeps the app layer free of
 * import cycles (app.ts creates users; users never import app.ts).
 */
import { AuthError } from "./auth-error.js";
import type { HttpResponse, HttpTransport } from "./http-transport.js";
import { parseJsonBody } from "./parse-json-body.js";

/** How long an auth exchange (login, registration, refresh) may take. */
export const AUTH_REQUEST_TIMEOUT_MS = 30_000;

/** An app on a server, as its users and providers reach it. */
export class AppEndpoint {
  constructor(
    /** The app id (`asymgen serve --app-id`). */
    readonly appId: string,
    /** The server's base URL, without a trailing slash. */
    readonly baseUrl: string,
    /** The platform's transport. */
    readonly transport: HttpTransport,
  ) {}

  /** POSTs JSON to an app-scoped route (`/auth/providers/…`); a non-2xx answer throws `AuthError`. */
  async postJson(route: string, body: unknown): Promise<HttpResponse> {
    const response = await this.transport({
      method: "POST",
      url: `${this.baseUrl}/api/client/v2.0/app/${encodeURIComponent(this.appId)}${route}`,
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      timeoutMs: AUTH_REQUEST_TIMEOUT_MS,
    });
    if (response.status >= 200 && response.status < 300) return response;
    const answer = parseJsonBody(response);
    const message = typeof answer["error"] === "string" ? answer["error"] : `HTTP ${response.status}`;
    const code = typeof answer["error_code"] === "string" ? answer["error_code"] : "";
    throw new AuthError(`${route.slice(1)}: ${message}`, response.status, code);
  }
}
