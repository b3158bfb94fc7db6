/**
 * The auth routes' rate limits: failed logins per account and per client address, login attempts
 * per address (each password check costs a scrypt hash), anonymous users and registrations per
 * address. Over a limit the route answers 429 `TooManyRequests` with `Retry-After` (whole seconds).
 *
 * Limits are kept in this process's memory (see rate-limiter.ts): N servers behind a load balancer
 * allow up to N times as much in total.
 */
import crypto from "node:crypto";
import type { IncomingMessage } from "node:http";
import net from "node:net";
import { HttpError } from "../http/http-error.js";
import { checkRateLimit, createRateLimiter } from "./rate-limiter.js";
import type { RateLimit, RateLimiter } from "./rate-limiter.js";

/** The auth rate limits of a server (each a rate, or false: off). */
export interface AuthLimits {
  /** Wrong passwords / API keys for one account (email or API key id); a successful login clears it. */
  failedLoginsPerAccount: RateLimit | false;
  /** Failed logins from one client address, whatever the account (password spraying). */
  failedLoginsPerAddress: RateLimit | false;
  /** Password, API-key and custom-token login attempts from one client address, successful or not. */
  loginsPerAddress: RateLimit | false;
  /** Anonymous users created from one client address. */
  anonymousUsersPerAddress: RateLimit | false;
  /** Email/password registrations from one client address. */
  registrationsPerAddress: RateLimit | false;
  /** Keys each limit remembers at most (the least recently used are forgotten first). */
  maxTrackedKeys: number;
  /**
   * Take the client address from the last `X-Forwarded-For` hop (the address the proxy in front of
   * this server saw) instead of the connection's. Only behind a proxy that sets it: otherwise any
   * client picks its own address and escapes the per-address limits.
   */
  trustProxy: boolean;
}

const minute = 60_000;

/** The defaults: what an auth server exposed to the internet can live with. */
export const defaultAuthLimits: AuthLimits = {
  failedLoginsPerAccount: { limit: 10, windowMs: 15 * minute },
  failedLoginsPerAddress: { limit: 60, windowMs: 60 * minute },
  loginsPerAddress: { limit: 30, windowMs: minute },
  anonymousUsersPerAddress: { limit: 30, windowMs: 3 * minute },
  registrationsPerAddress: { limit: 10, windowMs: 10 * minute },
  maxTrackedKeys: 100_000,
  trustProxy: false,
};

/** Resolves partial limits over the defaults; throws a user-facing Error naming a bad one. */
export function resolveAuthLimits(partial: Partial<AuthLimits> = {}): AuthLimits {
  const limits: AuthLimits = { ...defaultAuthLimits };
  for (const [name, value] of Object.entries(partial) as [keyof AuthLimits, AuthLimits[keyof AuthLimits] | undefined][]) {
    if (value !== undefined) (limits as unknown as Record<string, unknown>)[name] = value;
  }
  for (const name of [
    "failedLoginsPerAccount",
    "failedLoginsPerAddress",
    "loginsPerAddress",
    "anonymousUsersPerAddress",
    "registrationsPerAddress",
  ] as const) {
    checkRateLimit(`authLimits.${name}`, limits[name]);
  }
  if (!(Number.isInteger(limits.maxTrackedKeys) && limits.maxTrackedKeys > 0))
    throw new Error(`authLimits.maxTrackedKeys: expected a positive integer (got ${limits.maxTrackedKeys})`);
  return limits;
}

/** What a login is about: the account it names (null when none can be told) and where it came from. */
export interface LoginAttempt {
  /** `userpass:<email>`, `apikey:<id>`: the account a wrong guess counts against. */
  account: string | null;
  address: string;
}

/** The auth routes' limits, applied around each route. */
export interface AuthThrottle {
  /** Runs a password, API-key or custom-token login under the limits: a 401 it throws counts as a failure. */
  login<T>(attempt: LoginAttempt, run: () => Promise<T>): Promise<T>;
  /** Throws a 429 when `address` may create no more anonymous users now; else counts one. */
  anonymousUser(address: string): void;
  /** Throws a 429 when `address` may register no more accounts now; else counts one. */
  registration(address: string): void;
  /** The address a request counts against. */
  clientAddress(req: IncomingMessage): string;
}

function tooMany(waitMs: number, what: string): HttpError {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  return new HttpError(429, "TooManyRequests", `too many ${what}: retry in ${seconds} s`, { "retry-after": String(seconds) });
}

/**
 * A limiter key for an account name. Names come from request bodies (up to 64 KiB), so long ones
 * are hashed: the memory per key stays small whatever a client sends.
 */
function accountKey(account: string): string {
  return account.length <= 128 ? account : `sha256:${crypto.createHash("sha256").update(account).digest("base64url")}`;
}

/**
 * The key of a client address. An IPv6 client usually holds a whole /64 (and can pick any address
 * in it), so IPv6 addresses count by their /64; an IPv4-mapped address counts as the IPv4 one.
 */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1] ?? address;
  if (!net.isIPv6(address)) return address;
  const [head = "", tail = ""] = address.split("::");
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = address.includes("::") ? (tail === "" ? [] : tail.split(":")) : [];
  const groups = address.includes("::")
    ? [...headGroups, ...Array<string>(Math.max(0, 8 - headGroups.length - tailGroups.length)).fill("0"), ...tailGroups]
    : headGroups;
  return `${groups
    .slice(0, 4)
    .map((group) => (group.includes(".") ? group : Number.parseInt(group, 16).toString(16)))
    .join(":")}::/64`;
}

/** Creates the throttle of one server. */
export function createAuthThrottle(limits: AuthLimits, now: () => number = Date.now): AuthThrottle {
  const limiter = (rate: RateLimit | false): RateLimiter => createRateLimiter(rate, { maxKeys: limits.maxTrackedKeys, now });
  const accountFailures = limiter(limits.failedLoginsPerAccount);
  const addressFailures = limiter(limits.failedLoginsPerAddress);
  const addressLogins = limiter(limits.loginsPerAddress);
  const anonymousUsers = limiter(limits.anonymousUsersPerAddress);
  const registrations = limiter(limits.registrationsPerAddress);

  return {
    async login<T>(attempt: LoginAttempt, run: () => Promise<T>): Promise<T> {
      const address = addressKey(attempt.address);
      const account = attempt.account === null ? null : accountKey(attempt.account);
      // A locked account refuses the right password too: otherwise the 429 would only slow the
      // guessing down, and a 200 among the 429s would still tell the attacker the password.
      const locked = Math.max(account === null ? 0 : accountFailures.retryAfterMs(account), addressFailures.retryAfterMs(address));
      if (locked > 0) throw tooMany(locked, "failed logins");
      const wait = addressLogins.retryAfterMs(address);
      if (wait > 0) throw tooMany(wait, "login attempts from this address");
      // Every attempt counts as a failure until it succeeds: checked and taken in one synchronous
      // step, so a burst of concurrent guesses cannot all pass the check before the first fails.
      addressLogins.take(address);
      addressFailures.take(address);
      if (account !== null) accountFailures.take(account);
      let result: T;
      try {
        result = await run();
      } catch (error) {
        // A malformed body or a store error was no guess: it gives its tokens back (and never
        // clears the account, or a bad request would unlock it).
        if (!(error instanceof HttpError && error.status === 401)) {
          addressFailures.refund(address);
          if (account !== null) accountFailures.refund(account);
        }
        throw error;
      }
      addressFailures.refund(address);
      if (account !== null) accountFailures.forget(account);
      return result;
    },
    anonymousUser(address) {
      const wait = anonymousUsers.take(addressKey(address));
      if (wait > 0) throw tooMany(wait, "anonymous users from this address");
    },
    registration(address) {
      const wait = registrations.take(addressKey(address));
      if (wait > 0) throw tooMany(wait, "registrations from this address");
    },
    clientAddress(req) {
      const socketAddress = req.socket.remoteAddress ?? "unknown";
      if (!limits.trustProxy) return socketAddress;
      const header = req.headers["x-forwarded-for"];
      const hops = (Array.isArray(header) ? header.join(",") : (header ?? "")).split(",");
      // The last hop is the one the trusted proxy appended; earlier ones are the client's to write.
      const last = hops[hops.length - 1]?.trim() ?? "";
      return net.isIP(last) !== 0 ? last : socketAddress;
    },
  };
}
