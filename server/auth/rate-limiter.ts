/**
 * A token-bucket rate limiter with bounded memory, keyed by any string (an address, an account).
 * A key's bucket holds up to `limit` tokens and refills at `limit` per `windowMs`: a burst of
 * `limit`, then one every `windowMs / limit`. A bucket that has refilled is the same as no bucket,
 * so it is dropped; the rest are capped at `maxKeys`, so a client rotating keys (addresses,
 * account names) cannot grow the map without bound.
 *
 * Past the cap, the bucket that would be full again soonest goes first. Forgetting a bucket ends
 * its lock early, so this loses the least lock time: a key a client touched once (one token
 * short) goes long before a locked one (out of tokens). A plain least-recently-used order would
 * let an attacker who pushes `maxKeys` junk keys through unlock the account it locked earlier.
 * When every bucket is locked the soonest-to-refill locked one is forgotten anyway: memory stays
 * bounded, and an attacker must first lock `maxKeys` keys of its own (each `limit` events, which
 * the per-address limits slow down).
 *
 * State is per process: servers behind a load balancer each keep their own buckets.
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
 * number. Never changed in place (a change is a new object), so the heap can tell a stale entry.
 */
interface Bucket {
  key: string;
  /** When the bucket is full again (ms): the eviction order. */
  fullAt: number;
}

/** Creates a limiter; `rate` false allows everything and holds nothing. */
export function createRateLimiter(rate: RateLimit | false, options: { maxKeys: number; now?: () => number }): RateLimiter {
  const now = options.now ?? Date.now;
  if (rate === false) return { retryAfterMs: () => 0, take: () => 0, refund: () => {}, forget: () => {}, size: 0 };
  // In time, not tokens: each event pushes fullAt one token's refill later, and an event is
  // allowed while fullAt is at most limit - 1 tokens' refill ahead (at least one token left).
  // Whole milliseconds stay exact this way (10/15m: 90 000 ms a token).
  const msPerToken = rate.windowMs / rate.limit;
  const burstMs = (rate.limit - 1) * msPerToken;
  const buckets = new Map<string, Bucket>();
  // A binary min-heap on fullAt over the buckets, plus stale entries (replaced or forgotten
  // buckets) that are skipped when they surface and dropped by a rebuild once they are a fifth of
  // the heap: O(log n) per event, amortized.
  let heap: Bucket[] = [];

  /** Milliseconds until `bucket` allows one more event at `at` (0: now). */
  function waitOf(bucket: Bucket | undefined, at: number): number {
    return bucket === undefined ? 0 : Math.max(0, Math.ceil(bucket.fullAt - at - burstMs));
  }

  const isLive = (bucket: Bucket): boolean => buckets.get(bucket.key) === bucket;

  function siftUp(index: number): void {
    const item = heap[index] as Bucket;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      const above = heap[parent] as Bucket;
      if (above.fullAt <= item.fullAt) break;
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
      if (right < heap.length && (heap[right] as Bucket).fullAt < (heap[child] as Bucket).fullAt) child = right;
      if ((heap[child] as Bucket).fullAt >= item.fullAt) break;
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

  function store(key: string, fullAt: number): void {
    const bucket: Bucket = { key, fullAt };
    buckets.set(key, bucket);
    heap.push(bucket);
    siftUp(heap.length - 1);
    if (heap.length > 1.25 * buckets.size + 64) {
      heap = [...buckets.values()];
      for (let i = (heap.length >> 1) - 1; i >= 0; i--) siftDown(i);
    }
  }

  function evict(at: number): void {
    // The soonest full comes first: drop those already full, then more while over the cap.
    for (let top = heap[0]; top !== undefined; top = heap[0]) {
      if (!isLive(top)) {
        popHeap();
        continue;
      }
      if (top.fullAt > at && buckets.size <= options.maxKeys) break;
      popHeap();
      buckets.delete(top.key);
    }
  }

  return {
    retryAfterMs(key) {
      return waitOf(buckets.get(key), now());
    },
    take(key) {
      const at = now();
      const bucket = buckets.get(key);
      const wait = waitOf(bucket, at);
      if (wait > 0) return wait;
      store(key, Math.max(bucket?.fullAt ?? at, at) + msPerToken);
      evict(at);
      return 0;
    },
    refund(key) {
      const bucket = buckets.get(key);
      if (bucket === undefined) return;
      const fullAt = bucket.fullAt - msPerToken;
      if (fullAt <= now()) buckets.delete(key);
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
  if (!(Number.isInteger(rate.limit) && rate.limit > 0) || !(Number.isFinite(rate.windowMs) && rate.windowMs >= 1))
    throw new Error(`${setting}: expected a positive whole limit per a window of at least 1 ms, or off (got ${JSON.stringify(rate)})`);
  return rate;
}

/**
 * Parses a rate as the CLI and config file spell it: `10/15m` (10 per 15 minutes), `30/1m`, or
 * `off`; the window is a duration as parseDuration reads it (`ms`, `s`, `m`, `h`, `d`; a bare
 * number is milliseconds). Throws naming `setting`.
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
