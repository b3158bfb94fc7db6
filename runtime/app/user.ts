/**
 * A user of an `App`: holds the tokens, refreshes the access token before it expires and when
 * the server refuses it, and tells listeners (sync sessions) when the session ends.
 */
import { AUTH_REQUEST_TIMEOUT_MS, type AppEndpoint } from "./app-endpoint.js";
import { AuthError, SessionExpiredError } from "./auth-error.js";
import { decodeJwtExpiry } from "./decode-jwt-expiry.js";
import type { HttpRequest, HttpResponse } from "./http-transport.js";
import { parseJsonBody } from "./parse-json-body.js";
import type { ProviderType, UserRecord, UserState } from "./user-record.js";

export type { ProviderType, UserRecord, UserState } from "./user-record.js";

/** An authenticated request to the server, by path under the base URL. */
export interface AuthorizedRequest extends Omit<HttpRequest, "url"> {
  path: string;
}

/** Refresh this long before expiry at most; a short-lived token refreshes at 80% of its life. */
const MAX_REFRESH_MARGIN_MS = 30_000;
const SESSION_PATH = "/api/client/v2.0/auth/session";

/** A user of an app: log in through `app.logIn(credentials)`. */
export class User {
  private readonly listeners = new Set<() => void>();
  private refreshing: Promise<string> | null = null;

  /**
   * @internal Created by `App`; `persist` saves every user of the app (after any change of
   * tokens), returning a promise where the store writes asynchronously (a browser's IndexedDB).
   */
  constructor(
    private readonly endpoint: AppEndpoint,
    private record: UserRecord,
    private readonly persist: () => void | Promise<void>,
  ) {}

  /** @internal The id of the app this user belongs to (the ingest route is app-scoped). */
  get appId(): string {
    return this.endpoint.appId;
  }

  /** @internal The server's base URL (the browser's queue worker rebuilds this user against it). */
  get baseUrl(): string {
    return this.endpoint.baseUrl;
  }

  /** The server's id for this user. */
  get id(): string {
    return this.record.id;
  }

  /** The device id the server assigned at login. */
  get deviceId(): string {
    return this.record.deviceId;
  }

  /** The provider the user logged in with. */
  get providerType(): ProviderType {
    return this.record.providerType;
  }

  /** The current access token (a JWT), or null once logged out. */
  get accessToken(): string | null {
    return this.record.accessToken;
  }

  /** The refresh token, or null once logged out. */
  get refreshToken(): string | null {
    return this.record.refreshToken;
  }

  /** "LoggedIn" while the user holds a refresh token the server has not refused. */
  get state(): UserState {
    return this.record.refreshToken === null ? "LoggedOut" : "LoggedIn";
  }

  /** True while `state` is "LoggedIn". */
  get isLoggedIn(): boolean {
    return this.state === "LoggedIn";
  }

  /** Calls `callback` whenever the user logs in, refreshes, logs out or loses the session. */
  addListener(callback: () => void): void {
    this.listeners.add(callback);
  }

  /** Stops calling `callback`. */
  removeListener(callback: () => void): void {
    this.listeners.delete(callback);
  }

  /** Stops calling every listener. */
  removeAllListeners(): void {
    this.listeners.clear();
  }

  /**
   * Logs out: the server revokes the refresh token and the user forgets both tokens (resolves
   * once that is persisted). Sync sessions pause; queued data stays on disk and uploads after the
   * next login.
   */
  async logOut(): Promise<void> {
    const refreshToken = this.record.refreshToken;
    const saved = this.setTokens(null, null);
    if (refreshToken === null) return saved;
    // Revoked at the server while the store writes; a failed write rejects (the revocation goes on).
    await Promise.all([this.revokeRefreshToken(refreshToken), saved]);
  }

  /** Gets a new access token with the refresh token; a refused refresh ends the session. */
  async refreshAccessToken(): Promise<string> {
    // One refresh at a time: concurrent callers share it.
    this.refreshing ??= this.requestAccessToken().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  /**
   * @internal Sends a request with the access token, refreshing it first when it is about to
   * expire and once more if the server answers 401. Throws `SessionExpiredError` when the user
   * is logged out or the refresh is refused.
   */
  async sendAuthorized(request: AuthorizedRequest): Promise<HttpResponse> {
    const token = await this.freshAccessToken();
    const response = await this.sendWithToken(request, token);
    if (response.status !== 401) return response;
    const refreshed = await this.refreshAccessToken();
    return this.sendWithToken(request, refreshed);
  }

  /** @internal Whether the app's transport is done with a request's body once it is answered (`HttpTransport.releasesRequestBodies`). */
  get transportReleasesRequestBodies(): boolean {
    return this.endpoint.transport.releasesRequestBodies === true;
  }

  /** @internal Replaces the tokens after a login (same user logging in again); a promise while the store writes them. */
  updateFromLogin(record: UserRecord): void | Promise<void> {
    this.record = { ...record };
    return this.emitChange();
  }

  /** @internal The persisted form. */
  toRecord(): UserRecord {
    return { ...this.record };
  }

  private async freshAccessToken(): Promise<string> {
    const token = this.record.accessToken;
    if (this.record.refreshToken === null) throw new SessionExpiredError("the user is logged out");
    if (token === null) return this.refreshAccessToken();
    const lifetime = decodeJwtExpiry(token);
    if (lifetime === null) return token;
    const span = lifetime.issuedAt === null ? Infinity : lifetime.expiresAt - lifetime.issuedAt;
    const margin = Math.min(MAX_REFRESH_MARGIN_MS, span / 5);
    return Date.now() >= lifetime.expiresAt - margin ? this.refreshAccessToken() : token;
  }

  private sendWithToken(request: AuthorizedRequest, token: string): Promise<HttpResponse> {
    const { path, ...rest } = request;
    return this.endpoint.transport({
      ...rest,
      url: this.endpoint.baseUrl + path,
      headers: { ...request.headers, authorization: `Bearer ${token}` },
    });
  }

  private async requestAccessToken(): Promise<string> {
    const refreshToken = this.record.refreshToken;
    if (refreshToken === null) throw new SessionExpiredError("the user is logged out");
    const response = await this.endpoint.transport({
      method: "POST",
      url: this.endpoint.baseUrl + SESSION_PATH,
      headers: { authorization: `Bearer ${refreshToken}` },
      timeoutMs: AUTH_REQUEST_TIMEOUT_MS,
    });
    const body = parseJsonBody(response);
    if (response.status === 401) {
      // The server does not know this session any more (expired, revoked, a reset store, a
      // deleted user): no retry can fix that, only a new login. Drop the tokens (users.json
      // too), unless someone logged in again meanwhile.
      if (this.record.refreshToken === refreshToken) settleQuietly(this.setTokens(null, null));
      const code = typeof body["error_code"] === "string" ? body["error_code"] : "";
      const reason = typeof body["error"] === "string" ? `: ${body["error"]}` : "";
      const detail = `HTTP 401${code === "" ? "" : ` ${code}`}${reason}`;
      throw new SessionExpiredError(`the server refused the refresh token (${detail}): user ${this.id} is logged out; log in again (queued data stays)`, code);
    }
    if (response.status < 200 || response.status >= 300 || typeof body["access_token"] !== "string") {
      const message = typeof body["error"] === "string" ? body["error"] : `HTTP ${response.status}`;
      const code = typeof body["error_code"] === "string" ? body["error_code"] : "";
      throw new AuthError(`refreshing the access token failed: ${message}`, response.status, code);
    }
    const accessToken = body["access_token"];
    if (this.record.refreshToken === refreshToken) settleQuietly(this.setTokens(accessToken, refreshToken));
    return accessToken;
  }

  private async revokeRefreshToken(refreshToken: string): Promise<void> {
    try {
      await this.endpoint.transport({
        method: "DELETE",
        url: this.endpoint.baseUrl + SESSION_PATH,
        headers: { authorization: `Bearer ${refreshToken}` },
        timeoutMs: 10_000,
      });
    } catch {
      // Offline: the local logout stands; the refresh token expires on the server in time.
    }
  }

  private setTokens(accessToken: string | null, refreshToken: string | null): void | Promise<void> {
    this.record = { ...this.record, accessToken, refreshToken };
    return this.emitChange();
  }

  /** Saves the users and tells the listeners; returns the store's write (a promise where it is asynchronous). */
  private emitChange(): void | Promise<void> {
    const saved = this.persist();
    for (const listener of [...this.listeners]) listener();
    return saved;
  }
}

/**
 * Lets an asynchronous save after a refresh finish on its own. Not persisting a new access token
 * costs a refresh after a restart; not persisting a refused session, one refused refresh after a
 * restart: neither is worth failing the refresh for. (A synchronous store's error still throws.)
 */
function settleQuietly(saved: void | Promise<void>): void {
  if (saved !== undefined) saved.catch(() => undefined);
}
