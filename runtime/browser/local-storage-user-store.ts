/**
 * The browser's `UserStore`: an app's users in `localStorage` (one key per app), so the logged-in
 * user survives a reload (docs/browser-runtime-design.md, decision 7). localStorage is
 * synchronous like Node's users file, and a `setItem` is one atomic replacement. Where it is
 * missing or refused (a worker, a sandboxed frame, storage blocked) the users are kept in memory
 * for the page's life, which costs a login after a reload and nothing else.
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
        return parseUsers(storage.getItem(key));
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

function parseUsers(text: string | null): PersistedUsers {
  if (text === null) return { currentUserId: null, users: [] };
  const value = JSON.parse(text) as { currentUserId?: unknown; users?: unknown };
  const users = Array.isArray(value.users) ? value.users.filter(isUserRecord) : [];
  const currentUserId = typeof value.currentUserId === "string" ? value.currentUserId : null;
  return { currentUserId, users };
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
