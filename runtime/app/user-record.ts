/**
 * The leaf types of the app layer: who a user is as the server and the disk know them. Nothing
 * here imports the rest of runtime/app, so `App`, `User`, `Credentials` and the user stores all
 * depend on this file and never on each other in a circle.
 */

/** The auth providers the ingest server offers (App Services names). */
export type ProviderType = "anon-user" | "local-userpass" | "api-key" | "custom-token";

/** Realm's user states. */
export type UserState = "LoggedIn" | "LoggedOut";

/** The persisted form of a user (what `App` writes to its `UserStore`). */
export interface UserRecord {
  id: string;
  deviceId: string;
  providerType: ProviderType;
  accessToken: string | null;
  refreshToken: string | null;
}

/** Every user an app knows, and which one is current: what a `UserStore` holds. */
export interface PersistedUsers {
  currentUserId: string | null;
  users: UserRecord[];
}
