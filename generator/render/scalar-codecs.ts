/**
 * Per database type: the TypeScript type an init object gives, the check a generated encoder
 * runs and how it writes the value (straight into the writer's buffer, or through a BsonWriter
 * method). One table, so the type mapping (README) and the encoder cannot drift apart.
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
  /**
   * How the encoder writes the value itself at `p` in `buf`/`view` (see templates/model-file.ts),
   * after the element's type byte and key; absent: through `put` (binary data, whose size is
   * known only once its bytes are taken).
   */
  direct?: DirectWrite;
}

/** A value written at `p` with no BsonWriter call. */
export interface DirectWrite {
  /** The BSON element type byte. */
  bsonType: number;
  /** The most bytes it takes: `fixed`, plus `variable` (with `$` for the value) when it depends on the value. */
  fixed: number;
  variable?: string;
  /** Statements that write it and advance `p`, `$` standing for the checked value. */
  write: string[];
  /** Runtime functions the statements call. */
  uses: string[];
}

// BSON element type bytes (bsonspec.org).
export const BSON_TYPE = { double: 0x01, string: 0x02, document: 0x03, array: 0x04, binary: 0x05, objectId: 0x07, boolean: 0x08, date: 0x09, null: 0x0a, int64: 0x12, decimal128: 0x13 } as const;

const double: DirectWrite = { bsonType: BSON_TYPE.double, fixed: 8, write: ["view.setFloat64(p, $, true);", "p += 8;"], uses: [] };

/** The codec of each scalar type except `mixed`, which is encoded by its runtime type. */
export const SCALAR_CODECS: Record<Exclude<ScalarTypeName, "mixed">, ScalarCodec> = {
  bool: {
    type: "boolean",
    typeImports: [],
    invalidWhen: 'typeof $ !== "boolean"',
    expected: "a boolean",
    put: wm.putBool,
    argument: "$",
    uses: [],
    direct: { bsonType: BSON_TYPE.boolean, fixed: 1, write: ["buf[p++] = $ ? 1 : 0;"], uses: [] },
  },
  // int: a JS number is exact only up to 2^53, so numbers must be safe integers and a bigint
  // carries the rest of Int64; both are written as BSON Int64, like Realm's int.
  int: {
    type: "number | bigint",
    typeImports: [],
    invalidWhen: `!${rt.isInt64}($)`,
    expected: "an integer (number or bigint)",
    put: wm.putInt64,
    argument: "$",
    uses: [rt.isInt64],
    direct: { bsonType: BSON_TYPE.int64, fixed: 8, write: [`p = ${rt.writeInt64}(view, p, $);`], uses: [rt.writeInt64] },
  },
  // float is written as a double (BSON has no 32-bit float), as Realm's sync writes it; a value
  // beyond float32's range would be Infinity in Realm, so it is refused.
  float: { type: "number", typeImports: [], invalidWhen: `!${rt.isFloat32}($)`, expected: "a 32-bit float", put: wm.putDouble, argument: "$", uses: [rt.isFloat32], direct: double },
  double: { type: "number", typeImports: [], invalidWhen: `!${rt.isFiniteNumber}($)`, expected: "a finite number", put: wm.putDouble, argument: "$", uses: [rt.isFiniteNumber], direct: double },
  decimal128: {
    type: runtimeTypes.Decimal128,
    typeImports: [runtimeTypes.Decimal128],
    invalidWhen: `!${rt.isDecimal128}($)`,
    expected: "a Decimal128",
    put: wm.putDecimal128,
    argument: "$",
    uses: [rt.isDecimal128],
    direct: { bsonType: BSON_TYPE.decimal128, fixed: 16, write: [`p = ${rt.writeDecimal128}(buf, p, $);`], uses: [rt.writeDecimal128] },
  },
  objectId: {
    type: runtimeTypes.ObjectId,
    typeImports: [runtimeTypes.ObjectId],
    invalidWhen: `!${rt.isObjectId}($)`,
    expected: "an ObjectId",
    put: wm.putObjectId,
    argument: "$",
    uses: [rt.isObjectId],
    direct: { bsonType: BSON_TYPE.objectId, fixed: 12, write: [`p = ${rt.writeObjectId}(buf, p, $);`], uses: [rt.writeObjectId] },
  },
  uuid: {
    type: runtimeTypes.UUID,
    typeImports: [runtimeTypes.UUID],
    invalidWhen: `!${rt.isUuid}($)`,
    expected: "a UUID",
    put: wm.putUuid,
    argument: "$",
    uses: [rt.isUuid],
    direct: { bsonType: BSON_TYPE.binary, fixed: 21, write: [`p = ${rt.writeUuid}(buf, p, $);`], uses: [rt.writeUuid] },
  },
  // A string with a lone surrogate (half of a UTF-16 pair) is accepted and written as UTF-8 with
  // U+FFFD in its place (TextEncoder's rule, which bson's serializer shares): not rejected, by choice.
  // At most 3 UTF-8 bytes per UTF-16 unit (a surrogate pair: 4 bytes for 2 units).
  string: {
    type: "string",
    typeImports: [],
    invalidWhen: 'typeof $ !== "string"',
    expected: "a string",
    put: wm.putString,
    argument: "$",
    uses: [],
    direct: { bsonType: BSON_TYPE.string, fixed: 5, variable: "$.length * 3", write: [`p = ${rt.writeString}(buf, p, $);`], uses: [rt.writeString] },
  },
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
  date: {
    type: "Date",
    typeImports: [],
    invalidWhen: `!${rt.isValidDate}($)`,
    expected: "a valid Date",
    put: wm.putDate,
    argument: "$",
    uses: [rt.isValidDate],
    direct: { bsonType: BSON_TYPE.date, fixed: 8, write: [`p = ${rt.writeInt64}(view, p, $.getTime());`], uses: [rt.writeInt64] },
  },
};

/** The init type of `mixed`. */
export const MIXED_TYPE = runtimeTypes.MixedValue;
