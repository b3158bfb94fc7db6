/**
 * The auth logic behind the App Services-compatible routes. All state lives in the store's auth
 * records, so any server sharing the store can refresh or check any token.
 *
 * Records (kind / key → JSON value): `user/<id>`,
 * `identity/<provider>:<id>` → user id, `userpass/<email>`, `session/<sid>`, `apikey/<id>`.
 *
 * Token semantics: an access token is checked for signature, expiry, audience (the app id) AND for
 * its session still existing, so logging out also stops the session's access tokens at once.
 */
import crypto from "node:crypto";
import { HttpError } from "../http/http-error.js";
import { quietLogger } from "../logger.js";
import type { Logger } from "../logger.js";
import type { IngestStore } from "../stores/store.js";
import type { AuthConfig, AuthProviderName } from "./auth-config.js";
import { verifyCustomToken } from "./custom-token.js";
import { signHs256, verifyHs256 } from "./jwt.js";
import { hashPassword, verifyPassword } from "./passwords.js";

/** What a login answers (App Services' four fields). */
export interface LoginResult {
  access_token: string;
  refresh_token: string;
  user_id: string;
  device_id: string;
}

/** An authenticated request's identity. */
export interface AuthenticatedUser {
  userId: string;
  sessionId: string;
}

/** A `user/<id>` record. */
export interface UserRecord {
  id: string;
  identities: { id: string; provider_type: string }[];
  data: Record<string, unknown>;
  createdAt: string;
  /**
   * Anonymous users only: when their one session expires (ms). An anonymous user can never log in
   * again, so after this it is dead weight, and the sweep (auth-sweeper.ts) deletes it.
   */
  expiresAt?: number;
}

/** A `session/<sid>` record (the refresh token's session). */
export interface SessionRecord {
  userId: string;
  tokenHash: string;
  expiresAt: number;
}

/** An `apikey/<id>` record: the key's user and the SHA-256 of its secret (the key itself is never kept). */
export interface ApiKeyRecord {
  userId: string;
  name: string;
  hash: string;
  /** ISO time; absent on keys created before it was recorded. */
  createdAt?: string;
}

/** The auth service of one app. */
export interface AuthService {
  loginAnonymous(): Promise<LoginResult>;
  registerUserpass(email: unknown, password: unknown): Promise<void>;
  loginUserpass(email: unknown, password: unknown): Promise<LoginResult>;
  loginApiKey(key: unknown): Promise<LoginResult>;
  loginCustomToken(token: unknown): Promise<LoginResult>;
  /** Issues a new access token for a refresh token. */
  refresh(refreshToken: string): Promise<string>;
  /** Revokes the session of a refresh token. */
  logout(refreshToken: string): Promise<void>;
  /** Checks an access token; throws a 401 HttpError when it is not good. */
  authenticate(accessToken: string): Promise<AuthenticatedUser>;
  profile(userId: string): Promise<{ user_id: string; identities: { id: string; provider_type: string }[]; data: Record<string, unknown> }>;
}

const invalidSession = (message: string) => new HttpError(401, "InvalidSession", message);
const sha256 = (text: string) => crypto.createHash("sha256").update(text).digest("hex");
const newId = () => crypto.randomBytes(12).toString("hex");

/**
 * Whether a name can key an auth record on every store. PostgreSQL's text refuses NUL. An unpaired
 * surrogate reaches PostgreSQL as U+FFFD, so two different names would share one record, and SQLite
 * as ill-formed UTF-8. (With the `u` flag a surrogate range matches only unpaired surrogates.) No
 * email or subject needs C0 controls.
 */
/** RFC 5321 caps a forward path at 256 octets, brackets included: an address has at most 254. */
const maxEmailBytes = 254;
/** Our keys are 68 bytes (`<24 hex>.<43 base64url>`); room to spare, far below any index limit. */
const maxApiKeyBytes = 256;

const isKeyText = (text: string) => !/[\u0000-\u001f\u007f\ud800-\udfff]/u.test(text);

/** Whether a user record is an anonymous user's (its only identity is anonymous). */
export const isAnonymousUser = (user: UserRecord) =>
  user.identities.length > 0 && user.identities.every((identity) => identity.provider_type === "anon-user");

/** The form an email keys its `userpass/<email>` record by (and its failed-login count). */
export const normalizeEmail = (email: string) => email.trim().toLowerCase();

function safeEqualHex(a: string, b: string): boolean {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

/** Creates an API key for a new server user; returns the key (shown once; only its hash is kept). */
export async function createApiKey(store: IngestStore, name: string): Promise<{ key: string; id: string; userId: string }> {
  const id = newId();
  const secret = crypto.randomBytes(32).toString("base64url");
  const userId = newId();
  const createdAt = new Date().toISOString();
  const user: UserRecord = { id: userId, identities: [{ id, provider_type: "api-key" }], data: { name }, createdAt };
  await store.putAuthRecord("user", userId, JSON.stringify(user), true);
  const record: ApiKeyRecord = { userId, name, hash: sha256(secret), createdAt };
  await store.putAuthRecord("apikey", id, JSON.stringify(record), true);
  return { key: `${id}.${secret}`, id, userId };
}

/** Creates the auth service of app `appId`; `secret` signs its access tokens (see access-token-secret.ts). */
export async function createAuthService(
  store: IngestStore,
  config: AuthConfig,
  appId: string,
  secret: Buffer,
  logger: Logger = quietLogger,
): Promise<AuthService> {

  function requireProvider(provider: AuthProviderName): void {
    if (!config.providers.has(provider))
      throw new HttpError(401, "AuthProviderNotFound", `authentication via '${provider}' is unsupported`);
  }

  function issueAccessToken(userId: string, sessionId: string): string {
    const now = Date.now();
    return signHs256(
      {
        sub: userId,
        sid: sessionId,
        aud: appId,
        typ: "access",
        iat: Math.floor(now / 1000),
        exp: Math.floor((now + config.accessTokenTtlMs) / 1000),
        exp_ms: now + config.accessTokenTtlMs,
      },
      secret,
    );
  }

  async function startSession(userId: string, expiresAt = Date.now() + config.refreshTokenTtlMs): Promise<LoginResult> {
    const sessionId = newId();
    const tokenSecret = crypto.randomBytes(32).toString("base64url");
    const refreshToken = `${sessionId}.${tokenSecret}`;
    const record: SessionRecord = { userId, tokenHash: sha256(refreshToken), expiresAt };
    await store.putAuthRecord("session", sessionId, JSON.stringify(record), true);
    return {
      access_token: issueAccessToken(userId, sessionId),
      refresh_token: refreshToken,
      user_id: userId,
      device_id: "000000000000000000000000",
    };
  }

  async function createUser(identity: { id: string; provider_type: string }, data: Record<string, unknown>, expiresAt?: number): Promise<string> {
    const user: UserRecord = { id: newId(), identities: [identity], data, createdAt: new Date().toISOString() };
    if (expiresAt !== undefined) user.expiresAt = expiresAt;
    await store.putAuthRecord("user", user.id, JSON.stringify(user), true);
    return user.id;
  }

  async function sessionOf(refreshToken: string): Promise<{ sessionId: string; record: SessionRecord }> {
    const sessionId = refreshToken.split(".")[0] ?? "";
    const text = sessionId ? await store.getAuthRecord("session", sessionId) : null;
    if (text === null) throw invalidSession("invalid session: the refresh token is unknown or revoked");
    const record = JSON.parse(text) as SessionRecord;
    if (!safeEqualHex(record.tokenHash, sha256(refreshToken)))
      throw invalidSession("invalid session: the refresh token is unknown or revoked");
    if (record.expiresAt <= Date.now()) throw invalidSession("invalid session: the refresh token expired");
    return { sessionId, record };
  }

  function requireString(value: unknown, what: string): string {
    if (typeof value !== "string" || value.length === 0) throw new HttpError(400, "BadRequest", `expected ${what}`);
    return value;
  }

  /**
   * A string that becomes part of a store key (an email, an API key): refuses what a store cannot
   * hold, and anything longer than `maxBytes` (PostgreSQL's btree index refuses a key over about
   * 2.7 KB with an error, which would be a 500).
   */
  function requireKeyText(value: unknown, what: string, maxBytes: number): string {
    const text = requireString(value, what);
    if (!isKeyText(text)) throw new HttpError(400, "BadRequest", `expected ${what} without control characters or unpaired surrogates`);
    if (Buffer.byteLength(text) > maxBytes) throw new HttpError(400, "BadRequest", `expected ${what} of at most ${maxBytes} bytes`);
    return text;
  }

  return {
    async loginAnonymous() {
      requireProvider("anon-user");
      const identityId = newId();
      // The user lives exactly as long as its one session: the sweep needs no session look-up.
      const expiresAt = Date.now() + config.refreshTokenTtlMs;
      const userId = await createUser({ id: identityId, provider_type: "anon-user" }, {}, expiresAt);
      return startSession(userId, expiresAt);
    },
    async registerUserpass(emailValue, passwordValue) {
      requireProvider("local-userpass");
      const email = normalizeEmail(requireKeyText(emailValue, "an email", maxEmailBytes));
      const password = requireString(passwordValue, "a password");
      if (!/^[^\s@]+@[^\s@]+$/.test(email)) throw new HttpError(400, "BadRequest", "expected a valid email address");
      if (password.length < config.minPasswordLength || password.length > 128) {
        throw new HttpError(400, "BadRequest", `password must be between ${config.minPasswordLength} and 128 characters`);
      }
      const hash = await hashPassword(password);
      const userId = newId();
      if (!(await store.putAuthRecord("userpass", email, JSON.stringify({ userId, hash }), true))) {
        throw new HttpError(409, "AccountNameInUse", "name already in use");
      }
      const user: UserRecord = {
        id: userId,
        identities: [{ id: email, provider_type: "local-userpass" }],
        data: { email },
        createdAt: new Date().toISOString(),
      };
      await store.putAuthRecord("user", userId, JSON.stringify(user), true);
    },
    async loginUserpass(emailValue, passwordValue) {
      requireProvider("local-userpass");
      const email = normalizeEmail(requireKeyText(emailValue, "a username", maxEmailBytes));
      const password = requireString(passwordValue, "a password");
      const text = await store.getAuthRecord("userpass", email);
      // Hash even for an unknown user so timing does not reveal which emails exist.
      const ok =
        text === null ? (await hashPassword(password), false) : await verifyPassword(password, (JSON.parse(text) as { hash: string }).hash);
      if (!ok || text === null) throw new HttpError(401, "InvalidPassword", "invalid username/password");
      return startSession((JSON.parse(text) as { userId: string }).userId);
    },
    async loginApiKey(keyValue) {
      requireProvider("api-key");
      const key = requireKeyText(keyValue, "an API key", maxApiKeyBytes);
      const id = key.split(".")[0] ?? "";
      const text = id ? await store.getAuthRecord("apikey", id) : null;
      const record = text === null ? null : (JSON.parse(text) as ApiKeyRecord);
      if (!record || !safeEqualHex(record.hash, sha256(key.slice(id.length + 1))))
        throw new HttpError(401, "InvalidSession", "invalid API key");
      const login = await startSession(record.userId);
      // `apikey revoke` deletes the key, then the sessions it finds. A login that read the key
      // before the delete but wrote its session after the scan would outlive the revocation:
      // looking again after writing the session closes that window.
      if ((await store.getAuthRecord("apikey", id)) === null) {
        await store.deleteAuthRecord("session", login.refresh_token.split(".")[0] ?? "");
        throw new HttpError(401, "InvalidSession", "invalid API key");
      }
      return login;
    },
    async loginCustomToken(tokenValue) {
      requireProvider("custom-token");
      const custom = config.customToken;
      if (!custom) throw new HttpError(401, "AuthProviderNotFound", "custom-token provider has no key");
      const token = requireString(tokenValue, "a token");
      const verified = await verifyCustomToken(custom, token);
      // The JWKS endpoint being down is not the token's fault: 503 tells the client to retry, where
      // a 401 would make it drop credentials that are fine.
      if ("keysUnavailable" in verified) {
        // The detail (the JWKS address, the fetch error) is for the operator, not for any caller.
        logger.log("error", "custom-token login: cannot read the JWKS", { reason: verified.failure });
        throw new HttpError(503, "ServiceUnavailable", "custom token not checked: the server cannot read its signing keys right now", {
          "retry-after": "30",
        });
      }
      if ("failure" in verified) throw invalidSession(`invalid custom token: ${verified.failure}`);
      const sub = verified.subject;
      if (!isKeyText(sub)) throw invalidSession("invalid custom token: sub has control characters or unpaired surrogates");
      const identityKey = `custom-token:${sub}`;
      let userId = await store.getAuthRecord("identity", identityKey);
      if (userId === null) {
        const candidate = await createUser({ id: sub, provider_type: "custom-token" }, {});
        // Two first logins racing: the first identity record wins and both use its user.
        await store.putAuthRecord("identity", identityKey, candidate, true);
        userId = await store.getAuthRecord("identity", identityKey);
      }
      return startSession(userId ?? "");
    },
    async refresh(refreshToken) {
      const { sessionId, record } = await sessionOf(refreshToken);
      return issueAccessToken(record.userId, sessionId);
    },
    async logout(refreshToken) {
      const { sessionId, record } = await sessionOf(refreshToken);
      await store.deleteAuthRecord("session", sessionId);
      // An anonymous user cannot log in again once its session is gone (App Services deletes it
      // on logout too): keeping it would only grow the store.
      const userText = await store.getAuthRecord("user", record.userId);
      if (userText !== null && isAnonymousUser(JSON.parse(userText) as UserRecord)) await store.deleteAuthRecord("user", record.userId);
    },
    async authenticate(accessToken) {
      const verified = verifyHs256(accessToken, secret);
      if ("failure" in verified) throw invalidSession(`invalid session: ${verified.failure}`);
      const { claims } = verified;
      const expMs = typeof claims["exp_ms"] === "number" ? claims["exp_ms"] : typeof claims["exp"] === "number" ? claims["exp"] * 1000 : 0;
      if (expMs <= Date.now()) throw invalidSession("invalid session: access token expired");
      if (claims["aud"] !== appId || claims["typ"] !== "access") throw invalidSession("invalid session: token is for another app");
      const userId = claims["sub"];
      const sessionId = claims["sid"];
      if (typeof userId !== "string" || typeof sessionId !== "string") throw invalidSession("invalid session: malformed token");
      const text = await store.getAuthRecord("session", sessionId);
      if (text === null) throw invalidSession("invalid session: the session was logged out");
      if ((JSON.parse(text) as SessionRecord).expiresAt <= Date.now()) throw invalidSession("invalid session: the session expired");
      return { userId, sessionId };
    },
    async profile(userId) {
      const text = await store.getAuthRecord("user", userId);
      if (text === null) throw invalidSession("invalid session: user not found");
      const user = JSON.parse(text) as UserRecord;
      return { user_id: user.id, identities: user.identities, data: user.data };
    },
  };
}
