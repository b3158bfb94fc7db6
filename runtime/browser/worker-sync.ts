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

/** Opens the owner's upload session over `queue` as the user of `init`; errors go to `onError`. */
export function openWorkerSyncSession(queue: DurableQueue, init: WorkerSyncInit, onError: (error: Error) => void): SyncSession {
  const user = userFromRecord(init);
  return openSyncSession(queue, { ...init.options, user, flexible: true, onError: (_session, error) => onError(error) });
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
