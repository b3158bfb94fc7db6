/**
 * The retry schedule: exponential backoff with jitter, so a fleet that lost the server together
 * does not come back in lockstep.
 */

/** Bounds of the schedule in ms (Realm's defaults: 1 000 doubling to 300 000). */
export interface BackoffBounds {
  initialMs: number;
  maxMs: number;
}

/** Realm's reconnect schedule. */
export const defaultBackoffBounds: BackoffBounds = { initialMs: 1_000, maxMs: 300_000 };

/**
 * The delay before retry number `attempt` (0 for the first): `initialMs · 2^attempt` capped at
 * `maxMs`, then "equal jitter": a uniformly random point in its upper half.
 */
export function computeBackoffDelay(attempt: number, bounds: BackoffBounds, random: number = Math.random()): number {
  const base = Math.min(bounds.maxMs, bounds.initialMs * 2 ** Math.min(attempt, 52));
  return base / 2 + (random * base) / 2;
}

/** A Retry-After header (seconds or an HTTP date) in ms from `now`, or null when absent or unreadable. */
export function parseRetryAfter(header: string | null, now: number = Date.now()): number | null {
  if (header === null || header.trim() === "") return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}
