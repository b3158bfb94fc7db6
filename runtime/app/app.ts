/**
 * The entry point to an ingest server's app (Realm's `App`): logs users in, keeps the current
 * one, and persists users so a restarted app resumes without logging in again.
 */
import * as path from "node:path";
import { AsymgenError } from "../errors.js";
import { AuthError, InsecureConnectionError } from "./auth-error.js";
import type { Credentials } from "./credentials.js";
import { EmailPasswordAuth } from "./email-password-auth.js";
import { parseJsonBody, sendHttpRequest, type HttpResponse } from "./http-request.js";
import { isLoopbackHost } from "./is-loopback-host.js";
import { getProxyForUrl } from "./proxy-from-env.js";
import { readUserFile, writeUserFile } from "./user-file.js";
import { User, type UserRecord } from "./user.js";

/** How to reach the server and where to keep users on disk. */
export interface AppConfiguration {
  /** The app id the server was started with (`asymgen serve --app-id`). */
  id: string;
  /**
   * The server's base URL, e.g. `https://ingest.example.com` or `http://127.0.0.1:8080`. Plain
   * `http://` is refused for any host but this machine unless `allowInsecureHttp` is set.
   */
  baseUrl: string;
  /**
   * Allow a `http://` base URL to another machine (default false): logins, refresh tokens and
   * data then cross the network unencrypted. For a trusted network only, e.g. a lab.
   */
  allowInsecureHttp?: boolean;
  /** Where users are persisted (default `./asymgen-data/app-<id>/`). */
  baseFilePath?: string;
}

/** An app on an ingest server (Realm's `App`). */
export class App {
  /** The app id. */
  readonly id: string;
  /** The server's base URL, without a trailing slash. */
  readonly baseUrl: string;
  /** The directory holding the persisted users. */
  readonly baseFilePath: string;
  /** Registration for the email/password provider. */
  readonly emailPasswordAuth: EmailPasswordAuth;
  private readonly users = new Map<string, User>();
  private current: User | null = null;

  constructor(config: AppConfiguration) {
    this.id = config.id;
    this.baseUrl = checkBaseUrl(config.baseUrl, config.allowInsecureHttp === true);
    this.baseFilePath = path.resolve(config.baseFilePath ?? path.join("asymgen-data", `app-${config.id}`));
    this.emailPasswordAuth = new EmailPasswordAuth(this);
    const saved = readUserFile(this.baseFilePath);
    for (const record of saved.users) this.users.set(record.id, new User(this, record));
    const current = saved.currentUserId === null ? undefined : this.users.get(saved.currentUserId);
    this.current = current?.isLoggedIn ? current : null;
  }

  /** The user logged in last (still logged in), or null. */
  get currentUser(): User | null {
    if (this.current?.isLoggedIn) return this.current;
    return [...this.users.values()].find((user) => user.isLoggedIn) ?? null;
  }

  /** Every user this app knows, by id, logged in or not. */
  get allUsers(): Readonly<Record<string, User>> {
    return Object.fromEntries(this.users);
  }

  /**
   * Logs in with `credentials` and makes the user current. Logging in again as a known user
   * updates that same `User` object, so sync sessions paused by a logout resume.
   */
  async logIn(credentials: Credentials): Promise<User> {
    if (credentials.providerType === "anon-user") {
      // Realm reuses a logged-in anonymous user instead of creating a new one per login.
      const anonymous = [...this.users.values()].find((u) => u.providerType === "anon-user" && u.isLoggedIn);
      if (anonymous !== undefined) return this.makeCurrent(anonymous);
    }
    const response = await this.postJson(`/auth/providers/${credentials.providerType}/login`, {
      ...credentials.payload,
      options: { device: { platform: "node", sdk: "asymgen" } },
    });
    const body = parseJsonBody(response);
    const accessToken = body["access_token"];
    const refreshToken = body["refresh_token"];
    const userId = body["user_id"];
    if (typeof accessToken !== "string" || typeof refreshToken !== "string" || typeof userId !== "string") {
      throw new AuthError("the server's login answer lacks access_token, refresh_token or user_id", response.status, "");
    }
    const record: UserRecord = {
      id: userId,
      deviceId: typeof body["device_id"] === "string" ? body["device_id"] : "",
      providerType: credentials.providerType,
      accessToken,
      refreshToken,
    };
    let user = this.users.get(userId);
    if (user === undefined) {
      user = new User(this, record);
      this.users.set(userId, user);
      this.current = user;
      this.saveUsers();
    } else {
      this.current = user;
      user.updateFromLogin(record);
    }
    return user;
  }

  /** @internal POSTs JSON to an app-scoped route; a non-2xx answer throws `AuthError`. */
  async postJson(route: string, body: unknown): Promise<HttpResponse> {
    const response = await sendHttpRequest({
      method: "POST",
      url: `${this.baseUrl}/api/client/v2.0/app/${encodeURIComponent(this.id)}${route}`,
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      timeoutMs: 30_000,
    });
    if (response.status >= 200 && response.status < 300) return response;
    const answer = parseJsonBody(response);
    const message = typeof answer["error"] === "string" ? answer["error"] : `HTTP ${response.status}`;
    const code = typeof answer["error_code"] === "string" ? answer["error_code"] : "";
    throw new AuthError(`${route.slice(1)}: ${message}`, response.status, code);
  }

  /** @internal Writes every user to disk (after a login, refresh or logout). */
  saveUsers(): void {
    writeUserFile(this.baseFilePath, {
      currentUserId: this.current?.id ?? null,
      users: [...this.users.values()].map((user) => user.toRecord()),
    });
  }

  private makeCurrent(user: User): User {
    this.current = user;
    this.saveUsers();
    return user;
  }
}

/** The base URL without trailing slashes, after refusing one that is not http(s) or sends tokens in the clear. */
function checkBaseUrl(baseUrl: string, allowInsecureHttp: boolean): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new AsymgenError(`baseUrl "${baseUrl}" is not a URL (expected e.g. https://ingest.example.com)`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new AsymgenError(`baseUrl "${baseUrl}" must start with https:// (or http:// for this machine)`);
  }
  if (url.protocol === "http:" && !allowInsecureHttp && !isLoopbackHost(url.hostname)) throw new InsecureConnectionError(baseUrl);
  // A proxy variable that cannot be used is a configuration error: say so now, not at every upload.
  getProxyForUrl(url);
  return baseUrl.replace(/\/+$/, "");
}
