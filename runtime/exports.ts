/**
 * The "asymgen" package's API, the same on every platform: what model files import (decorators,
 * `Types`, bson's value classes) and what apps use (`Realm`, and with sync, `App` and
 * `Credentials`). Not an entry point itself: node/index.ts and browser/index.ts install their
 * platform, then re-export this list (package.json's conditional exports pick one).
 */
export { RealmModel, ObjectType, PrimaryKey, MapTo, Indexed, Ignored } from "./model/decorators.js";
export type { ModelDecorator } from "./model/decorators.js";
export type { Types, MixedValue } from "./model/types.js";
export { ObjectId, UUID, Decimal128 } from "bson";
export type { CanonicalObjectSchema, CanonicalPropertySchema, PropertyTypeName } from "./schema/canonical-schema.js";
export { AsymgenError, IngestValidationError } from "./errors.js";
// runtime issue: Realm, queue errors (runtime/realm.ts, runtime/queue/…)
export { Realm } from "./realm.js";
export type { RealmConfiguration, ModelInit, Durability, QueueStats, RecoveryReport } from "./realm.js";
export {
  QueueFullError,
  QueueCorruptedError,
  QueueFailedError,
  QueueLockedError,
  QueueStorageMismatchError,
  QueueDiskFullError,
  DocumentTooLargeError,
  TransactionStateError,
  RealmSchemaError,
  QueueUnsupportedError,
} from "./errors.js";
// sync issue: App, Credentials, User, SyncSession (runtime/app/…, runtime/sync/…)
export { App, Credentials, User, AuthError, SessionExpiredError, NetworkError, ResponseTooLargeError, InsecureConnectionError } from "./app/index.js";
export type { AppConfiguration, ProviderType, UserState } from "./app/index.js";
export { SyncSession, openSyncSession } from "./sync/sync-session.js";
export type {
  SyncConfiguration,
  SessionState,
  ConnectionState,
  ProgressDirection,
  ProgressMode,
  ProgressNotificationCallback,
  ConnectionNotificationCallback,
} from "./sync/sync-session.js";
export { SyncError, DocumentRejectedError } from "./sync/sync-error.js";
