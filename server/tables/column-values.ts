/**
 * One property's column value, both ways: the natural value a column holds (what the driver is
 * given) and the BSON value decoded from what the driver gives back. Scalars go to native
 * columns; everything nested goes to natural JSON (natural-json.ts) and is decoded with the
 * schema's types, so a typed value needs no tag. The `bson` package's wrappers (Int32, Double,
 * Long) keep each decoded value's BSON type; documents are Maps, which keep key order.
 */
import { Binary, Decimal128, Double, Long, ObjectId, UUID } from "bson";
import type { Int32 } from "bson";
import type { CanonicalObjectSchema, CanonicalPropertySchema } from "asymgen/schema";
import { BsonType } from "../bson/bson-cursor.js";
import type { BsonNode } from "./bson-tree.js";
import { binaryBytes, isUuidBinary, JsonNumber, JsonObject, uuidText, writeNaturalJson } from "./natural-json.js";
import type { JsonValue } from "./natural-json.js";
import type { PropertyColumn, SqlDialect } from "./table-layout.js";

/**
 * A column value as a driver takes it, and as it gives it back. better-sqlite3 (rows read with
 * `safeIntegers(true)`): bigint | number | string | Buffer | null. pg: string | number | boolean
 * | Buffer | null, with bigint, numeric, timestamptz, json and jsonb read as text (see
 * `postgresTextTypeOids` in row-codec.ts).
 */
export type SqlValue = number | bigint | string | boolean | Buffer | null;

/** The schema's element types that are scalars (anything else names an embedded model). */
const scalarTypes = new Set(["bool", "int", "float", "double", "decimal128", "objectId", "uuid", "string", "data", "date", "mixed"]);

/** What a value is expected to be when decoding natural JSON: a scalar type, an embedded model, a list or a dictionary. */
export type ValueSpec =
  | { readonly kind: "scalar"; readonly type: string }
  | { readonly kind: "object"; readonly model: string }
  | { readonly kind: "array"; readonly element: ValueSpec }
  | { readonly kind: "dictionary"; readonly element: ValueSpec };

/** The spec of a property's value. */
export function specOf(property: CanonicalPropertySchema): ValueSpec {
  const element = (): ValueSpec => {
    const type = property.objectType ?? "mixed";
    return scalarTypes.has(type) ? { kind: "scalar", type } : { kind: "object", model: type };
  };
  switch (property.type) {
    case "object":
      return element();
    case "list":
    case "set":
      return { kind: "array", element: element() };
    case "dictionary":
      return { kind: "dictionary", element: element() };
    default:
      return { kind: "scalar", type: property.type };
  }
}

// PostgreSQL's timestamptz spans 4713 BC to 294276 AD: earlier ECMAScript dates do not fit.
export const postgresMinDateMs = Date.UTC(-4712, 0, 1);

/** The text PostgreSQL reads for a timestamp in ms (`YYYY-MM-DD HH:MM:SS.mmm+00`, BC years as PostgreSQL counts them). */
export function postgresTimestampText(ms: number): string {
  const date = new Date(ms);
  const year = date.getUTCFullYear();
  const iso = date.toISOString(); // the month..ms part is the same for every year form
  const rest = iso.slice(iso.indexOf("-", 1) + 1).replace("T", " ").replace("Z", "+00");
  return year <= 0 ? `${String(1 - year).padStart(4, "0")}-${rest} BC` : `${String(year).padStart(4, "0")}-${rest}`;
}

/** Parses a timestamp as PostgreSQL prints it in ISO DateStyle (any offset, optional BC). */
function parsePostgresTimestamp(text: string): number {
  const match = /^(\d{4,})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(\.\d+)?(?:([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?)?( BC)?$/.exec(text);
  if (!match) throw new Error(`row codec: cannot read the timestamp ${JSON.stringify(text)}`);
  const [, y, mo, d, h, mi, s, fraction, sign, oh, om, os, bc] = match;
  const year = bc ? 1 - Number(y) : Number(y);
  const date = new Date(0);
  date.setUTCFullYear(year, Number(mo) - 1, Number(d)); // setUTCFullYear: years 0–99 are not 1900s
  date.setUTCHours(Number(h), Number(mi), Number(s), Math.round(Number(fraction ?? 0) * 1000));
  const offset = sign ? (sign === "-" ? -1 : 1) * ((Number(oh) * 60 + Number(om ?? 0)) * 60 + Number(os ?? 0)) * 1000 : 0;
  return date.getTime() - offset;
}

/**
 * The natural column value of `node` for `column`, or null when the column cannot hold it at
 * all (then `$exact` must): the caller compares the decoded read-back with the original anyway.
 */
export function naturalColumnValue(node: BsonNode, column: PropertyColumn, dialect: SqlDialect): SqlValue {
  if (node.type === BsonType.null) return null;
  if (column.form === "json") {
    const text = writeNaturalJson(node);
    // jsonb refuses \u0000 ("unsupported Unicode escape sequence").
    return dialect === "postgres" && text.includes("\\u0000") ? null : text;
  }
  if (node.kind === "container") return null;
  const value = node.value;
  switch (column.property.type) {
    case "int":
      if (node.type === BsonType.int64) return dialect === "sqlite" ? (value as Long).toBigInt() : (value as Long).toString();
      if (node.type === BsonType.int32) return dialect === "sqlite" ? BigInt((value as Int32).value) : String((value as Int32).value);
      return null;
    case "float":
    case "double": {
      const number = node.type === BsonType.double ? (value as Double).value : node.type === BsonType.int32 ? (value as Int32).value : null;
      if (number === null) return null;
      // pg sends String(number), which drops −0's sign: send the text, "-0" included.
      return dialect === "postgres" ? (Object.is(number, -0) ? "-0" : String(number)) : number;
    }
    case "string":
      if (typeof value !== "string") return null;
      return dialect === "postgres" && value.includes("\0") ? null : value;
    case "bool":
      if (typeof value !== "boolean") return null;
      return dialect === "sqlite" ? (value ? 1 : 0) : value;
    case "date": {
      if (!(value instanceof Date) || Number.isNaN(value.getTime())) return null;
      if (dialect === "sqlite") return value.toISOString();
      return value.getTime() < postgresMinDateMs ? null : postgresTimestampText(value.getTime());
    }
    case "objectId":
      return value instanceof ObjectId ? value.toHexString() : null;
    case "uuid":
      return value instanceof Binary && isUuidBinary(value) ? uuidText(binaryBytes(value)) : null;
    case "decimal128":
      return value instanceof Decimal128 ? value.toString() : null;
    case "data":
      return value instanceof Binary ? binaryBytes(value) : null;
    default:
      return null;
  }
}

/** The BSON value (bson wrappers, Maps for documents) of what a driver gave back for `column`; null for SQL NULL. */
export function decodeColumnValue(stored: SqlValue, column: PropertyColumn, models: ReadonlyMap<string, CanonicalObjectSchema>, parse: (text: string) => JsonValue): unknown {
  if (stored === null) return null;
  if (column.form === "json") return decodeJson(parse(String(stored)), specOf(column.property), models);
  switch (column.property.type) {
    case "int":
      return Long.fromBigInt(BigInt(stored as string | number | bigint));
    case "float":
    case "double":
      return new Double(Number(stored));
    case "string":
      return String(stored);
    case "bool":
      return stored === true || stored === 1 || stored === 1n;
    case "date":
      if (typeof stored !== "string") throw new Error(`row codec: column "${column.name}": expected date text`);
      return new Date(/^[+-]?\d{4,6}-\d\d-\d\dT/.test(stored) ? Date.parse(stored) : parsePostgresTimestamp(stored));
    case "objectId":
      return new ObjectId(String(stored));
    case "uuid":
      return new UUID(String(stored));
    case "decimal128":
      return Decimal128.fromString(String(stored));
    case "data":
      return new Binary(Buffer.from(stored as Buffer), 0);
    default:
      throw new Error(`row codec: column "${column.name}": unexpected type ${column.property.type}`);
  }
}

/** Decodes natural JSON to the BSON value `spec` says it is. */
function decodeJson(json: JsonValue, spec: ValueSpec, models: ReadonlyMap<string, CanonicalObjectSchema>): unknown {
  if (json === null) return null;
  switch (spec.kind) {
    case "array":
      if (!Array.isArray(json)) throw new Error("row codec: expected a JSON array");
      return json.map((item) => decodeJson(item, spec.element, models));
    case "dictionary":
      if (!(json instanceof JsonObject)) throw new Error("row codec: expected a JSON object");
      return new Map(json.entries.map(([key, value]) => [key, decodeJson(value, spec.element, models)]));
    case "object": {
      if (!(json instanceof JsonObject)) throw new Error("row codec: expected a JSON object");
      const model = models.get(spec.model);
      if (!model) throw new Error(`row codec: unknown model "${spec.model}"`);
      // The schema's order, not the JSON's: jsonb reorders keys, and writers keep schema order.
      const byKey = new Map(json.entries);
      const out = new Map<string, unknown>();
      for (const property of Object.values(model.properties)) {
        if (byKey.has(property.mapTo)) out.set(property.mapTo, decodeJson(byKey.get(property.mapTo) as JsonValue, specOf(property), models));
      }
      return out;
    }
    case "scalar":
      return decodeJsonScalar(json, spec.type, models);
  }
}

function decodeJsonScalar(json: JsonValue, type: string, models: ReadonlyMap<string, CanonicalObjectSchema>): unknown {
  const text = (): string => {
    if (typeof json !== "string") throw new Error(`row codec: expected a JSON string for ${type}`);
    return json;
  };
  switch (type) {
    case "mixed":
      return decodeMixed(json, models);
    case "bool":
      if (typeof json !== "boolean") throw new Error("row codec: expected a JSON boolean");
      return json;
    case "int":
      if (!(json instanceof JsonNumber)) throw new Error("row codec: expected a JSON number");
      return Long.fromBigInt(BigInt(json.text));
    case "float":
    case "double":
      if (!(json instanceof JsonNumber)) throw new Error("row codec: expected a JSON number");
      return new Double(Number(json.text));
    case "string":
      return text();
    case "date":
      return new Date(Date.parse(text()));
    case "objectId":
      return new ObjectId(text());
    case "uuid":
      return new UUID(text());
    case "decimal128":
      return Decimal128.fromString(text());
    case "data":
      return new Binary(Buffer.from(text(), "base64"), 0);
    default:
      throw new Error(`row codec: unknown scalar type ${type}`);
  }
}

const int64Min = -(2n ** 63n);
const int64Max = 2n ** 63n - 1n;

/**
 * A mixed value from JSON: JSON's own types only. An integer text in the Int64 range is an
 * Int64, any other number a double (doubles are written with a fraction: `5.0`); a string is a
 * string (an ObjectId's hex, a date's ISO text… come back as strings: `$exact` keeps their type).
 */
function decodeMixed(json: JsonValue, models: ReadonlyMap<string, CanonicalObjectSchema>): unknown {
  if (json === null || typeof json === "boolean" || typeof json === "string") return json;
  if (json instanceof JsonNumber) {
    if (/^-?\d+$/.test(json.text)) {
      const value = BigInt(json.text);
      if (value >= int64Min && value <= int64Max) return Long.fromBigInt(value);
    }
    return new Double(Number(json.text));
  }
  if (Array.isArray(json)) return json.map((item) => decodeMixed(item, models));
  return new Map(json.entries.map(([key, value]) => [key, decodeMixed(value, models)]));
}
