/**
 * Per database type: the TypeScript type an init object gives, the check a generated encoder
 * runs and the BsonWriter method it calls. One table, so the type mapping (README) and the
 * encoder cannot drift apart.
 */
import type { ScalarTypeName } from "asymgen/schema";
import { codegenValues as rt, runtimeTypes, writerMethods as wm } from "asymgen/codegen-symbols";

/** What a scalar type becomes in generated code. */
export interface ScalarCodec {
  /** The init type (`number | bigint` for int: a bigint carries the full Int64 range). */
  type: string;
  /** Value-level imports from "asymgen" the type needs. */
  typeImports: string[];
  /** The condition under which `$` is invalid. */
  invalidWhen: string;
  /** What the error says is expected. */
  expected: string;
  /** The BsonWriter method that writes it. */
  put: string;
  /** The argument `put` takes, `$` standing for the checked value (a conversion when needed). */
  argument: string;
  /** Runtime predicates the check calls. */
  uses: string[];
}

/** The codec of each scalar type except `mixed`, which is encoded by its runtime type. */
export const SCALAR_CODECS: Record<Exclude<ScalarTypeName, "mixed">, ScalarCodec> = {
  bool: { type: "boolean", typeImports: [], invalidWhen: 'typeof $ !== "boolean"', expected: "a boolean", put: wm.putBool, argument: "$", uses: [] },
  // int: a JS number is exact only up to 2^53, so numbers must be safe integers and a bigint
  // carries the rest of Int64; both are written as BSON Int64, like Realm's int.
  int: { type: "number | bigint", typeImports: [], invalidWhen: `!${rt.isInt64}($)`, expected: "an integer (number or bigint)", put: wm.putInt64, argument: "$", uses: [rt.isInt64] },
  // float is written as a double (BSON has no 32-bit float), as Realm's sync writes it; a value
  // beyond float32's range would be Infinity in Realm, so it is refused.
  float: { type: "number", typeImports: [], invalidWhen: `!${rt.isFloat32}($)`, expected: "a 32-bit float", put: wm.putDouble, argument: "$", uses: [rt.isFloat32] },
  double: { type: "number", typeImports: [], invalidWhen: `!${rt.isFiniteNumber}($)`, expected: "a finite number", put: wm.putDouble, argument: "$", uses: [rt.isFiniteNumber] },
  decimal128: { type: runtimeTypes.Decimal128, typeImports: [runtimeTypes.Decimal128], invalidWhen: `!${rt.isDecimal128}($)`, expected: "a Decimal128", put: wm.putDecimal128, argument: "$", uses: [rt.isDecimal128] },
  objectId: { type: runtimeTypes.ObjectId, typeImports: [runtimeTypes.ObjectId], invalidWhen: `!${rt.isObjectId}($)`, expected: "an ObjectId", put: wm.putObjectId, argument: "$", uses: [rt.isObjectId] },
  uuid: { type: runtimeTypes.UUID, typeImports: [runtimeTypes.UUID], invalidWhen: `!${rt.isUuid}($)`, expected: "a UUID", put: wm.putUuid, argument: "$", uses: [rt.isUuid] },
  // A string with a lone surrogate (half of a UTF-16 pair) is accepted and written as UTF-8 with
  // U+FFFD in its place (TextEncoder's rule, which bson's serializer shares): not rejected, by choice.
  string: { type: "string", typeImports: [], invalidWhen: 'typeof $ !== "string"', expected: "a string", put: wm.putString, argument: "$", uses: [] },
  // A bson Binary of subtype 0 passes too (what the MongoDB driver hands out); the init type names
  // only the built-in types, so generated files need no bson import.
  data: {
    type: "Uint8Array | ArrayBuffer",
    typeImports: [],
    invalidWhen: `!${rt.isData}($)`,
    expected: "binary data (Uint8Array, ArrayBuffer, Binary)",
    put: wm.putData,
    argument: `${rt.dataBytes}($)`,
    uses: [rt.isData, rt.dataBytes],
  },
  date: { type: "Date", typeImports: [], invalidWhen: `!${rt.isValidDate}($)`, expected: "a valid Date", put: wm.putDate, argument: "$", uses: [rt.isValidDate] },
};

/** The init type of `mixed`. */
export const MIXED_TYPE = runtimeTypes.MixedValue;
