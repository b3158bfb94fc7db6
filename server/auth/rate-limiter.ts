/**
 * A token-bucket rate limiter with bounded memory, keyed by any string (an address, an account).
 * A key's bucket holds up to `limit` tokens and refills at `limit` per `windowMs`: a burst of
 * `limit`, then one every `windowMs / limit`. A bucket that has refilled is the same as no bucket,
 * so it is dropped; the rest are capped at `maxKeys`, so a client rotating keys (addresses,
 * account names) cannot grow the map without bound.
 *
 * When a key that holds no bucket arrives and `maxKeys` are held, one held bucket is forgotten
 * first to make room: the one that would be full again soonest. The key being taken is never the
 * one forgotten (it used to be stored and dropped at once whenever every other bucket had spent
 * more, so behind a map full of locked buckets a new key was never counted at all). Forgetting a
 * bucket ends its lock early, so this loses the least lock time: a key a client touched once (one
 * token short) goes long before a locked one (out of tokens). A plain least-recently-used order
 * would let an attacker who pushes `maxKeys` junk keys through unlock the account it locked
 * earlier. When every held bucket is locked the soonest-to-refill locked one is forgotten anyway:
 * memory stays bounded and new keys are still counted (refusing them would let one attacker lock
 * every newcomer out), and an attacker must first lock `maxKeys` keys of its own (each `limit`
 * events, which the per-address limits slow down) and keep them locked.
 *
 * Times are whole milliseconds on a monotonic clock by default, so stepping the wall clock neither
 * lengthens a lock (a step back) nor ends one (a step forward). State is per process: servers
 * behind a load balancer each keep their own buckets.
 */
import { parseDuration } from "./auth-config.js";

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

/**
 * One key's bucket, held as the time it is full again (the "theoretical arrival time" of GCRA):
 * every bucket of a limiter refills at one rate, so its tokens at any time follow from that one
 * time. The time is `ms + frac / limit` milliseconds, in integers: a token's refill, `windowMs /
 * limit`, is rarely a whole number of ms (6/1s: 166.67 ms), and in floating point a burst's sum
 * came out a hair over its bound, refusing the limit-th event. Never changed in place (a change is
 * a new object), so the heap can tell a stale entry.
 */
interface Bucket {
  key: string;
  /** Whole milliseconds of the time the bucket is full again. */
  ms: number;
  /** The rest, in 1/limit ms: 0 ≤ frac < limit. */
  frac: number;
}

/** A time as the buckets hold it: `ms + frac / limit` milliseconds. */
type Instant = Pick<Bucket, "ms" | "frac">;

/** The default clock: monotonic, so a wall-clock step (NTP, an admin, a VM resumed) moves no lock. */
export function monotonicNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Creates a limiter; `rate` false allows everything and holds nothing. */
export function createRateLimiter(rate: RateLimit | false, options: { maxKeys: number; now?: () => number }): RateLimiter {
  const now = options.now ?? monotonicNow;
  if (rate === false) return { retryAfterMs: () => 0, take: () => 0, refund: () => {}, forget: () => {}, size: 0 };
  const { limit, windowMs } = checkRateLimit("createRateLimiter: rate", rate) as RateLimit;
  // In time, not tokens: each event pushes the full time one token's refill later, and an event is
  // allowed while it is at most limit - 1 tokens' refill ahead (at least one token left).
  // windowMs / limit = q + r / limit, where windowMs = q * limit + r: integers of windowMs's size.
  const perToken: Instant = { ms: Math.floor(windowMs / limit), frac: windowMs % limit };
  // (limit - 1) * windowMs / limit = windowMs - windowMs / limit.
  const burst = minus({ ms: windowMs, frac: 0 }, perToken);
  const buckets = new Map<string, Bucket>();
  // A binary min-heap on the full time over the buckets, plus stale entries (replaced or forgotten
  // buckets) that are skipped when they surface and dropped by a rebuild once they are a fifth of
  // the heap: O(log n) per event, amortized.
  let heap: Bucket[] = [];

  function plus(a: Instant, b: Instant): Instant {
    const frac = a.frac + b.frac;
    return frac >= limit ? { ms: a.ms + b.ms + 1, frac: frac - limit } : { ms: a.ms + b.ms, frac };
  }

  function minus(a: Instant, b: Instant): Instant {
    const frac = a.frac - b.frac;
    return frac < 0 ? { ms: a.ms - b.ms - 1, frac: frac + limit } : { ms: a.ms - b.ms, frac };
  }

  const earlier = (a: Instant, b: Instant): boolean => a.ms < b.ms || (a.ms === b.ms && a.frac < b.frac);
  /** Whether `bucket` is full again at `at` (whole ms). */
  const isFull = (bucket: Instant, at: number): boolean => !earlier({ ms: at, frac: 0 }, bucket);
  const isLive = (bucket: Bucket): boolean => buckets.get(bucket.key) === bucket;

  /** Milliseconds until `bucket` allows one more event at `at` (0: now), rounded up. */
  function waitOf(bucket: Bucket | undefined, at: number): number {
    if (bucket === undefined) return 0;
    const ahead = minus(minus(bucket, burst), { ms: at, frac: 0 });
    return Math.max(0, ahead.ms + (ahead.frac > 0 ? 1 : 0));
  }

  function siftUp(index: number): void {
    const item = heap[index] as Bucket;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      const above = heap[parent] as Bucket;
      if (!earlier(item, above)) break;
      heap[index] = above;
      index = parent;
    }
    heap[index] = item;
  }

  function siftDown(index: number): void {
    const item = heap[index] as Bucket;
    for (;;) {
      let child = 2 * index + 1;
      if (child >= heap.length) break;
      const right = child + 1;
      if (right < heap.length && earlier(heap[right] as Bucket, heap[child] as Bucket)) child = right;
      if (!earlier(heap[child] as Bucket, item)) break;
      heap[index] = heap[child] as Bucket;
      index = child;
    }
    heap[index] = item;
  }

  function popHeap(): void {
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    heap[0] = last;
    siftDown(0);
  }

  function store(key: string, fullAt: Instant): void {
    const bucket: Bucket = { key, ms: fullAt.ms, frac: fullAt.frac };
    buckets.set(key, bucket);
    heap.push(bucket);
    siftUp(heap.length - 1);
    if (heap.length > 1.25 * buckets.size + 64) {
      heap = [...buckets.values()];
      for (let i = (heap.length >> 1) - 1; i >= 0; i--) siftDown(i);
    }
  }

  /** Drops the buckets that are full again at `at`, then, while `room` more would pass maxKeys, the soonest full. */
  function evict(at: number, room: number): void {
    for (let top = heap[0]; top !== undefined; top = heap[0]) {
      if (!isLive(top)) {
        popHeap();
        continue;
      }
      if (!isFull(top, at) && buckets.size + room <= options.maxKeys) break;
      popHeap();
      buckets.delete(top.key);
    }
  }

  return {
    retryAfterMs(key) {
      return waitOf(buckets.get(key), Math.floor(now()));
    },
    take(key) {
      const at = Math.floor(now());
      evict(at, 0);
      const bucket = buckets.get(key);
      const wait = waitOf(bucket, at);
      if (wait > 0) return wait;
      // Room is made before a new key is stored, so the key being taken is never the one that goes.
      if (bucket === undefined) evict(at, 1);
      // A held bucket is not full (evict dropped those), so it is ahead of `at`.
      store(key, plus(bucket ?? { ms: at, frac: 0 }, perToken));
      return 0;
    },
    refund(key) {
      const bucket = buckets.get(key);
      if (bucket === undefined) return;
      const fullAt = minus(bucket, perToken);
      if (isFull(fullAt, Math.floor(now()))) buckets.delete(key);
      else store(key, fullAt);
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
  // Whole ms let the limiter count exactly (see Bucket); parseDuration gives whole ms.
  if (!(Number.isInteger(rate.limit) && rate.limit > 0) || !(Number.isSafeInteger(rate.windowMs) && rate.windowMs >= 1))
    throw new Error(`${setting}: expected a positive whole limit per a window of at least 1 ms (whole ms), or off (got ${JSON.stringify(rate)})`);
  return rate;
}

/**
 * Parses a rate as the CLI and config file spell it: `10/15m` (10 per 15 minutes), `30/1m`, or
 * `off`; the window is a duration as parseDuration reads it, with its unit (`ms`, `s`, `m`, `h`,
 * `d`): a bare number is refused. Throws naming `setting`.
 */
export function parseRateLimit(setting: string, text: string): RateLimit | false {
  if (text.trim() === "off") return false;
  const match = /^\s*(\d+)\s*\/(.*)$/.exec(text);
  let windowMs: number | null = null;
  try {
    if (match) windowMs = parseDuration(match[2] ?? "");
  } catch {
    // Reported below with the setting and the whole value.
  }
  if (!match || windowMs === null) throw new Error(`${setting}: expected COUNT/WINDOW like 10/15m or off (got "${text}")`);
  return checkRateLimit(setting, { limit: Number(match[1]), windowMs });
}
