/**
 * The symbol table between generated code and the runtime: every name a generated file imports
 * from "asymgen/codegen" or "asymgen" is spelled here once, and checked against the modules'
 * real exports with `satisfies`, so renaming a runtime export breaks this build, not a user's.
 * It lives beside the exports it checks, so the generator and templates/ (which import it as
 * "asymgen/codegen-symbols", a subpath internal to the asymgen packages) never import each other
 * for it. Only names and types here: nothing a generated file loads at run time.
 */
import type * as codegen from "./index.js";
import type * as runtime from "../exports.js";

/** The module specifier generated code imports runtime primitives from. */
export const CODEGEN_MODULE = "asymgen/codegen";

/** The module specifier generated code imports value types from. */
export const RUNTIME_MODULE = "asymgen";

/** Values generated code calls, from "asymgen/codegen". */
export const codegenValues = {
  atIndex: "atIndex",
  atKey: "atKey",
  atProperty: "atProperty",
  dataBytes: "dataBytes",
  encodeSymbol: "encodeSymbol",
  indexKey: "indexKey",
  indexPath: "indexPath",
  invalid: "invalid",
  invalidKey: "invalidKey",
  isArray: "isArray",
  isData: "isData",
  isDecimal128: "isDecimal128",
  isDictionaryKey: "isDictionaryKey",
  isFiniteNumber: "isFiniteNumber",
  isFloat32: "isFloat32",
  isInt64: "isInt64",
  isObject: "isObject",
  isObjectId: "isObjectId",
  isPlainObject: "isPlainObject",
  isSet: "isSet",
  isUuid: "isUuid",
  isValidDate: "isValidDate",
  keyBytes: "keyBytes",
  keyPath: "keyPath",
  keysOf: "keysOf",
  MIXED_EXPECTED: "MIXED_EXPECTED",
  putMixed: "putMixed",
  uniqueValues: "uniqueValues",
  writeCString: "writeCString",
  writeDecimal128: "writeDecimal128",
  writeEnd: "writeEnd",
  writeInt64: "writeInt64",
  writeKey: "writeKey",
  writeObjectId: "writeObjectId",
  writeString: "writeString",
  writeUuid: "writeUuid",
} as const satisfies { [K in keyof typeof codegen]?: K };

/** BsonWriter methods generated code calls, checked against the class the same way. */
export const writerMethods = {
  startDocument: "startDocument",
  endDocument: "endDocument",
  openArray: "openArray",
  openObject: "openObject",
  putDocumentHeader: "putDocumentHeader",
  putNull: "putNull",
  putBool: "putBool",
  putInt64: "putInt64",
  putDouble: "putDouble",
  putDecimal128: "putDecimal128",
  putObjectId: "putObjectId",
  putUuid: "putUuid",
  putString: "putString",
  putData: "putData",
  putDate: "putDate",
  bytes: "bytes",
  view: "view",
  room: "room",
  commit: "commit",
  length: "length",
} as const satisfies { [K in keyof codegen.BsonWriter]?: K };

/** Types generated code names, from "asymgen/codegen". */
export const codegenTypes = {
  BsonWriter: "BsonWriter",
  CanonicalObjectSchema: "CanonicalObjectSchema",
  GeneratedModelClass: "GeneratedModelClass",
} as const;

// Type-only exports are not keys of `typeof codegen`; naming each here makes a rename a
// compile error all the same.
type CheckCodegenTypes = [codegen.BsonWriter, codegen.CanonicalObjectSchema, codegen.GeneratedModelClass];

/** Value types generated init types name, from "asymgen". */
export const runtimeTypes = {
  Decimal128: "Decimal128",
  MixedValue: "MixedValue",
  ObjectId: "ObjectId",
  UUID: "UUID",
} as const;

type CheckRuntimeTypes = [runtime.Decimal128, runtime.MixedValue, runtime.ObjectId, runtime.UUID];

/**
 * Globals generated code names (in init types; value-side checks go through codegen helpers
 * instead): a generated class of one of these names would shadow it in the generated file.
 */
export const GENERATED_CODE_GLOBALS: readonly string[] = ["ArrayBuffer", "Date", "Record", "Set", "Uint8Array"];

/** The prefix of the generated file's module-level key constants (`$k_deviceId`); no generated class name may start with it. */
export const KEY_CONSTANT_PREFIX = "$k_";

/**
 * The prefix of the generated file's collection-element functions (`$e_WeatherSensor_tags`: a
 * collection's loop, kept out of the model's encoder); no generated class name may start with it.
 */
export const ELEMENTS_FUNCTION_PREFIX = "$e_";

/** A name generated code may import from "asymgen/codegen". */
export type CodegenSymbol = (typeof codegenValues)[keyof typeof codegenValues] | (typeof codegenTypes)[keyof typeof codegenTypes];

/** A name generated code may import from "asymgen". */
export type RuntimeSymbol = (typeof runtimeTypes)[keyof typeof runtimeTypes];

/** Names only used in types, imported with `type`. */
export const TYPE_ONLY_SYMBOLS: ReadonlySet<string> = new Set<string>([...Object.values(codegenTypes), ...Object.values(runtimeTypes)]);

export type { CheckCodegenTypes as _CheckCodegenTypes, CheckRuntimeTypes as _CheckRuntimeTypes };
