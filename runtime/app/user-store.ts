/**
 * Where an app keeps its users between runs, as the platform-neutral `App` sees it. The platform
 * makes one per app (`Platform.openUserStore`): on Node a JSON file under `baseFilePath`
 * (runtime/node/node-user-store.ts).
 */
import type { PersistedUsers } from "./user-record.js";

/** An app's persisted users: read once when the app starts, replaced after every login, refresh or logout. */
export interface UserStore {
  /** Where the users are kept, for `App.baseFilePath` and messages (a directory on Node). */
  readonly location: string;
  /** The persisted users; a missing or unreadable store is no users (it costs a login, nothing else). */
  read(): PersistedUsers;
  /** Replaces what is stored with `users`, durably: after a crash, the old content or the new, never a mix. */
  write(users: PersistedUsers): void;
}
