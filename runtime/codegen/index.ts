/**
 * The only module generated code imports ("asymgen/codegen"). Everything generated code calls
 * is exported here and nowhere else, and the generator takes the names it emits from this
 * module's exports (runtime/codegen/runtime-symbols.ts, which the generator and templates import
 * as "asymgen/codegen-symbols"), so renaming one breaks our build, never a user's.
 */
export {
  BsonWriter,
  arrayKey,
  indexKey,
  keyBytes,
  writeCString,
  writeDecimal128,
  writeEnd,
  writeInt64,
  writeKey,
  writeObjectId,
  writeString,
  writeUuid,
} from "../encode/bson-writer.js";
export type { BsonKey } from "../encode/bson-writer.js";
export { putMixed, MIXED_EXPECTED } from "../encode/put-mixed.js";
export { IngestValidationError } from "../errors.js";
export { encodeSymbol } from "./model-class.js";
export type { GeneratedModelClass, ModelEncoder } from "./model-class.js";
export type { CanonicalObjectSchema, CanonicalPropertySchema } from "../schema/canonical-schema.js";
export {
  dataBytes,
  isArray,
  isData,
  isDecimal128,
  isDictionaryKey,
  isFiniteNumber,
  isFloat32,
  isInt64,
  isObject,
  isObjectId,
  isPlainObject,
  isSet,
  isUuid,
  isValidDate,
  keysOf,
} from "./value-checks.js";
export type { BinaryData } from "./value-checks.js";
export { uniqueValues } from "./unique-values.js";
export {
  DICTIONARY_KEY_EXPECTED,
  atIndex,
  atKey,
  atProperty,
  indexPath,
  invalid,
  invalidKey,
  keyPath,
} from "./error-paths.js";
