/**
 * A token-bucket rate limiter with bounded memory, keyed by any string (an address, an account).
 * A key's bucket holds up to `limit` tokens and refills at `limit` per `windowMs`: a burst of
 * `limit`, then one every `windowMs / limit`. A bucket that has refilled is the same as no bucket,
 * so it is dropped; the rest are capped at `maxKeys`, least recently used first out, so a client
 * rotating keys (addresses, account names) cannot grow the map without bound.
 *
 * State is per process: servers behind a load balancer each keep their own buckets.
 */

/** A rate: `limit` events per `windowMs`, in a burst or spread out. */
export interface RateLimit {
  limit: number;
  windowMs: number;
}

/** A limiter of one kind of event. */
export interface RateLimiter {
  /** Milliseconds until `key` may have one more event (0: now), without taking it. */
  retryAfterMs(key: string): number;
  /** Takes one event for `key`: 0 when allowed, else the milliseconds until one would be. */
  take(key: string): number;
  /** Gives back one event taken for `key` (it turned out not to count). */
  refund(key: string): void;
  /** Forgets `key` (its bucket is full again). */
  forget(key: string): void;
  /** Buckets held (tests, metrics). */
  readonly size: number;
}

interface Bucket {
  tokens: number;
  /** When `tokens` was computed (ms). */
  at: number;
}

/** Creates a limiter; `rate` false allows everything and holds nothing. */
export function createRateLimiter(rate: RateLimit | false, options: { maxKeys: number; now?: () => number }): RateLimiter {
  const now = options.now ?? Date.now;
  // Insertion order is recency order: every touch moves a key to the end.
  const buckets = new Map<string, Bucket>();
  if (rate === false) return { retryAfterMs: () => 0, take: () => 0, refund: () => {}, forget: () => {}, size: 0 };
  const { limit, windowMs } = rate;
  const refillPerMs = limit / windowMs;

  function tokensOf(bucket: Bucket | undefined, at: number): number {
    return bucket === undefined ? limit : Math.min(limit, bucket.tokens + (at - bucket.at) * refillPerMs);
  }

  function waitFor(tokens: number): number {
    return tokens >= 1 ? 0 : Math.ceil((1 - tokens) / refillPerMs);
  }

  function evict(at: number): void {
    // The least recently touched buckets come first; drop those that refilled, then the oldest
    // beyond the cap. Each key leaves at most once per touch, so this is O(1) amortized.
    for (const [key, bucket] of buckets) {
      if (tokensOf(bucket, at) < limit && buckets.size <= options.maxKeys) break;
      buckets.delete(key);
    }
  }

  return {
    retryAfterMs(key) {
      return waitFor(tokensOf(buckets.get(key), now()));
    },
    take(key) {
      const at = now();
      const bucket = buckets.get(key);
      const tokens = tokensOf(bucket, at);
      if (tokens < 1) return waitFor(tokens);
      buckets.delete(key);
      buckets.set(key, { tokens: tokens - 1, at });
      evict(at);
      return 0;
    },
    refund(key) {
      const bucket = buckets.get(key);
      if (bucket === undefined) return;
      const at = now();
      const tokens = tokensOf(bucket, at) + 1;
      if (tokens >= limit) buckets.delete(key);
      else buckets.set(key, { tokens, at });
    },
    forget(key) {
      buckets.delete(key);
    },
    get size() {
      return buckets.size;
    },
  };
}

/** Checks a rate; throws a user-facing Error naming `setting` when it is not one. */
export function checkRateLimit(setting: string, rate: RateLimit | false): RateLimit | false {
  if (rate === false) return false;
  if (!(Number.isInteger(rate.limit) && rate.limit > 0) || !(Number.isFinite(rate.windowMs) && rate.windowMs >= 1))
    throw new Error(`${setting}: expected a positive whole limit per a window of at least 1 ms, or off (got ${JSON.stringify(rate)})`);
  return rate;
}

/**
 * Parses a rate as the CLI and config file spell it: `10/15m` (10 per 15 minutes), `30/1m`, or
 * `off`; the window is a duration (`ms`, `s`, `m`, `h`, `d`). Throws naming `setting`.
 */
export function parseRateLimit(setting: string, text: string): RateLimit | false {
  if (text.trim() === "off") return false;
  const match = /^\s*(\d+)\s*\/\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(text);
  if (!match) throw new Error(`${setting}: expected COUNT/WINDOW like 10/15m or off (got "${text}")`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[3] as "ms"];
  return checkRateLimit(setting, { limit: Number(match[1]), windowMs: Math.round(Number(match[2]) * unit) });
}
