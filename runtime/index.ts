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
// runtime issue: Realm, queue errors (runtime/realm.ts, runtime/queue/…)
// sync issue: App, Credentials, User, SyncSession (runtime/app/…, runtime/sync/…)
