/**
 * The one place the queue worker gets its log store. Each store takes the queue's Web Lock
 * itself (`ifAvailable`: QueueLockedError when another tab's worker owns the queue).
 *
 * "auto" is OPFS where this worker has sync access handles (`createSyncAccessHandle`: Chromium
 * 102+, Firefox 111+, Safari 15.2+), IndexedDB otherwise. The IndexedDB store's synchronous syncs
 * only START a commit (indexeddb-log-store.ts): what it is durable after is its `flush()`, which
 * `durableAfter` returns, and the owner awaits it before it answers "durable" (queue-owner.ts);
 * an upload awaits only `whenStored` of the bytes its batch read (worker-sync.ts), so that it
 * goes on when the origin's quota refuses every new commit.
 */
import { QueueUnsupportedError } from "../errors.js";
import type { LogStore } from "../queue/log-store.js";
import { openIndexedDbLogStore, type StoredExtent } from "./indexeddb-log-store.js";
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
  /** Resolves once the first `end` bytes of each file of `extent` are durable (OPFS: already). */
  whenStored: (extent: readonly StoredExtent[]) => Promise<void>;
  /** Its synchronous syncs only start a commit (IndexedDB): the owner appends only between flushes (append-between-flushes.ts). */
  syncsOnlyStart: boolean;
  /** OPFS: null when a segment rollover can run now, else when it can (a spare file ready); the owner waits for it (queue-owner.ts). */
  whenReadyToRollOver: (() => Promise<void> | null) | null;
}

/** The store `kind` opens in this worker: "auto" is OPFS where sync access handles exist, else IndexedDB. */
export function resolveStorageKind(kind: StorageKind): "opfs" | "indexeddb" {
  return kind === "auto" ? (hasSyncAccessHandles() ? "opfs" : "indexeddb") : kind;
}

/** Opens the log store of the queue at `path`, of `kind`, taking the queue's lock. */
export async function openBrowserLogStore(path: string, kind: StorageKind): Promise<BrowserLogStore> {
  if (resolveStorageKind(kind) === "opfs") {
    if (!hasSyncAccessHandles())
      throw new QueueUnsupportedError(`cannot open the queue "${path}" in OPFS: this browser has no sync access handles in workers (storage: "auto" falls back to IndexedDB)`);
    const store = await openOpfsLogStore(path);
    return { store, kind: "opfs", durableAfter: () => Promise.resolve(), whenStored: () => Promise.resolve(), syncsOnlyStart: false, whenReadyToRollOver: () => store.whenSpareReady() };
  }
  const store = await openIndexedDbLogStore(path);
  return { store, kind: "indexeddb", durableAfter: () => store.flush(), whenStored: (extent) => store.whenStored(extent), syncsOnlyStart: true, whenReadyToRollOver: null };
}
