/**
 * The browser's `UserStore`: an app's users in IndexedDB (database "asymgen-users", one record per
 * app), so the logged-in user survives a reload AND a crash right after the login
 * (docs/browser-runtime-design.md, decision 7). localStorage, which kept them before, reaches disk
 * only seconds after a change (Chromium: a SIGKILL 3 s after a login lost it): the queue then
 * uploaded under a new anonymous user. Every write here is one read-write transaction with
 * `durability: "strict"`, and `write` resolves on its `complete`, when the record is on disk; a
 * login resolves only then (`App.logIn` awaits the write). IndexedDB runs read-write transactions
 * over one object store in the order they were created, across tabs too, so the last write wins.
 *
 * Where IndexedDB is missing or refused (a sandboxed frame, storage blocked) the users go to
 * localStorage as before (local-storage-user-store.ts; memory where that is missing too).
 */
import type { PersistedUsers } from "../app/user-record.js";
import type { UserStore } from "../app/user-store.js";
import { AsymgenError } from "../errors.js";
import { openLocalStorageUserStore, parsePersistedUsers, userStoreKey } from "./local-storage-user-store.js";
import { getLocalStorage } from "./web-apis.js";

/** The database of every app's users on an origin (apart from the queues' database, which has its own versions). */
export const USER_DATABASE_NAME = "asymgen-users";
/** Its one object store: key the app id, value the app's `PersistedUsers`. */
const OBJECT_STORE = "users";

/** The outcome of opening the database: it, or the store to use instead where IndexedDB is refused. */
type Opened = { db: IDBDatabase; fallback: null } | { db: null; fallback: UserStore };

/** App `appId`'s users in IndexedDB; the database is opened once, on the first read. */
export function openIndexedDbUserStore(appId: string): UserStore {
  let opened: Promise<Opened> | null = null;
  const open = (): Promise<Opened> =>
    (opened ??= openUserDatabase().then(
      (db) => ({ db, fallback: null }),
      (error: unknown) => {
        console.warn(`asymgen: IndexedDB refused (${describe(error)}): app "${appId}"'s users are kept in localStorage, which a crash soon after a login may lose`);
        return { db: null, fallback: openLocalStorageUserStore(appId) };
      },
    ));
  return {
    location: `indexedDB:${USER_DATABASE_NAME}/${appId}`,
    async read(): Promise<PersistedUsers> {
      const { db, fallback } = await open();
      if (db === null) return fallback.read();
      // A failed read rejects (`App.open` with it) rather than reading as no users: a login then
      // would replace the kept user, and the queue would upload under another one.
      const stored = await readRecord(db, appId).catch((cause: unknown) => {
        throw new AsymgenError(`asymgen: could not read app "${appId}"'s users from IndexedDB (${describe(cause)})`, { cause });
      });
      if (stored !== undefined) return parsePersistedUsers(stored);
      // Migration from asymgen versions that kept the users in localStorage, once: copied, then
      // the old key (a refresh token in the clear) removed once the copy is on disk.
      const legacy = await openLocalStorageUserStore(appId).read();
      if (legacy.users.length > 0) {
        await writeRecord(db, appId, legacy);
        getLocalStorage()?.removeItem(userStoreKey(appId));
      }
      return legacy;
    },
    async write(users: PersistedUsers): Promise<void> {
      const { db, fallback } = await open();
      if (db === null) return fallback.write(users);
      return writeRecord(db, appId, users);
    },
  };
}

/** Opens (creating on first use) the users' database. */
function openUserDatabase(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    if (typeof indexedDB === "undefined") {
      reject(new Error("this browser has no indexedDB"));
      return;
    }
    let request: IDBOpenDBRequest;
    try {
      request = indexedDB.open(USER_DATABASE_NAME, 1);
    } catch (error) {
      reject(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    request.onupgradeneeded = () => {
      request.result.createObjectStore(OBJECT_STORE);
    };
    request.onsuccess = () => {
      const db = request.result;
      // A later asymgen upgrading the database must not wait on this connection forever.
      db.onversionchange = () => db.close();
      resolve(db);
    };
    request.onerror = () => reject(request.error ?? new Error("indexedDB.open failed"));
  });
}

function readRecord(db: IDBDatabase, appId: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(OBJECT_STORE, "readonly");
    const request = transaction.objectStore(OBJECT_STORE).get(appId);
    transaction.oncomplete = () => resolve(request.result);
    transaction.onabort = () => reject(transaction.error ?? new Error("the read was aborted"));
  });
}

/** Puts `users` as app `appId`'s record; resolves once the strict commit completed (the record is on disk). */
function writeRecord(db: IDBDatabase, appId: string, users: PersistedUsers): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (cause: unknown) =>
      reject(new AsymgenError(`asymgen: could not keep app "${appId}"'s users in IndexedDB (${describe(cause)}): the login holds for this page but a reload will not find it`, { cause }));
    let transaction: IDBTransaction;
    try {
      transaction = db.transaction(OBJECT_STORE, "readwrite", { durability: "strict" });
      transaction.objectStore(OBJECT_STORE).put(users, appId);
      // Sent to the browser now, not when this task ends: a page unloading right after still commits it.
      if (typeof transaction.commit === "function") transaction.commit();
    } catch (error) {
      fail(error);
      return;
    }
    transaction.oncomplete = () => resolve();
    transaction.onabort = () => fail(transaction.error);
  });
}

function describe(error: unknown): string {
  if (typeof error === "object" && error !== null && "name" in error && "message" in error) return `${String(error.name)}: ${String(error.message)}`;
  return String(error);
}
