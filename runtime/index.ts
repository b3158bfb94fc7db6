/**
 * The "asymgen" package: what model files import (decorators, `Types`, bson's value classes)
 * and what apps use (`Realm`, and with sync, `App` and `Credentials`).
 */
export { RealmModel, ObjectType, PrimaryKey, MapTo, Indexed, Ignored } from "./model/decorators.js";
export type { ModelDecorator } from "./model/decorators.js";
export type { Types, MixedValue } from "./model/types.js";
export { ObjectId, UUID, Decimal128 } from "bson";
export type { CanonicalObjectSchema, CanonicalPropertySchema, PropertyTypeName } from "./schema/canonical-schema.js";
export { AsymgenError, IngestValidationError } from "./errors.js";
import { openNodeLogStore } from "./node/node-log-store.js";
import { installPlatform } from "./platform/platform.js";
import { sendNodeHttpRequest } from "./node/node-http-transport.js";
import { openNodeUserStore } from "./node/node-user-store.js";
// runtime issue: Realm, queue errors (runtime/realm.ts, runtime/queue/…)
export { Realm } from "./realm.js";
export type { RealmConfiguration, ModelInit, Durability, QueueStats, RecoveryReport } from "./realm.js";
export {
  QueueFullError,
  QueueCorruptedError,
  QueueFailedError,
  QueueLockedError,
  QueueDiskFullError,
  DocumentTooLargeError,
  TransactionStateError,
  RealmSchemaError,
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

// Until the entry points land (package split): "asymgen" is the Node runtime, so it installs the
// Node platform here. runtime/node/node-platform.ts and the `node` entry replace these lines.
installPlatform({
  name: "node",
  openLogStore: openNodeLogStore,
  transport: sendNodeHttpRequest,
  openUserStore: openNodeUserStore,
  warn: (message, code) => process.emitWarning(message, { code }),
});

