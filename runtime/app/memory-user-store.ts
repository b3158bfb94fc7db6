/**
 * A `UserStore` that keeps users in memory: for a platform with no durable place for them yet
 * (the browser entry until its adapter stores users across reloads). A restart means a new login.
 */
import type { PersistedUsers } from "./user-record.js";
import type { UserStore } from "./user-store.js";

/** Users kept for the life of the page or process. */
export function openMemoryUserStore(appId: string): UserStore {
  let saved: PersistedUsers = { currentUserId: null, users: [] };
  return {
    location: `memory:app-${appId}`,
    read: () => saved,
    write(users: PersistedUsers): void {
      saved = users;
    },
  };
}
