/**
 * The token bucket behind the auth rate limits, on a clock the test moves: bursts, refill, the
 * bounded memory a client rotating keys cannot grow, and how client addresses are keyed.
 */
import { afterEach, describe, expect, it, jest } from "@jest/globals";
import { HttpError } from "../../server/http/http-error.js";
import { addressKey, createAuthThrottle, forwardedAddress, resolveAuthLimits } from "../../server/auth/auth-throttle.js";
import { createRateLimiter, parseRateLimit } from "../../server/auth/rate-limiter.js";

describe("createRateLimiter", () => {
  it("allows a burst of `limit`, then one event per windowMs / limit", () => {
    let now = 0;
    const limiter = createRateLimiter({ limit: 10, windowMs: 15 * 60_000 }, { maxKeys: 100, now: () => now });
    for (let i = 0; i < 10; i++) expect(limiter.take("ada")).toBe(0);
    expect(limiter.take("ada")).toBe(90_000);
    expect(limiter.retryAfterMs("ada")).toBe(90_000);
    expect(limiter.take("bob")).toBe(0); // keys are independent
    now += 89_999;
    expect(limiter.take("ada")).toBe(1);
    now += 1;
    expect(limiter.take("ada")).toBe(0);
    expect(limiter.take("ada")).toBe(90_000);
  });

  it("refunds one event and forgets a key", () => {
    const limiter = createRateLimiter({ limit: 2, windowMs: 1000 }, { maxKeys: 10, now: () => 0 });
    limiter.take("k");
    limiter.take("k");
    expect(limiter.retryAfterMs("k")).toBe(500);
    limiter.refund("k");
    expect(limiter.retryAfterMs("k")).toBe(0);
    limiter.take("k");
    limiter.forget("k");
    expect(limiter.size).toBe(0);
  });

  it("holds at most maxKeys buckets however many keys a client rotates through", () => {
    let now = 0;
    const limiter = createRateLimiter({ limit: 5, windowMs: 60_000 }, { maxKeys: 1000, now: () => now });
    for (let i = 0; i < 100_000; i++) {
      limiter.take(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);
      now += 1;
    }
    expect(limiter.size).toBe(1000);
  });

  it("keeps a locked bucket while a client pushes 100k junk keys past the cap", () => {
    let now = 0;
    const limiter = createRateLimiter({ limit: 10, windowMs: 15 * 60_000 }, { maxKeys: 1000, now: () => now });
    for (let i = 0; i < 10; i++) limiter.take("userpass:victim@example.com");
    const locked = limiter.retryAfterMs("userpass:victim@example.com");
    expect(locked).toBe(90_000);
    // Each junk key is one guess short of full: it goes before the locked bucket.
    for (let i = 0; i < 100_000; i++) limiter.take(`userpass:junk-${i}@example.com`);
    expect(limiter.size).toBe(1000);
    expect(limiter.retryAfterMs("userpass:victim@example.com")).toBe(locked);
  });

  it("still holds at most maxKeys when every bucket is locked, forgetting the one that unlocks soonest", () => {
    let now = 0;
    const limiter = createRateLimiter({ limit: 1, windowMs: 60_000 }, { maxKeys: 100, now: () => now });
    for (let i = 0; i < 5000; i++) {
      limiter.take(`k${i}`);
      now += 1;
    }
    expect(limiter.size).toBe(100);
    // The 100 newest are held (each still locked for about a minute); the older ones went first.
    expect(limiter.retryAfterMs("k4999")).toBe(59_999);
    expect(limiter.retryAfterMs("k4900")).toBe(59_900);
    expect(limiter.retryAfterMs("k4899")).toBe(0);
  });

  it("still counts a new key when every held bucket is locked (limit > 1): it is never its own evictee", () => {
    const limiter = createRateLimiter({ limit: 2, windowMs: 1000 }, { maxKeys: 3, now: () => 0 });
    for (const key of ["a", "b", "c"]) {
      limiter.take(key);
      limiter.take(key);
    }
    // A victim behind a full map of locked buckets used to be stored and dropped at once: 10 × 0.
    const answers = Array.from({ length: 10 }, () => limiter.take("victim"));
    expect(answers).toEqual([0, 0, 500, 500, 500, 500, 500, 500, 500, 500]);
    expect(limiter.size).toBe(3);
    // The one forgotten to make room is the locked bucket that refills soonest (all tie: any one).
    expect(["a", "b", "c"].filter((key) => limiter.retryAfterMs(key) > 0)).toHaveLength(2);
  });

  it("forgets the held bucket that is full soonest, never the key being taken, when a new key needs room", () => {
    let now = 0;
    const limiter = createRateLimiter({ limit: 3, windowMs: 3000 }, { maxKeys: 2, now: () => now });
    for (let i = 0; i < 3; i++) limiter.take("locked"); // full at 3000
    limiter.take("once"); // full at 1000
    now = 10;
    expect(limiter.take("new")).toBe(0); // full at 1010: "once" goes, not "new"
    expect(limiter.retryAfterMs("locked")).toBe(990);
    expect(limiter.take("new")).toBe(0);
    expect(limiter.take("new")).toBe(0);
    expect(limiter.take("new")).toBe(1000);
  });

  it.each([
    [6, 1000],
    [7, 1000],
    [7, 3_600_000],
    [3, 100],
    [1000, 7],
  ])("allows a burst of exactly %i per %i ms even when the window is no whole multiple of the limit", (limit, windowMs) => {
    let now = 1_700_000_000_123; // a wall-clock-sized time, where floating point loses the most
    const limiter = createRateLimiter({ limit, windowMs }, { maxKeys: 10, now: () => now });
    const burst = Array.from({ length: limit }, () => limiter.take("k"));
    expect(burst.filter((wait) => wait > 0)).toEqual([]);
    const wait = limiter.take("k");
    expect(wait).toBe(Math.ceil(windowMs / limit));
    // After the whole window the burst is back, exactly.
    now += windowMs;
    expect(Array.from({ length: limit }, () => limiter.take("k")).filter((w) => w > 0)).toEqual([]);
    expect(limiter.take("k")).toBeGreaterThan(0);
  });

  it("drops buckets that have refilled (they are the same as none)", () => {
    let now = 0;
    const limiter = createRateLimiter({ limit: 5, windowMs: 60_000 }, { maxKeys: 1000, now: () => now });
    for (let i = 0; i < 500; i++) limiter.take(`old-${i}`);
    now += 60_000;
    limiter.take("new");
    expect(limiter.size).toBe(1);
  });

  it("allows everything and holds nothing when off", () => {
    const limiter = createRateLimiter(false, { maxKeys: 1 });
    for (let i = 0; i < 100; i++) expect(limiter.take(`k${i}`)).toBe(0);
    expect(limiter.size).toBe(0);
  });
});

describe("the default clock", () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  /** Replaces the wall clock (Date.now) by one an NTP correction or an admin can step: `step(ms)`. */
  function steppableWallClock(): { step(ms: number): void } {
    const real = Date.now.bind(Date);
    let offset = 0;
    jest.spyOn(Date, "now").mockImplementation(() => real() + offset);
    return {
      step(ms) {
        offset += ms;
      },
    };
  }

  it("is monotonic: a wall clock stepped back does not lengthen a lock, one stepped forward does not end it", () => {
    const wallClock = steppableWallClock();
    const limiter = createRateLimiter({ limit: 2, windowMs: 60_000 }, { maxKeys: 10 });
    limiter.take("k");
    limiter.take("k");
    const locked = limiter.retryAfterMs("k");
    expect(locked).toBeGreaterThan(29_000);
    wallClock.step(-3_600_000);
    expect(limiter.retryAfterMs("k")).toBeLessThanOrEqual(locked);
    wallClock.step(2 * 3_600_000);
    expect(limiter.retryAfterMs("k")).toBeGreaterThan(29_000);
  });

  it("is the auth throttle's too: a wall clock stepped forward an hour does not unlock an address", () => {
    const wallClock = steppableWallClock();
    const throttle = createAuthThrottle(resolveAuthLimits({ anonymousUsersPerAddress: { limit: 2, windowMs: 60_000 } }));
    throttle.anonymousUser("203.0.113.7");
    throttle.anonymousUser("203.0.113.7");
    expect(() => throttle.anonymousUser("203.0.113.7")).toThrow(HttpError);
    wallClock.step(3_600_000);
    expect(() => throttle.anonymousUser("203.0.113.7")).toThrow(/too many anonymous users/);
  });
});

describe("rate settings", () => {
  it("parses COUNT/WINDOW and off, and names the setting when it cannot", () => {
    expect(parseRateLimit("--x", "10/15m")).toEqual({ limit: 10, windowMs: 900_000 });
    expect(parseRateLimit("--x", "30 / 1.5s")).toEqual({ limit: 30, windowMs: 1500 });
    expect(parseRateLimit("--x", "off")).toBe(false);
    // The window is read as every other duration setting reads one (parseDuration): a unit is needed.
    expect(parseRateLimit("--x", "5/250ms")).toEqual({ limit: 5, windowMs: 250 });
    expect(parseRateLimit("--x", "5/2h")).toEqual({ limit: 5, windowMs: 7_200_000 });
    expect(() => parseRateLimit("--x", "5/250")).toThrow('--x: expected COUNT/WINDOW like 10/15m or off (got "5/250")');
    expect(() => parseRateLimit("--x", "5/2w")).toThrow('--x: expected COUNT/WINDOW like 10/15m or off (got "5/2w")');
    expect(() => parseRateLimit("--x", "5/0")).toThrow(/--x: expected a positive whole limit per a window of at least 1 ms/);
    expect(() => parseRateLimit("--x", "5/")).toThrow(/--x: expected COUNT\/WINDOW/);
    expect(() => parseRateLimit("--auth-failed-logins-per-account", "10 per minute")).toThrow(
      '--auth-failed-logins-per-account: expected COUNT/WINDOW like 10/15m or off (got "10 per minute")',
    );
    expect(() => parseRateLimit("--x", "0/1m")).toThrow(/--x: expected a positive whole limit/);
  });

  it("refuses a bad limit by its name", () => {
    expect(() => resolveAuthLimits({ loginsPerAddress: { limit: 1.5, windowMs: 1000 } })).toThrow(/authLimits\.loginsPerAddress/);
    expect(() => resolveAuthLimits({ maxTrackedKeys: 0 })).toThrow(/authLimits\.maxTrackedKeys/);
    expect(resolveAuthLimits({ trustProxy: true }).failedLoginsPerAccount).toEqual({ limit: 10, windowMs: 900_000 });
  });
});

describe("addressKey", () => {
  it("counts IPv4 as is, IPv4-mapped IPv6 as IPv4, and IPv6 by its /64", () => {
    expect(addressKey("203.0.113.7")).toBe("203.0.113.7");
    expect(addressKey("::ffff:203.0.113.7")).toBe("203.0.113.7");
    expect(addressKey("2001:db8:1:2:aaaa:bbbb:cccc:dddd")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:db8:1:2::1")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:0db8:0001:0002::ffff")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(addressKey("::1")).toBe("0:0:0:0::/64");
  });
});

describe("forwardedAddress", () => {
  it("reads an X-Forwarded-For hop with or without a port, and nothing else", () => {
    expect(forwardedAddress(" 203.0.113.7 ")).toBe("203.0.113.7");
    expect(forwardedAddress("203.0.113.7:51234")).toBe("203.0.113.7");
    expect(forwardedAddress("2001:db8::7")).toBe("2001:db8::7");
    expect(forwardedAddress("[2001:db8::7]:51234")).toBe("2001:db8::7");
    expect(forwardedAddress("[2001:db8::7]")).toBe("2001:db8::7");
    expect(forwardedAddress("[::ffff:203.0.113.7]:443")).toBe("::ffff:203.0.113.7");
    for (const junk of ["", "unknown", "203.0.113.7:", "203.0.113.999:80", "[203.0.113.7]:80", "[2001:db8::7]:x", "example.com:80", "_hidden"])
      expect(forwardedAddress(junk)).toBeNull();
  });
});
