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
 */
import { QueueLockedError, QueueUnsupportedError } from "../errors.js";
import { candidateLockName, queueLockName } from "./queue-worker-protocol.js";
import { getLockManager } from "./web-apis.js";

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
    for (;;) {
      // Granted once the owner lets go (its Realm closed, its tab closed or died); released at once.
      await locks.request(queueLockName(path), { mode: "exclusive", signal }, () => undefined);
      const opened = await openUnlessLocked(open);
      if (opened !== null) return opened;
      // A new tab's first attempt won the race: it is the owner now; wait for it in turn.
      signal.throwIfAborted();
    }
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
