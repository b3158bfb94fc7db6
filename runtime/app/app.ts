/**
 * The entry point to an ingest server's app (Realm's `App`): logs users in, keeps the current
 * one, and persists users so a restarted app resumes without logging in again.
 */
import { AsymgenError } from "../errors.js";
import { currentPlatform } from "../platform/platform.js";
import { AppEndpoint } from "./app-endpoint.js";
import { AuthError, InsecureConnectionError } from "./auth-error.js";
import type { Credentials } from "./credentials.js";
import { EmailPasswordAuth } from "./email-password-auth.js";
import type { HttpTransport } from "./http-transport.js";
import { isLoopbackHost } from "./is-loopback-host.js";
import { parseJsonBody } from "./parse-json-body.js";
import type { PersistedUsers, UserRecord } from "./user-record.js";
import type { UserStore } from "./user-store.js";
import { User } from "./user.js";

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
  /** Where users are persisted on Node (default `./asymgen-data/app-<id>/`); other platforms keep them their own way. */
  baseFilePath?: string;
}

/** An app on an ingest server (Realm's `App`). */
export class App {
  /** The app id. */
  readonly id: string;
  /** The server's base URL, without a trailing slash. */
  readonly baseUrl: string;
  /** Where the persisted users are (on Node, the directory holding them). */
  readonly baseFilePath: string;
  /** Registration for the email/password provider. */
  readonly emailPasswordAuth: EmailPasswordAuth;
  private readonly users = new Map<string, User>();
  private current: User | null = null;
  /** The platform's name, sent as the device's platform at login. */
  private readonly platformName: string;
  private readonly endpoint: AppEndpoint;
  private readonly store: UserStore;
  /**
   * Pending while the store reads asynchronously (a browser's IndexedDB): until it settles the
   * users are unknown, so `currentUser` refuses to answer and `logIn` waits (a login saved before
   * would replace users not read yet). Null once read.
   */
  private loading: Promise<void> | null = null;
  /** Why the asynchronous read failed, if it did. */
  private loadError: Error | null = null;
  /** Given to each user: saves every user after one changes (a promise where the store writes asynchronously). */
  private readonly persist = (): void | Promise<void> => this.saveUsers();

  constructor(config: AppConfiguration) {
    // Read once: the platform's transport and user store serve this app for its whole life.
    const platform = currentPlatform();
    this.platformName = platform.name;
    this.id = config.id;
    this.baseUrl = checkBaseUrl(config.baseUrl, config.allowInsecureHttp === true, platform.transport);
    this.store = platform.openUserStore(config.id, config.baseFilePath);
    this.baseFilePath = this.store.location;
    this.endpoint = new AppEndpoint(this.id, this.baseUrl, platform.transport);
    this.emailPasswordAuth = new EmailPasswordAuth(this.endpoint);
    const saved = this.store.read();
    if (!isPromiseLike(saved)) {
      this.restoreUsers(saved);
      return;
    }
    const loading = Promise.resolve(saved).then(
      (users) => {
        this.restoreUsers(users);
        this.loading = null;
      },
      (error: unknown) => {
        this.loadError = error instanceof Error ? error : new AsymgenError(String(error));
        throw this.loadError;
      },
    );
    // Handled here too: an app made with `new App` and never awaited must not raise an unhandled rejection.
    loading.catch(() => undefined);
    this.loading = loading;
  }

  /**
   * Creates the app and resolves once its persisted users are read. In a browser, where they are
   * read from IndexedDB (asynchronous), this is how to make an app before reading `currentUser`;
   * on Node it is the same as `new App(config)`.
   */
  static async open(config: AppConfiguration): Promise<App> {
    const app = new App(config);
    await app.loading;
    return app;
  }

  /** The user logged in last (still logged in), or null. */
  get currentUser(): User | null {
    this.assertUsersRead("currentUser");
    if (this.current?.isLoggedIn) return this.current;
    return [...this.users.values()].find((user) => user.isLoggedIn) ?? null;
  }

  /** Every user this app knows, by id, logged in or not. */
  get allUsers(): Readonly<Record<string, User>> {
    this.assertUsersRead("allUsers");
    return Object.fromEntries(this.users);
  }

  /**
   * Logs in with `credentials` and makes the user current; resolves once the user is persisted
   * (in a browser, once IndexedDB committed it to disk). Logging in again as a known user updates
   * that same `User` object, so sync sessions paused by a logout resume.
   */
  async logIn(credentials: Credentials): Promise<User> {
    // The persisted users first: an anonymous login reuses a kept anonymous user, and the save
    // below must not replace users not read yet.
    await this.loading;
    if (credentials.providerType === "anon-user") {
      // Realm reuses a logged-in anonymous user instead of creating a new one per login.
      const anonymous = [...this.users.values()].find((u) => u.providerType === "anon-user" && u.isLoggedIn);
      if (anonymous !== undefined) return this.makeCurrent(anonymous);
    }
    const response = await this.endpoint.postJson(`/auth/providers/${credentials.providerType}/login`, {
      ...credentials.payload,
      options: { device: { platform: this.platformName, sdk: "asymgen" } },
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
      user = new User(this.endpoint, record, this.persist);
      this.users.set(userId, user);
      this.current = user;
      await this.saveUsers();
    } else {
      this.current = user;
      await user.updateFromLogin(record);
    }
    return user;
  }

  /** Throws, naming the way out, while the users are still being read (or when reading them failed). */
  private assertUsersRead(what: string): void {
    if (this.loadError !== null) throw new AsymgenError(`app.${what}: reading this app's users from ${this.store.location} failed: ${this.loadError.message}`);
    if (this.loading !== null) {
      throw new AsymgenError(
        `app.${what} is not known yet: this app's users are still being read from ${this.store.location} (asynchronous in a browser); make the app with \`await App.open(config)\`, which waits for them`,
      );
    }
  }

  /** Takes the users read from the store. */
  private restoreUsers(saved: PersistedUsers): void {
    for (const record of saved.users) this.users.set(record.id, new User(this.endpoint, record, this.persist));
    const current = saved.currentUserId === null ? undefined : this.users.get(saved.currentUserId);
    this.current = current?.isLoggedIn ? current : null;
  }

  /** Writes every user to the store (after a login, refresh or logout); a promise where the store writes asynchronously. */
  private saveUsers(): void | Promise<void> {
    return this.store.write({
      currentUserId: this.current?.id ?? null,
      users: [...this.users.values()].map((user) => user.toRecord()),
    });
  }

  private async makeCurrent(user: User): Promise<User> {
    this.current = user;
    await this.saveUsers();
    return user;
  }
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

/** The base URL without trailing slashes, after refusing one that is not http(s) or sends tokens in the clear. */
function checkBaseUrl(baseUrl: string, allowInsecureHttp: boolean, transport: HttpTransport): string {
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
  transport.checkTarget?.(url);
  return baseUrl.replace(/\/+$/, "");
}
