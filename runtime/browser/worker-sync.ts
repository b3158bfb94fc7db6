/**
 * The sync session of the owner's queue worker (docs/browser-runtime-design.md, decision 7): the
 * page's `App` logged the user in and keeps it in localStorage; the worker gets the persisted
 * record with `Realm.open` and builds its own `User` from it, through an `App` of its own whose
 * user store is seeded with that one record (the App then reads it like a restart reads its
 * users file). The worker's user refreshes access tokens itself; the refresh token, which never
 * changes on refresh, stays the page's.
 */
import { App } from "../app/app.js";
import type { PersistedUsers, UserRecord } from "../app/user-record.js";
import type { UserStore } from "../app/user-store.js";
import type { User } from "../app/user.js";
import { AsymgenError } from "../errors.js";
import { installPlatform, type HostWarning, type Platform } from "../platform/platform.js";
import type { DurableQueue } from "../queue/durable-queue.js";
import type { UploadSource } from "../queue/upload-source.js";
import { openSyncSession, type SyncSession } from "../sync/sync-session.js";
import { fetchTransport } from "./fetch-transport.js";
import type { WorkerSyncInit } from "./queue-worker-protocol.js";

/**
 * The User of `init.user` on the app of `init`, for the worker's session to upload as. Installs
 * the worker's platform (fetch; users in memory, seeded with that one record), which the worker's
 * `App` reads once when it is made.
 */
export function userFromRecord(init: WorkerSyncInit): User {
  const record = init.user;
  installPlatform(workerPlatform({ currentUserId: record.id, users: [{ ...record }] }));
  // The page's App already refused an insecure base URL (unless the app allowed it): not again here.
  const app = new App({ id: init.appId, baseUrl: init.baseUrl, allowInsecureHttp: true });
  const user = app.allUsers[record.id];
  if (user === undefined) throw new AsymgenError(`the queue worker could not rebuild user ${record.id} from its record`);
  return user;
}

/** What the uploader awaits of the log store (open-browser-log-store.ts `BrowserLogStore`). */
export interface UploadGate {
  /** Resolves once everything written so far is durable. */
  durableAfter: () => Promise<void>;
  /** Resolves once the first `end` bytes of each file of `extent` are durable. */
  whenStored: (extent: readonly { name: string; end: number }[]) => Promise<void>;
}

/**
 * Opens the owner's upload session over `queue` as the user of `init`; errors go to `onError`.
 * A batch is sent only once the bytes it was read from are durable (see uploadWhenDurable).
 */
export function openWorkerSyncSession(queue: DurableQueue, gate: UploadGate, init: WorkerSyncInit, onError: (error: Error) => void): SyncSession {
  const user = userFromRecord(init);
  return openSyncSession(uploadWhenDurable(queue, gate), { ...init.options, user, flexible: true, onError: (_session, error) => onError(error) });
}

/**
 * `queue` as the uploader reads it, each batch's `onStableStorage` also waiting until the store
 * holds the bytes the batch was read from (`whenStored` of its extent): on a store whose
 * synchronous syncs only start a commit (IndexedDB), a rollover counts transactions durable
 * before they are, and a batch of them uploaded before a crash would see its sequence numbers
 * given again to other documents after it, which the server would then skip as already stored.
 * Only those bytes, not a flush of everything written: at the origin's quota every IndexedDB
 * commit is refused (a refused transaction's leftovers go with each), yet the frames a batch
 * reads were committed long before, and uploading must go on so that the queue drains.
 */
function uploadWhenDurable(queue: DurableQueue, { durableAfter, whenStored }: UploadGate): UploadSource {
  return {
    get queueId() {
      return queue.queueId;
    },
    rotateQueueId: () => queue.rotateQueueId(),
    lastCommittedSeq: () => queue.lastCommittedSeq(),
    lastWrittenSeq: () => queue.lastWrittenSeq(),
    whenDurable: () => queue.whenDurable().then(durableAfter),
    acknowledgedSeq: () => queue.acknowledgedSeq(),
    readBatch: (afterSeq, maxCount, maxBytes) => queue.readBatch(afterSeq, maxCount, maxBytes),
    readBatchToUpload: (afterSeq, maxCount, maxBytes) => {
      const read = queue.readBatchToUpload(afterSeq, maxCount, maxBytes);
      const stable = read.onStableStorage ?? Promise.resolve();
      // The durable queue always says where it read from; without it, everything must be durable.
      const extent = read.extent;
      const stored = extent === undefined ? durableAfter : () => whenStored(extent);
      const onStableStorage = stable.then(stored);
      // A batch read ahead and then dropped: its failure is the next read's to see, not an unhandled rejection.
      onStableStorage.catch(() => undefined);
      return { documents: read.documents, onStableStorage };
    },
    acknowledge: (seq) => queue.acknowledge(seq),
    onCommit: (listener) => queue.onCommit(listener),
  };
}

/** Gives the worker's copy of the user the page's tokens: a logout pauses the session, a login again resumes it. */
export function updateWorkerUser(user: User, record: UserRecord): void {
  if (record.id !== user.id) return;
  user.updateFromLogin(record);
}

function workerPlatform(users: PersistedUsers): Platform {
  return {
    name: "browser",
    openLogStore(path: string): never {
      throw new AsymgenError(`the queue worker opens its queue itself, not through the platform ("${path}")`);
    },
    transport: fetchTransport,
    openUserStore: (appId: string) => openSeededUserStore(appId, users),
    warn({ message, code }: HostWarning): void {
      console.warn(`${code}: ${message}`);
    },
  };
}

function openSeededUserStore(appId: string, users: PersistedUsers): UserStore {
  let saved = users;
  return {
    location: `memory:app-${appId}`,
    read: () => saved,
    write(next: PersistedUsers): void {
      saved = next;
    },
  };
}
