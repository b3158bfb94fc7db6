/**
 * Where an app keeps its users between runs, as the platform-neutral `App` sees it. The platform
 * makes one per app (`Platform.openUserStore`): on Node a JSON file under `baseFilePath`
 * (runtime/node/node-user-store.ts), synchronous; in a browser an IndexedDB record
 * (runtime/browser/indexeddb-user-store.ts), asynchronous, since IndexedDB has no synchronous API.
 */
import type { PersistedUsers } from "./user-record.js";

/** An app's persisted users: read once when the app starts, replaced after every login, refresh or logout. */
export interface UserStore {
  /** Where the users are kept, for `App.baseFilePath` and messages (a directory on Node). */
  readonly location: string;
  /**
   * The persisted users, or a promise of them where the platform reads asynchronously (`App.open`
   * waits for it); a missing or unreadable store is no users (it costs a login, nothing else).
   */
  read(): PersistedUsers | Promise<PersistedUsers>;
  /**
   * Replaces what is stored with `users`, durably once it returns (or its promise resolves): after
   * a crash, the old content or the new, never a mix. Writes apply in the order they were made.
   */
  write(users: PersistedUsers): void | Promise<void>;
}
