/**
 * The queue's owner lock in a browser: the exclusive Web Lock `asymgen:queue:<path>`, held by
 * the worker that has the queue's files open (OPFS or IndexedDB store), for as long as it has them.
 * The one place a log store takes it. The browser releases
 * it by itself when that worker, its tab or the whole browser process ends, so a crash never
 * leaves a stale lock behind (Node needs a pid check for that: runtime/node/queue-lock.ts).
 */
import { QueueLockedError, QueueUnsupportedError } from "../errors.js";
import { queueLockName } from "./queue-worker-protocol.js";
import { getLockManager } from "./web-apis.js";

/** A held Web Lock. */
export interface HeldWebLock {
  readonly name: string;
  /** Lets the lock go once `after` settles (pending work on the files first). Idempotent. */
  release(after?: Promise<unknown>): void;
  /** Settles once the lock is released. */
  readonly released: Promise<void>;
}

/** How `acquireQueueLock` waits. */
export interface QueueLockOptions {
  /** "if-available" (default): refuse at once when held; "wait": queue behind the holder. */
  wait?: "if-available" | "wait";
  /** Gives up a waiting request ("wait" only); the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Takes the queue's lock. Held elsewhere (another tab's or worker's queue, or this worker's own
 * open store) → `QueueLockedError` saying so, under "if-available".
 */
export async function acquireQueueLock(path: string, location: string, options: QueueLockOptions = {}): Promise<HeldWebLock> {
  const locks = getLockManager();
  if (locks === null || typeof locks.request !== "function") {
    throw new QueueUnsupportedError(
      `asymgen: cannot open the queue at ${location}: navigator.locks is missing (the queue needs Web Locks, which browsers give only to secure contexts: https:, or http://localhost / 127.0.0.1)`,
    );
  }
  const name = queueLockName(path);
  const ifAvailable = (options.wait ?? "if-available") === "if-available";
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let requestDone: Promise<unknown> = held;
  const granted = await new Promise<boolean>((resolve, reject) => {
    const request: { ifAvailable?: boolean; signal?: AbortSignal } = ifAvailable ? { ifAvailable: true } : {};
    if (!ifAvailable && options.signal !== undefined) request.signal = options.signal;
    // The callback's promise is the lock's lifetime: it stays held until `release` resolves it.
    const done = (requestDone = locks.request(name, request, (lock) => {
      if (lock === null) {
        resolve(false);
        return undefined;
      }
      resolve(true);
      return held;
    }));
    done.catch(reject);
  });
  if (!granted) {
    const error = new QueueLockedError(location, null);
    error.message = `the queue at ${location} is already open: another tab or worker of this origin (or this worker) holds its Web Lock "${name}"; only one may open a queue at a time`;
    throw error;
  }
  let releasing = false;
  return {
    name,
    // The request settles once the browser has let the lock go (after `held` resolves).
    released: requestDone.then(
      () => undefined,
      () => undefined,
    ),
    release(after?: Promise<unknown>): void {
      if (releasing) return;
      releasing = true;
      if (after === undefined) release();
      else void after.then(release, release);
    },
  };
}
