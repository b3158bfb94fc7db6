/**
 * The auth routes' rate limits: failed logins per email/password account and per client address,
 * login attempts per address (each password check costs a scrypt hash), anonymous users and
 * registrations per address. Over a limit the route answers 429 `TooManyRequests` with
 * `Retry-After` (whole seconds).
 *
 * Every per-address limit is shared by everyone behind one address (a NAT, a TCP load balancer, an
 * HTTP proxy without `trustProxy`). For the failed-logins lock that would let one attacker there
 * lock every user out, so a locked address still lets through an account that has logged in from
 * it before (see `login`).
 *
 * Limits are kept in this process's memory (see rate-limiter.ts): N servers behind a load balancer
 * allow up to N times as much in total.
 */
import crypto from "node:crypto";
import type { IncomingMessage } from "node:http";
import net from "node:net";
import { HttpError } from "../http/http-error.js";
import { checkRateLimit, createRateLimiter, monotonicNow } from "./rate-limiter.js";
import type { RateLimit, RateLimiter } from "./rate-limiter.js";

/** The auth rate limits of a server (each a rate, or false: off). */
export interface AuthLimits {
  /**
   * Wrong passwords for one email/password account; a successful login clears it. (API keys have
   * none: their secret is 256 random bits, and a lock would only let anyone who knows a key's id
   * lock its device out.)
   */
  failedLoginsPerAccount: RateLimit | false;
  /**
   * Failed logins from one client address, whatever the account (password spraying). A locked
   * address still lets through accounts that logged in from it within `knownLoginTtlMs`.
   */
  failedLoginsPerAddress: RateLimit | false;
  /** Password, API-key and custom-token login attempts from one client address, successful or not. */
  loginsPerAddress: RateLimit | false;
  /** Anonymous users created from one client address. */
  anonymousUsersPerAddress: RateLimit | false;
  /** Email/password registrations from one client address. */
  registrationsPerAddress: RateLimit | false;
  /**
   * Keys each limit remembers at most. Buckets that have refilled are dropped; past the cap, a new
   * key makes room by forgetting the bucket that would be full again soonest (never its own).
   */
  maxTrackedKeys: number;
  /**
   * Take the client address from the last `X-Forwarded-For` hop (the address the proxy in front of
   * this server saw; a port after it is dropped) instead of the connection's. Only behind a proxy
   * that sets it: otherwise any client picks its own address and escapes the per-address limits.
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

/**
 * How long a successful login keeps its (account, address) pair known: a locked address still
 * lets a known pair through. A month covers a device that logs in weekly; the pairs are bounded by
 * `maxTrackedKeys` like every limit (the oldest success is forgotten first).
 */
export const knownLoginTtlMs = 30 * 24 * 60 * minute;

/** What a login is about: the account it names (null when none can be told) and where it came from. */
export interface LoginAttempt {
  /** `userpass:<email>`, `apikey:<id>`: the account the login is for. */
  account: string | null;
  /** Whether a wrong guess counts against the account's own limit (failedLoginsPerAccount). */
  limitAccount: boolean;
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

/**
 * The IP address of an `X-Forwarded-For` hop, or null when it holds none: `203.0.113.7`,
 * `2001:db8::7`, and with a port as some proxies write it (Azure Application Gateway):
 * `203.0.113.7:51234`, `[2001:db8::7]:51234`, `[2001:db8::7]`.
 */
export function forwardedAddress(hop: string): string | null {
  const text = hop.trim();
  if (net.isIP(text) !== 0) return text;
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(text);
  if (bracketed) return net.isIPv6(bracketed[1] ?? "") ? (bracketed[1] ?? null) : null;
  const withPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(text);
  return withPort && net.isIPv4(withPort[1] ?? "") ? (withPort[1] ?? null) : null;
}

/** Creates the throttle of one server; `now` (ms) defaults to a monotonic clock, which wall-clock steps do not move. */
export function createAuthThrottle(limits: AuthLimits, now: () => number = monotonicNow): AuthThrottle {
  const limiter = (rate: RateLimit | false): RateLimiter => createRateLimiter(rate, { maxKeys: limits.maxTrackedKeys, now });
  const accountFailures = limiter(limits.failedLoginsPerAccount);
  const addressFailures = limiter(limits.failedLoginsPerAddress);
  const addressLogins = limiter(limits.loginsPerAddress);
  const anonymousUsers = limiter(limits.anonymousUsersPerAddress);
  const registrations = limiter(limits.registrationsPerAddress);
  // Only the address lock reads it, so it holds nothing when that lock is off.
  const knownLogins = limiter(limits.failedLoginsPerAddress === false ? false : { limit: 1, windowMs: knownLoginTtlMs });

  return {
    async login<T>(attempt: LoginAttempt, run: () => Promise<T>): Promise<T> {
      const address = addressKey(attempt.address);
      const account = attempt.account === null ? null : accountKey(attempt.account);
      const limitedAccount = attempt.limitAccount ? account : null;
      const pair = account === null ? null : `${address} ${account}`;
      // A locked account refuses the right password too: otherwise the 429 would only slow the
      // guessing down, and a 200 among the 429s would still tell the attacker the password.
      const accountLocked = limitedAccount === null ? 0 : accountFailures.retryAfterMs(limitedAccount);
      if (accountLocked > 0) throw tooMany(accountLocked, "failed logins for this account");
      // The address lock stops spraying (one password tried on many accounts from one address):
      // those accounts never logged in from there. Refusing everyone would let one attacker behind
      // a NAT or a TCP balancer lock out every user behind it, so an account that has logged in
      // from this address before still gets through (its own limit still counts its failures). A
      // first login from a locked address waits, like everyone did before: a correct password
      // cannot be told from a sprayed one without checking it, and checking it would be the
      // oracle the lock is there to close. (An attacker at the address can tell a known account
      // by its 401 among 429s: it learns who logs in from its own address, nothing else.)
      const addressLocked = addressFailures.retryAfterMs(address);
      if (addressLocked > 0 && !(pair !== null && knownLogins.retryAfterMs(pair) > 0))
        throw tooMany(addressLocked, "failed logins from this address");
      const wait = addressLogins.retryAfterMs(address);
      if (wait > 0) throw tooMany(wait, "login attempts from this address");
      // Every attempt counts as a failure until it succeeds: checked and taken in one synchronous
      // step, so a burst of concurrent guesses cannot all pass the check before the first fails.
      addressLogins.take(address);
      // A known pair let through a locked address takes nothing there (there is nothing left).
      const countedAtAddress = addressFailures.take(address) === 0;
      if (limitedAccount !== null) accountFailures.take(limitedAccount);
      let result: T;
      try {
        result = await run();
      } catch (error) {
        // A malformed body or a store error was no guess: it gives its tokens back (and never
        // clears the account, or a bad request would unlock it).
        if (!(error instanceof HttpError && error.status === 401)) {
          if (countedAtAddress) addressFailures.refund(address);
          if (limitedAccount !== null) accountFailures.refund(limitedAccount);
        }
        throw error;
      }
      if (countedAtAddress) addressFailures.refund(address);
      if (limitedAccount !== null) accountFailures.forget(limitedAccount);
      if (pair !== null) {
        // Known for knownLoginTtlMs from this success: the limiter is used as a bounded set with
        // expiry (a pair is known while its one token is spent).
        knownLogins.forget(pair);
        knownLogins.take(pair);
      }
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
      return forwardedAddress(hops[hops.length - 1] ?? "") ?? socketAddress;
    },
  };
}
