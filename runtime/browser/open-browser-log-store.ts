/**
 * The one place the queue worker gets its log store. Each store takes the queue's Web Lock
 * itself (`ifAvailable`: QueueLockedError when another tab's worker owns the queue).
 *
 * "auto" is OPFS where this worker has sync access handles (`createSyncAccessHandle`: Chromium
 * 102+, Firefox 111+, Safari 15.2+), IndexedDB otherwise. The IndexedDB store's synchronous syncs
 * only START a commit (indexeddb-log-store.ts): what it is durable after is its `flush()`, which
 * `durableAfter` returns, and the owner awaits it before it answers "durable" and before an
 * upload (queue-owner.ts, worker-sync.ts).
 */
import { QueueUnsupportedError } from "../errors.js";
import type { LogStore } from "../queue/log-store.js";
import { openIndexedDbLogStore } from "./indexeddb-log-store.js";
import { hasSyncAccessHandles } from "./opfs-api.js";
import { openOpfsLogStore } from "./opfs-log-store.js";
import type { StorageKind } from "./queue-worker-protocol.js";

/** A log store, and what to await before anything written to it counts as durable. */
export interface BrowserLogStore {
  store: LogStore;
  /** Which kind it is ("auto" resolved): the owner announces it to the other tabs. */
  kind: "opfs" | "indexeddb";
  /** Resolves once everything written so far is durable (OPFS: already, its syncs are `flush()`). */
  durableAfter: () => Promise<void>;
}

/** Opens the log store of the queue at `path`, of `kind`, taking the queue's lock. */
export async function openBrowserLogStore(path: string, kind: StorageKind): Promise<BrowserLogStore> {
  if (kind === "opfs" || (kind === "auto" && hasSyncAccessHandles())) {
    if (!hasSyncAccessHandles())
      throw new QueueUnsupportedError(`cannot open the queue "${path}" in OPFS: this browser has no sync access handles in workers (storage: "auto" falls back to IndexedDB)`);
    const store = await openOpfsLogStore(path);
    return { store, kind: "opfs", durableAfter: () => Promise.resolve() };
  }
  const store = await openIndexedDbLogStore(path);
  return { store, kind: "indexeddb", durableAfter: () => store.flush() };
}
