/**
 * Becoming the owner of a queue (docs/browser-runtime-design.md, decision 2). The log stores
 * take the queue's Web Lock themselves, with `ifAvailable` (QueueLockedError when another tab's
 * worker holds it), so owning the queue means "opened its store". A worker that could not waits:
 *
 * - first for the candidate lock (one waiter at a time), and then, holding it, for the queue's
 *   lock itself, which it lets go of at once and opens the store right after;
 * - the queue's lock thus has at most one waiter. Without the candidate lock, every follower
 *   would wait on the queue's lock, and since an `ifAvailable` request fails while others are
 *   queued (the Web Locks spec grants it only when nothing is held or waiting), each woken
 *   follower's open could fail behind the next one's wait, for ever.
 *
 * The browser releases a lock when its holder's worker or tab ends, so the wait ends as soon as
 * the owner's tab closes or dies.
 *
 * An open can also fail with the lock free: the queue's files are still held without it (OPFS
 * `NoModificationAllowedError`: a sync handle the last owner has not let go of yet, or someone
 * using the files without the lock). The lock is granted at once then, so each retry waits a
 * little longer (50 ms, doubling to 1 s) instead of spinning.
 */
import { QueueLockedError, QueueUnsupportedError } from "../errors.js";
import { candidateLockName, queueLockName } from "./queue-worker-protocol.js";
import { getLockManager } from "./web-apis.js";

/** The first pause after an open that found the queue busy with its lock free; it doubles up to `MAX_RETRY_PAUSE_MS`. */
const FIRST_RETRY_PAUSE_MS = 50;
const MAX_RETRY_PAUSE_MS = 1000;

/**
 * Opens the queue's store with `open` once this worker can own it. Calls `onFollower` when the
 * first attempt finds another owner (then this worker waits); rejects when `signal` aborts or
 * `open` fails otherwise.
 */
export async function acquireQueueOwnership<Store>(path: string, open: () => Promise<Store>, signal: AbortSignal, onFollower: () => void): Promise<Store> {
  const locks = getLockManager();
  if (locks === null) throw new QueueUnsupportedError(`cannot open the queue "${path}": navigator.locks is missing in the queue worker`);
  const store = await openUnlessLocked(open);
  if (store !== null) return store;
  onFollower();
  return locks.request(candidateLockName(path), { mode: "exclusive", signal }, async () => {
    let pauseMs = FIRST_RETRY_PAUSE_MS;
    for (;;) {
      // Granted once the owner lets go (its Realm closed, its tab closed or died); released at once.
      await locks.request(queueLockName(path), { mode: "exclusive", signal }, () => undefined);
      const opened = await openUnlessLocked(open);
      if (opened !== null) return opened;
      // A new tab's first attempt won the race (it is the owner now: the next request waits for
      // it), or the files are held without the lock (see the module comment): try again later.
      signal.throwIfAborted();
      await pause(pauseMs, signal);
      pauseMs = Math.min(MAX_RETRY_PAUSE_MS, pauseMs * 2);
    }
  });
}

/** Resolves after `ms`; rejects with the signal's reason as soon as it aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

async function openUnlessLocked<Store>(open: () => Promise<Store>): Promise<Store | null> {
  try {
    return await open();
  } catch (error) {
    if (error instanceof QueueLockedError) return null;
    throw error;
  }
}
