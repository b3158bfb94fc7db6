/**
 * The schema-driven document validator, working on BSON bytes: each model's canonical schema is
 * compiled once, at startup, into a tree of small scanning closures. Scanning a document walks
 * its bytes once, checks every value against the schema and writes the document's canonical
 * Extended JSON (what `EJSON.stringify(…, { relaxed: false })` prints, but in the exact field
 * order of the bytes) as it goes: no JavaScript object is built for a document, which made
 * deserialising, validating and converting the most expensive part of ingest before.
 *
 * Rules: types per canonical type (int is Int64 or Int32; float/double is a double, or an Int32
 * some writers use for whole numbers; uuid is binary subtype 4; data is subtype 0; mixed is any
 * scalar), required fields present and not null, embedded objects recursively, list/set/dictionary
 * elements, no unknown or repeated fields, no `$`-prefixed or empty names, dictionary keys without
 * `.`. Structural damage (lengths, terminators, UTF-8) throws MalformedBsonError instead, and so
 * does nesting deeper than `maxNestingDepth`: the scanners recurse, and a recursive embedded type
 * would otherwise let a client nest deep enough to overflow the stack.
 */
import { Decimal128 } from "bson";
import type { CanonicalObjectSchema, CanonicalPropertySchema } from "../../runtime/schema/canonical-schema.js";
import { BsonType, documentEnd, malformed, readCString, readInt32, readString } from "../ingest/bson-cursor.js";
import { formatBinary, formatDouble, quoteKey } from "../ingest/write-canonical-ejson.js";
import { maxNestingDepth } from "../../runtime/sync/ingest-protocol.js";

/** Why a document does not match its schema: the path (persisted names) and what went wrong. */
export interface ValidationFailure {
  ok: false;
  path: string;
  message: string;
}

/** A document that matches its schema, in the forms the stores keep. */
export interface ScannedDocument {
  ok: true;
  /** Canonical Extended JSON of the document. */
  ejson: string;
  /** Canonical Extended JSON of its `_id` (Int32 widened to Int64, so both spell one key). */
  idKey: string;
}

/** Scans the document whose bytes start at `start` in `buf` (its length prefix bounds it). */
export type DocumentScanner = (buf: Buffer, start: number) => ScannedDocument | ValidationFailure;

/** The compiled scanners of every asymmetric model, keyed by persisted model name. */
export type SchemaScanners = ReadonlyMap<string, DocumentScanner>;

interface ScanContext {
  buf: Buffer;
  out: string;
  /** Where the `_id` value's text starts and ends in `out`, and its BSON type. */
  idStart: number;
  idEnd: number;
  idType: number;
  /** How many documents, arrays and dictionaries enclose the current value (the top document is 1). */
  depth: number;
}

/** Scans one value of BSON `type` at `pos`; appends its EJSON to `ctx.out`; returns the position after it. */
type ValueScanner = (ctx: ScanContext, type: number, pos: number, limit: number, path: string) => number;

/** A schema mismatch, thrown inside a scan and turned into a ValidationFailure at the top. */
class Invalid {
  constructor(
    readonly path: string,
    readonly message: string,
  ) {}
}

const scalarTypes = new Set(["bool", "int", "float", "double", "decimal128", "objectId", "uuid", "string", "data", "date", "mixed"]);
// ECMAScript dates span ±8.64e15 ms; BSON dates outside cannot be stored as the SDKs' Date.
const maxDateMs = 8_640_000_000_000_000n;

function badKeyMessage(key: string): string | null {
  if (key === "") return "empty field names are not allowed";
  if (key.startsWith("$")) return 'field names must not start with "$"';
  return null;
}

function requireObjectType(property: CanonicalPropertySchema): string {
  if (!property.objectType) throw new Error(`schema: property "${property.name}" of type ${property.type} has no objectType`);
  return property.objectType;
}

function isRequired(property: CanonicalPropertySchema): boolean {
  // Collections default to empty and links to embedded objects are optional in Realm's model;
  // mixed is always nullable. Everything else non-optional must be sent.
  if (property.type === "list" || property.type === "set" || property.type === "dictionary") return false;
  if (property.type === "object" || property.type === "mixed") return false;
  return !property.optional;
}

/** Enters one more level of nesting; throws MalformedBsonError past `maxNestingDepth`. */
function enter(ctx: ScanContext): void {
  if (++ctx.depth > maxNestingDepth) malformed(`nested deeper than ${maxNestingDepth} levels`);
}

function checkEnd(end: number, limit: number): void {
  if (end > limit) malformed("unexpected end of data");
}

/** Reads a binary value's header; returns [subtype, dataStart, dataEnd]. */
function readBinary(buf: Buffer, pos: number, limit: number): [number, number, number] {
  const length = readInt32(buf, pos);
  if (length < 0) malformed("bad binary length");
  const dataStart = pos + 5;
  const dataEnd = dataStart + length;
  checkEnd(dataEnd, limit);
  return [buf[pos + 4] as number, dataStart, dataEnd];
}

function writeBinary(buf: Buffer, subtype: number, start: number, end: number): string {
  return formatBinary(buf.toString("base64", start, end), subtype);
}

/** Scans any scalar of the given canonical type; `null` is handled by the caller. */
function compileScalar(type: string): ValueScanner {
  const fail = (path: string, expected: string): never => {
    throw new Invalid(path, `expected ${expected}`);
  };
  switch (type) {
    case "bool":
      return (ctx, t, pos, limit, path) => {
        if (t !== BsonType.bool) fail(path, "a boolean");
        checkEnd(pos + 1, limit);
        const byte = ctx.buf[pos];
        if (byte !== 0 && byte !== 1) malformed("bad boolean byte");
        ctx.out += byte === 1 ? "true" : "false";
        return pos + 1;
      };
    case "int":
      return (ctx, t, pos, limit, path) => {
        if (t === BsonType.int64) {
          checkEnd(pos + 8, limit);
          ctx.out += `{"$numberLong":"${ctx.buf.readBigInt64LE(pos)}"}`;
          return pos + 8;
        }
        if (t !== BsonType.int32) fail(path, "an integer (BSON Int64 or Int32)");
        ctx.out += `{"$numberInt":"${readInt32(ctx.buf, pos)}"}`;
        return pos + 4;
      };
    case "float":
    case "double":
      // A JS client writes whole numbers of a double field as doubles, but other BSON writers may
      // pick Int32 for them; the value is still exact, so it is accepted and stored as sent.
      return (ctx, t, pos, limit, path) => {
        if (t === BsonType.double) {
          checkEnd(pos + 8, limit);
          ctx.out += formatDouble(ctx.buf.readDoubleLE(pos));
          return pos + 8;
        }
        if (t !== BsonType.int32) fail(path, "a number (BSON double)");
        ctx.out += `{"$numberInt":"${readInt32(ctx.buf, pos)}"}`;
        return pos + 4;
      };
    case "decimal128":
      return (ctx, t, pos, limit, path) => {
        if (t !== BsonType.decimal128) fail(path, "a Decimal128");
        checkEnd(pos + 16, limit);
        ctx.out += `{"$numberDecimal":"${new Decimal128(ctx.buf.subarray(pos, pos + 16)).toString()}"}`;
        return pos + 16;
      };
    case "objectId":
      return (ctx, t, pos, limit, path) => {
        if (t !== BsonType.objectId) fail(path, "an ObjectId");
        checkEnd(pos + 12, limit);
        ctx.out += `{"$oid":"${ctx.buf.toString("hex", pos, pos + 12)}"}`;
        return pos + 12;
      };
    case "uuid":
      return (ctx, t, pos, limit, path) => {
        if (t !== BsonType.binary) fail(path, "a UUID (binary subtype 4)");
        const [subtype, start, end] = readBinary(ctx.buf, pos, limit);
        if (subtype !== 4 || end - start !== 16) fail(path, "a UUID (binary subtype 4)");
        ctx.out += writeBinary(ctx.buf, subtype, start, end);
        return end;
      };
    case "string":
      return (ctx, t, pos, limit, path) => {
        if (t !== BsonType.string) fail(path, "a string");
        const [value, end] = readString(ctx.buf, pos, limit);
        ctx.out += JSON.stringify(value);
        return end;
      };
    case "data":
      return (ctx, t, pos, limit, path) => {
        if (t !== BsonType.binary) fail(path, "binary data (binary subtype 0)");
        const [subtype, start, end] = readBinary(ctx.buf, pos, limit);
        if (subtype !== 0) fail(path, "binary data (binary subtype 0)");
        ctx.out += writeBinary(ctx.buf, subtype, start, end);
        return end;
      };
    case "date":
      return (ctx, t, pos, limit, path) => {
        if (t !== BsonType.date) fail(path, "a date");
        checkEnd(pos + 8, limit);
        const ms = ctx.buf.readBigInt64LE(pos);
        if (ms > maxDateMs || ms < -maxDateMs) fail(path, "a date");
        ctx.out += `{"$date":{"$numberLong":"${ms}"}}`;
        return pos + 8;
      };
    case "mixed": {
      const scanners = new Map<number, ValueScanner>([
        [BsonType.bool, compileScalar("bool")],
        [BsonType.int32, compileScalar("int")],
        [BsonType.int64, compileScalar("int")],
        [BsonType.double, compileScalar("double")],
        [BsonType.decimal128, compileScalar("decimal128")],
        [BsonType.objectId, compileScalar("objectId")],
        [BsonType.string, compileScalar("string")],
        [BsonType.date, compileScalar("date")],
      ]);
      const binary: ValueScanner = (ctx, _t, pos, limit, path) => {
        const [subtype, start, end] = readBinary(ctx.buf, pos, limit);
        if (subtype !== 0 && !(subtype === 4 && end - start === 16)) fail(path, "a scalar value (mixed)");
        ctx.out += writeBinary(ctx.buf, subtype, start, end);
        return end;
      };
      return (ctx, t, pos, limit, path) => {
        if (t === BsonType.binary) return binary(ctx, t, pos, limit, path);
        const scanner = scanners.get(t);
        if (!scanner) fail(path, "a scalar value (mixed)");
        try {
          return scanner!(ctx, t, pos, limit, path);
        } catch (error) {
          if (error instanceof Invalid) fail(path, "a scalar value (mixed)");
          throw error;
        }
      };
    }
    default:
      throw new Error(`schema: unknown property type "${type}"`);
  }
}

/** Compiles one scanner per asymmetric model of `schemas`; throws on a schema that does not hang together. */
export function compileBsonScanners(schemas: readonly CanonicalObjectSchema[]): SchemaScanners {
  const byName = new Map(schemas.map((schema) => [schema.name, schema]));
  // Checked up front (links compile lazily, to allow recursive embedded types) so a bad schema
  // fails at startup, not on the first document.
  for (const schema of schemas) {
    for (const property of Object.values(schema.properties)) {
      if (property.type !== "object" && property.type !== "list" && property.type !== "set" && property.type !== "dictionary") continue;
      const target = requireObjectType(property);
      if (!scalarTypes.has(target) && !byName.has(target))
        throw new Error(`schema: unknown object type "${target}" (property "${schema.name}.${property.name}")`);
    }
  }
  const objectScanners = new Map<string, ValueScanner>();

  function objectScanner(name: string): ValueScanner {
    const existing = objectScanners.get(name);
    if (existing) return existing;
    const schema = byName.get(name);
    if (!schema) throw new Error(`schema: unknown object type "${name}"`);
    // Registered before the fields compile so a recursive embedded type finds itself.
    let scan: ValueScanner = () => 0;
    objectScanners.set(name, (ctx, t, pos, limit, path) => scan(ctx, t, pos, limit, path));
    scan = compileObject(schema, false);
    return objectScanners.get(name)!;
  }

  function compileObject(schema: CanonicalObjectSchema, topLevel: boolean): ValueScanner {
    interface Field {
      name: string;
      /** The name's UTF-8 bytes, matched against the document's bytes without decoding them. */
      bytes: Uint8Array;
      quotedFirst: string;
      quotedNext: string;
      scan: ValueScanner;
      required: boolean;
      isId: boolean;
    }
    const fields: Field[] = Object.values(schema.properties).map((property) => ({
      name: property.mapTo,
      bytes: Buffer.from(property.mapTo, "utf8"),
      quotedFirst: `${quoteKey(property.mapTo)}:`,
      quotedNext: `,${quoteKey(property.mapTo)}:`,
      scan: compileProperty(property),
      required: isRequired(property),
      isId: topLevel && property.mapTo === "_id",
    }));
    const requiredCount = fields.filter((field) => field.required).length;

    function matches(field: Field, buf: Buffer, p: number, end: number): boolean {
      const { bytes } = field;
      const n = bytes.length;
      if (p + n >= end || buf[p + n] !== 0) return false;
      for (let i = 0; i < n; i++) if (buf[p + i] !== bytes[i]) return false;
      return true;
    }

    return (ctx, t, pos, limit, path) => {
      if (t !== BsonType.document) throw new Invalid(path || "(document)", "expected an embedded object");
      const { buf } = ctx;
      const end = documentEnd(buf, pos, limit);
      enter(ctx);
      let p = pos + 4;
      // Which fields were seen, by index (documents repeat no field).
      const seen = new Uint8Array(fields.length);
      let requiredSeen = 0;
      let first = true;
      // Writers emit fields in schema order, so the field after the last one is tried first.
      let hint = 0;
      ctx.out += "{";
      for (;;) {
        if (p >= end) malformed("document ends without its terminator");
        const type = buf[p++] as number;
        if (type === 0) {
          if (p !== end) malformed("document terminator before its end");
          break;
        }
        let index = hint < fields.length && matches(fields[hint]!, buf, p, end) ? hint : -1;
        if (index < 0) {
          for (let i = 0; i < fields.length; i++) {
            if (matches(fields[i]!, buf, p, end)) {
              index = i;
              break;
            }
          }
        }
        if (index < 0) {
          const [key] = readCString(buf, p, end);
          throw new Invalid(path ? `${path}.${key}` : key, badKeyMessage(key) ?? "unknown field");
        }
        const field = fields[index]!;
        const valuePos = p + field.bytes.length + 1;
        const fieldPath = path ? `${path}.${field.name}` : field.name;
        // A field given twice would be stored one way and read back another: refuse it.
        if (seen[index] === 1) throw new Invalid(fieldPath, "field appears twice");
        seen[index] = 1;
        hint = index + 1;
        if (field.required) requiredSeen++;
        ctx.out += first ? field.quotedFirst : field.quotedNext;
        first = false;
        if (field.isId) {
          ctx.idStart = ctx.out.length;
          ctx.idType = type;
        }
        p = field.scan(ctx, type, valuePos, end, fieldPath);
        if (field.isId) ctx.idEnd = ctx.out.length;
      }
      if (requiredSeen < requiredCount) {
        const missing = fields.find((field, i) => field.required && seen[i] !== 1)?.name ?? "";
        throw new Invalid(path ? `${path}.${missing}` : missing, "required field is missing");
      }
      ctx.out += "}";
      ctx.depth--;
      return end;
    };
  }

  function nullable(scan: ValueScanner, nullMessage: string | null): ValueScanner {
    return (ctx, t, pos, limit, path) => {
      if (t !== BsonType.null) return scan(ctx, t, pos, limit, path);
      if (nullMessage !== null) throw new Invalid(path, nullMessage);
      ctx.out += "null";
      return pos;
    };
  }

  function compileProperty(property: CanonicalPropertySchema): ValueScanner {
    switch (property.type) {
      case "list":
      case "set":
        return compileArray(elementScanner(property), property.type);
      case "dictionary":
        return compileDictionary(elementScanner(property));
      case "object": {
        const target = requireObjectType(property);
        return nullable((ctx, t, pos, limit, path) => objectScanner(target)(ctx, t, pos, limit, path), null);
      }
      default: {
        const scan = compileScalar(property.type);
        if (property.optional || property.type === "mixed") return nullable(scan, null);
        // A required scalar sent as null fails with the type's own message ("expected a string").
        return scan;
      }
    }
  }

  function elementScanner(property: CanonicalPropertySchema): ValueScanner {
    const elementType = requireObjectType(property);
    const inner: ValueScanner = scalarTypes.has(elementType)
      ? compileScalar(elementType)
      : (ctx, t, pos, limit, path) => objectScanner(elementType)(ctx, t, pos, limit, path);
    return nullable(inner, property.optional || elementType === "mixed" ? null : "expected a value, not null");
  }

  const validators = new Map<string, DocumentScanner>();
  for (const schema of schemas) {
    if (!schema.asymmetric || schema.embedded) continue;
    const scan = compileObject(schema, true);
    validators.set(schema.name, (buf, start) => {
      const ctx: ScanContext = { buf, out: "", idStart: -1, idEnd: -1, idType: 0, depth: 0 };
      try {
        scan(ctx, BsonType.document, start, buf.length, "");
      } catch (error) {
        if (error instanceof Invalid) return { ok: false, path: error.path, message: error.message };
        throw error;
      }
      let idKey = ctx.out.slice(ctx.idStart, ctx.idEnd);
      if (ctx.idType === BsonType.int32) idKey = idKey.replace('{"$numberInt":', '{"$numberLong":');
      return { ok: true, ejson: ctx.out, idKey };
    });
  }
  return validators;
}

function compileArray(element: ValueScanner, kind: "list" | "set"): ValueScanner {
  return (ctx, t, pos, limit, path) => {
    if (t !== BsonType.array) throw new Invalid(path, `expected an array (${kind})`);
    const { buf } = ctx;
    const end = documentEnd(buf, pos, limit);
    enter(ctx);
    let p = pos + 4;
    ctx.out += "[";
    for (let i = 0; ; i++) {
      if (p >= end) malformed("array ends without its terminator");
      const type = buf[p++] as number;
      if (type === 0) {
        if (p !== end) malformed("array terminator before its end");
        break;
      }
      const [key, valuePos] = readCString(buf, p, end);
      const elementPath = `${path}[${i}]`;
      // Elements are keyed "0", "1", …: other keys would read back as another array.
      if (key !== String(i)) throw new Invalid(elementPath, "array element keys must count 0, 1, 2, …");
      if (i > 0) ctx.out += ",";
      p = element(ctx, type, valuePos, end, elementPath);
    }
    ctx.out += "]";
    ctx.depth--;
    return end;
  };
}

function compileDictionary(element: ValueScanner): ValueScanner {
  return (ctx, t, pos, limit, path) => {
    if (t !== BsonType.document) throw new Invalid(path, "expected a document (dictionary)");
    const { buf } = ctx;
    const end = documentEnd(buf, pos, limit);
    enter(ctx);
    let p = pos + 4;
    let seen: Set<string> | null = null;
    ctx.out += "{";
    for (let first = true; ; first = false) {
      if (p >= end) malformed("document ends without its terminator");
      const type = buf[p++] as number;
      if (type === 0) {
        if (p !== end) malformed("document terminator before its end");
        break;
      }
      const [key, valuePos] = readCString(buf, p, end);
      const keyPath = `${path}[${JSON.stringify(key)}]`;
      // Realm refuses dictionary keys that start with "$" or contain "." (MongoDB field rules).
      const bad = badKeyMessage(key) ?? (key.includes(".") ? 'dictionary keys must not contain "."' : null);
      if (bad) throw new Invalid(keyPath, bad);
      if (seen === null) seen = new Set();
      if (seen.has(key)) throw new Invalid(keyPath, "key appears twice");
      seen.add(key);
      ctx.out += first ? `${quoteKey(key)}:` : `,${quoteKey(key)}:`;
      p = element(ctx, type, valuePos, end, keyPath);
    }
    ctx.out += "}";
    ctx.depth--;
    return end;
  };
}
