/**
 * The one place the queue worker gets its log store: the seam where the durable stores (OPFS:
 * opfs-log-store.ts, IndexedDB: indexeddb-log-store.ts) plug in. Each takes the queue's Web Lock
 * itself (`ifAvailable`, QueueLockedError when another tab's worker owns the queue).
 *
 * TODO: switch to openOpfsLogStore / openIndexedDbLogStore once they are merged ("auto": OPFS
 * where `createSyncAccessHandle` exists, IndexedDB otherwise). Until then every kind opens the
 * in-memory store, which is NOT durable (memory-log-store.ts).
 */
import type { LogStore } from "../queue/log-store.js";
import { openMemoryLogStore } from "./memory-log-store.js";
import type { StorageKind } from "./queue-worker-protocol.js";

/** Opens the log store of the queue at `path`, of `kind`, taking the queue's lock. */
export function openBrowserLogStore(path: string, kind: StorageKind): Promise<LogStore> {
  void kind;
  return openMemoryLogStore(path);
}
