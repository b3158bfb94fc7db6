/**
 * The periodic sweep of dead auth records: expired sessions, and anonymous users whose session
 * has expired (an anonymous user can never log in again, and logging out deletes it at once). It
 * pages through the records and deletes by key, so several servers sweeping one store at once
 * only repeat each other's deletes.
 */
import type { Logger } from "../logger.js";
import { authRecordPages } from "../stores/store.js";
import type { IngestStore } from "../stores/store.js";
import { isAnonymousUser } from "./auth-service.js";
import type { SessionRecord, UserRecord } from "./auth-service.js";

/** Ten minutes. */
export const defaultAuthSweepIntervalMs = 10 * 60 * 1000;

/**
 * Anonymous users created before `expiresAt` was recorded: their session lived at most the
 * longest refresh-token lifetime (180 days), so after that they are surely dead.
 */
const legacyAnonymousLifetimeMs = 180 * 24 * 60 * 60 * 1000;

/** What one sweep deleted. */
export interface AuthSweepResult {
  sessions: number;
  anonymousUsers: number;
  ms: number;
}

/** Deletes expired sessions and expired anonymous users; `now` is the clock (tests move it). */
export async function sweepAuthRecords(store: IngestStore, now: () => number = Date.now): Promise<AuthSweepResult> {
  const started = Date.now();
  const sessions = await deleteWhere(store, "session", (record: SessionRecord) => record.expiresAt <= now());
  const anonymousUsers = await deleteWhere(
    store,
    "user",
    (user: UserRecord) => isAnonymousUser(user) && (user.expiresAt ?? Date.parse(user.createdAt) + legacyAnonymousLifetimeMs) <= now(),
  );
  return { sessions, anonymousUsers, ms: Date.now() - started };
}

/** Pages through the records of `kind`, deleting those `dead` says; returns how many it deleted. */
async function deleteWhere<T>(store: IngestStore, kind: string, dead: (record: T) => boolean): Promise<number> {
  let deleted = 0;
  // Each page's dead records go in one delete (one SQLite transaction), so a sweep never holds the
  // writer for longer than a page takes.
  for await (const page of authRecordPages(store, kind)) {
    const keys: string[] = [];
    for (const { key, value } of page) {
      let record: T;
      try {
        record = JSON.parse(value) as T;
      } catch {
        continue; // Not ours to judge: leave a record we cannot read.
      }
      if (dead(record)) keys.push(key);
    }
    if (keys.length > 0) deleted += await store.deleteAuthRecords(kind, keys);
  }
  return deleted;
}

/** A running sweeper. */
export interface AuthSweeper {
  /** Stops the timer and waits for a sweep in progress (the store is closed after). */
  stop(): Promise<void>;
}

/**
 * Sweeps now, then every `intervalMs` (0: never). The timer is unref'ed: it never keeps the
 * process alive. A failed sweep is logged and the next one tries again.
 */
export function startAuthSweeper(store: IngestStore, options: { intervalMs: number; logger: Logger; now?: () => number }): AuthSweeper {
  if (options.intervalMs === 0) return { stop: async () => {} };
  let running: Promise<void> | null = null;
  let stopped = false;
  const sweep = () => {
    // A sweep slower than the interval is not started twice over.
    if (running !== null || stopped) return;
    running = sweepAuthRecords(store, options.now)
      .then(
        (result) => {
          if (result.sessions + result.anonymousUsers > 0) options.logger.log("info", "auth sweep", { ...result });
        },
        (error: unknown) => options.logger.log("warn", "auth sweep failed; retrying at the next interval", { error }),
      )
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(sweep, options.intervalMs);
  timer.unref();
  sweep();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

/** Checks a sweep interval; throws a user-facing Error naming the setting. */
export function checkAuthSweepInterval(intervalMs: number): number {
  // setInterval takes at most 2^31 - 1 ms (about 24.8 days) and runs a longer delay after 1 ms.
  if (!(Number.isInteger(intervalMs) && intervalMs >= 0 && intervalMs <= 2 ** 31 - 1))
    throw new Error(`authSweepIntervalMs: expected whole milliseconds from 0 (never) to 24 days (got ${intervalMs})`);
  return intervalMs;
}
