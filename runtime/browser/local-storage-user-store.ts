/**
 * An app's users in `localStorage` (one key per app): where the browser kept them before
 * IndexedDB (indexeddb-user-store.ts, which migrates this key once), and its fallback where
 * IndexedDB is refused. A `setItem` is one atomic replacement, but Chromium writes it to disk
 * only seconds later: a crash soon after a login may lose the user. Where localStorage is missing
 * or refused too (a worker, a sandboxed frame, storage blocked) the users are kept in memory for
 * the page's life, which costs a login after a reload and nothing else.
 */
import { openMemoryUserStore } from "../app/memory-user-store.js";
import type { PersistedUsers, UserRecord } from "../app/user-record.js";
import type { UserStore } from "../app/user-store.js";
import { getLocalStorage } from "./web-apis.js";

/** The localStorage key of app `appId`'s users. */
export function userStoreKey(appId: string): string {
  return `asymgen:users:${appId}`;
}

/** App `appId`'s users in localStorage (or memory where there is none). */
export function openLocalStorageUserStore(appId: string): UserStore {
  const storage = getLocalStorage();
  if (storage === null) return openMemoryUserStore(appId);
  const key = userStoreKey(appId);
  return {
    location: `localStorage:${key}`,
    read(): PersistedUsers {
      try {
        const text = storage.getItem(key);
        return text === null ? { currentUserId: null, users: [] } : parsePersistedUsers(JSON.parse(text));
      } catch {
        // Unreadable (another version's format, a hand edit): as the module says, a new login.
        return { currentUserId: null, users: [] };
      }
    },
    write(users: PersistedUsers): void {
      // A QuotaExceededError propagates: the login worked, but the app must know it will not survive a reload.
      storage.setItem(key, JSON.stringify(users));
    },
  };
}

/** The users in `value` (parsed JSON or an IndexedDB record), keeping only well-formed user records. */
export function parsePersistedUsers(value: unknown): PersistedUsers {
  if (typeof value !== "object" || value === null) return { currentUserId: null, users: [] };
  const { currentUserId, users } = value as { currentUserId?: unknown; users?: unknown };
  return {
    currentUserId: typeof currentUserId === "string" ? currentUserId : null,
    users: Array.isArray(users) ? users.filter(isUserRecord) : [],
  };
}

function isUserRecord(value: unknown): value is UserRecord {
  if (typeof value !== "object" || value === null) return false;
  const record = value as Record<string, unknown>;
  const tokenOrNull = (v: unknown) => v === null || typeof v === "string";
  return (
    typeof record["id"] === "string" &&
    typeof record["deviceId"] === "string" &&
    typeof record["providerType"] === "string" &&
    tokenOrNull(record["accessToken"]) &&
    tokenOrNull(record["refreshToken"])
  );
}
