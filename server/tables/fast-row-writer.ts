/**
 * The fast row writer: `documentToRowValues` (and `documentToRow`, the same row by column name)
 * as ingest runs it, once per document. It gives exactly the reference's row
 * (`referenceDocumentToRow` in row-codec.ts: the same JS types and values, the same `$exact`
 * text) without deserialising the document: a writer compiled once per layout (cached per layout
 * object) walks the top-level elements' bytes with server/bson and gives each column its value
 * straight from them.
 *
 * Per column, a converter for the values that are PROVABLY exact in the dialect, i.e. for which
 * the reference would find that the column gives the element back and write no `$exact` entry:
 * an Int64 in an int column; a double in a double/float column (not NaN, not −0 on SQLite: SQLite
 * stores NaN as NULL and reads −0 as 0); a string (without NUL on PostgreSQL: text refuses it); a
 * boolean; a date in ECMAScript's range (from 4713 BC on PostgreSQL: timestamptz starts there);
 * an ObjectId; a UUID (binary subtype 4); a Decimal128 whose text gives its bytes back as the
 * dialect stores it; binary subtype 0; and nested values written as natural JSON straight from
 * the bytes when every leaf reads back as itself and the key order survives (PostgreSQL's jsonb
 * sorts object keys: a dictionary or mixed object must already be in jsonb's order; embedded
 * objects are decoded in schema order, so their keys must be in it). For anything else — an
 * Int32 where the schema says int, NaN, a date before 4713 BC on PostgreSQL, a mixed date, a
 * dictionary out of jsonb order… — the converter says "not proven" and that ONE property goes
 * through the reference's own judgement (property-exactness.ts), so its `$exact` entry is the
 * reference's. Keys out of layout order and nulls sent give `$order` as the reference does.
 *
 * The oracle tests (test/server/tables/fast-row-writer.test.ts, row-codec-random.test.ts)
 * compare the two over the whole type table, a seeded sweep and the weather example.
 */
import { Decimal128 } from "bson";
import type { CanonicalObjectSchema } from "asymgen/schema";
import type { BufferSlicers } from "../bson/buffer-slicers.js";
import { BsonType, documentEnd, indexNameEnd, int32At, readCString, readString, skipValue } from "../bson/bson-cursor.js";
import { writeAscii, writeByte, writeBytes } from "../ejson/ejson-sink.js";
import { readBsonElement } from "./bson-tree.js";
import { doubleText } from "./double-text.js";
import { isoText, rowText, rowTextIncludes, sliceRowText, startRowText, writeDoubleJson, writeHex, writeInteger, writeIsoJson, writeKeyAt, writeObjectIdAt, writePlainStringAt, writeStringAt, writeUuidAt } from "./json-bytes.js";
import { postgresMinDateMs, postgresTimestampText, specOf } from "./column-values.js";
import type { SqlValue, ValueSpec } from "./column-values.js";
import { postgresNumericReadBack, referencePropertyValue } from "./property-exactness.js";
import type { PropertyColumn, SqlDialect, TableLayout } from "./table-layout.js";

/** What a converter returns when it has appended the column's text to the row's text (json-bytes.ts), to be sliced out with the row's others. */
const inRowText: unique symbol = Symbol("in the row's text");

/**
 * A column's value from an element's bytes (`type` at `[pos, end)` of `buf`, never BSON null),
 * or `inRowText`, or undefined when it is not provably exact: the reference then judges the
 * property (and what the converter appended to the row's text is dropped).
 */
type ConvertColumn = (buf: Buffer, type: number, pos: number, end: number) => SqlValue | typeof inRowText | undefined;

/**
 * Appends a nested value's natural JSON to the row's text (json-bytes.ts); false when some part
 * of it would not read back as itself (what it appended is then dropped).
 */
type WriteJson = (buf: Buffer, type: number, pos: number, end: number) => boolean;

const two32 = 4294967296;
// ECMAScript dates span ±8.64e15 ms: the reference's Date is invalid beyond (then `$exact`).
const maxDateMs = 8_640_000_000_000_000;

const doubleBytes = new Uint8Array(8);
const doubleValue = new Float64Array(doubleBytes.buffer);
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The little-endian double at `pos` (inside `buf`): what readDoubleLE reads (through a Float64Array as it does), without the call (see int32At). */
function doubleAt(buf: Buffer, pos: number): number {
  if (littleEndian) for (let i = 0; i < 8; i++) doubleBytes[i] = buf[pos + i] as number;
  else for (let i = 0; i < 8; i++) doubleBytes[7 - i] = buf[pos + i] as number;
  return doubleValue[0] as number;
}

/** The hex of bytes `[start, end)`. */
function hexAt(buf: Buffer, start: number, end: number): string {
  return (buf as unknown as BufferSlicers).hexSlice(start, end);
}

// Whether the last string textAt read is ASCII without a character JSON escapes (`"`, `\`, controls).
let lastTextPlain = false;

/** The BSON string value at `pos` (int32 length, UTF-8, NUL), as readString reads it; ASCII without Buffer's per-call overhead. */
function textAt(buf: Buffer, pos: number, limit: number): string {
  const length = pos + 4 <= limit ? int32At(buf, pos) : -1;
  const start = pos + 4;
  const end = start + length - 1;
  if (length < 1 || end >= limit || buf[end] !== 0) return readString(buf, pos, limit)[0]; // throws as it does
  let plain = true;
  for (let i = start; i < end; i++) {
    const c = buf[i] as number;
    if (c >= 0x80) {
      lastTextPlain = false;
      return readString(buf, pos, limit)[0]; // UTF-8, checked
    }
    if (c < 0x20 || c === 0x22 || c === 0x5c) plain = false;
  }
  lastTextPlain = plain;
  return (buf as unknown as BufferSlicers).latin1Slice(start, end);
}

/** The position after a value of `type` at `pos`, as skipValue gives it, without decoding a string to skip it (the writer decodes it once, if at all), nor its switch for the commonest fixed sizes and documents. */
function elementEnd(buf: Buffer, type: number, pos: number, limit: number): number {
  if (type === BsonType.string && pos + 4 <= limit) {
    const length = int32At(buf, pos);
    const end = pos + 4 + length;
    if (length >= 1 && end <= limit && buf[end - 1] === 0) return end;
  } else if (type === BsonType.double || type === BsonType.date || type === BsonType.int64) {
    // The eight-byte values (a reading's number and time) without skipValue's switch.
    if (pos + 8 <= limit) return pos + 8;
  } else if (type === BsonType.document || type === BsonType.array) {
    return documentEndAt(buf, pos, limit);
  }
  return skipValue(buf, type, pos, limit); // and its errors
}

/** The end of the embedded document or array at `pos`, as documentEnd gives it (and its errors). */
function documentEndAt(buf: Buffer, pos: number, limit: number): number {
  if (pos + 4 <= limit) {
    const end = pos + int32At(buf, pos);
    if (end >= pos + 5 && end <= limit && buf[end - 1] === 0) return end;
  }
  return documentEnd(buf, pos, limit);
}

/** The Int64 at `pos` as a number when it is within ±2^53 (exact as a double), else undefined. */
function safeInt64At(buf: Buffer, pos: number): number | undefined {
  const high = int32At(buf, pos + 4);
  return high >= -0x200000 && high < 0x200000 ? high * two32 + (int32At(buf, pos) >>> 0) : undefined;
}

/** The decimal text of the Int64 at `pos` (a BigInt only beyond ±2^53). */
function int64Text(buf: Buffer, pos: number): string {
  const safe = safeInt64At(buf, pos);
  return safe !== undefined ? String(safe) : buf.readBigInt64LE(pos).toString();
}

/** The date at `pos` in ms, or undefined outside ECMAScript's range. */
function dateMsAt(buf: Buffer, pos: number): number | undefined {
  const ms = safeInt64At(buf, pos);
  return ms !== undefined && ms <= maxDateMs && ms >= -maxDateMs ? ms : undefined;
}

/** Whether a double reads back as itself from natural JSON: JSON has no NaN or ±Infinity, and its `0.0` drops −0's sign. */
function isJsonExactDouble(x: number): boolean {
  return Number.isFinite(x) && !(x === 0 && 1 / x < 0);
}

/** The canonical 8-4-4-4-12 text of the 16 bytes at `pos`. */
function uuidTextAt(buf: Buffer, pos: number): string {
  const hex = hexAt(buf, pos, pos + 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The Decimal128 at `pos` as its text, when `readBack` of that text (as the column gives it back) parses to the same 16 bytes. */
function exactDecimalText(buf: Buffer, pos: number, readBack: (text: string) => string): string | undefined {
  const text = new Decimal128(buf.subarray(pos, pos + 16)).toString();
  try {
    return buf.compare(Decimal128.fromString(readBack(text)).bytes, 0, 16, pos, pos + 16) === 0 ? text : undefined;
  } catch {
    return undefined; // too many digits for Decimal128 once written out (numeric prints no exponent)
  }
}

/** Where a binary value's data starts, when it is of `subtype` (and `length` bytes long, unless -1); -1 otherwise. */
function binaryDataStart(buf: Buffer, pos: number, subtype: number, length: number): number {
  const size = int32At(buf, pos);
  if (buf[pos + 4] !== subtype || (length >= 0 && size !== length)) return -1;
  return pos + 5;
}

/** PostgreSQL's timestamptz text of a date (from 4713 BC on): the common 4-digit AD years built from the ISO text, others by the reference. */
function postgresTimestamp(ms: number): string {
  const iso = isoText(ms);
  // Years 1000–9999 print as 4 digits in ISO, the same as PostgreSQL's text; others: BC, 5+ digits.
  if (iso.length === 24 && iso.charCodeAt(0) !== 0x30) return `${iso.slice(0, 10)} ${iso.slice(11, 23)}+00`;
  return postgresTimestampText(ms);
}

/** The converter of a native column. */
function compileNativeColumn(column: PropertyColumn, dialect: SqlDialect): ConvertColumn {
  const sqlite = dialect === "sqlite";
  switch (column.property.type) {
    case "int":
      // An Int32 would come back as an Int64: the reference gives it a `$numberInt` entry.
      return sqlite
        ? (buf, type, pos) => (type === BsonType.int64 ? buf.readBigInt64LE(pos) : undefined)
        : (buf, type, pos) => (type === BsonType.int64 ? int64Text(buf, pos) : undefined);
    case "float":
    case "double":
      return sqlite
        ? (buf, type, pos) => {
            if (type !== BsonType.double) return undefined;
            const x = doubleAt(buf, pos);
            return Number.isNaN(x) || (x === 0 && 1 / x < 0) ? undefined : x;
          }
        : (buf, type, pos) => {
            if (type !== BsonType.double) return undefined;
            const x = doubleAt(buf, pos);
            // NaN: exact or not by its payload, which the reference compares; −0 goes as text (pg's String(-0) is "0").
            if (Number.isNaN(x)) return undefined;
            return x === 0 && 1 / x < 0 ? "-0" : doubleText(x);
          };
    case "string":
      return (buf, type, pos, end) => {
        if (type !== BsonType.string) return undefined;
        if (writePlainStringAt(buf, pos, end, !sqlite)) return inRowText;
        const text = textAt(buf, pos, end);
        return !sqlite && !lastTextPlain && text.includes("\0") ? undefined : text;
      };
    case "bool":
      return (buf, type, pos) => {
        if (type !== BsonType.bool) return undefined;
        const byte = buf[pos];
        if (byte === 1) return sqlite ? 1 : true;
        return byte === 0 ? (sqlite ? 0 : false) : undefined;
      };
    case "date":
      return (buf, type, pos) => {
        if (type !== BsonType.date) return undefined;
        const ms = dateMsAt(buf, pos);
        if (ms === undefined) return undefined;
        if (sqlite) return isoText(ms);
        return ms < postgresMinDateMs ? undefined : postgresTimestamp(ms);
      };
    case "objectId":
      return (buf, type, pos) => {
        if (type !== BsonType.objectId) return undefined;
        writeHex(buf, pos, pos + 12);
        return inRowText;
      };
    case "uuid":
      return (buf, type, pos) => {
        if (type !== BsonType.binary) return undefined;
        const start = binaryDataStart(buf, pos, 4, 16);
        return start < 0 ? undefined : uuidTextAt(buf, start);
      };
    case "decimal128": {
      const readBack = sqlite ? (text: string) => text : postgresNumericReadBack;
      return (buf, type, pos) => (type === BsonType.decimal128 ? exactDecimalText(buf, pos, readBack) : undefined);
    }
    case "data":
      return (buf, type, pos, end) => {
        if (type !== BsonType.binary) return undefined;
        const start = binaryDataStart(buf, pos, 0, -1);
        // A copy: the row outlives the request's buffer.
        return start < 0 ? undefined : Buffer.from(buf.subarray(start, end));
      };
    default:
      return () => undefined;
  }
}

/**
 * Compiles the natural JSON writers of one layout's nested values. Embedded models compile
 * lazily (a model may nest itself), once per layout.
 */
function createJsonCompiler(models: ReadonlyMap<string, CanonicalObjectSchema>, dialect: SqlDialect): (spec: ValueSpec) => WriteJson {
  const postgres = dialect === "postgres";
  const objectWriters = new Map<string, WriteJson>();

  /** A document with the client's keys (a dictionary, a mixed object): `element` writes each value. */
  const dictionary = (element: WriteJson): WriteJson => (buf, type, pos, limit) => {
    if (type !== BsonType.document) return false;
    const end = documentEndAt(buf, pos, limit);
    let p = pos + 4;
    writeByte(rowText, 0x7b);
    let prevStart = -1;
    let prevEnd = -1;
    // SQLite: keys are distinct while each sorts after the previous (bytes); past the first that
    // does not, a Set of every key says it.
    let seen: Set<string> | null = null;
    for (;;) {
      const elementType = buf[p++] as number;
      if (elementType === 0) break;
      if (prevStart >= 0) writeByte(rowText, 0x2c);
      const keyEnd = writeKeyAt(buf, p, end);
      if (prevStart >= 0) {
        if (postgres) {
          // jsonb sorts keys by length, then bytes (and keeps one of repeated keys): only a
          // document already in that order, keys distinct, comes back as it was.
          const length = keyEnd - p;
          const prevLength = prevEnd - prevStart;
          if (length !== prevLength ? length < prevLength : buf.compare(buf, prevStart, prevEnd, p, keyEnd) <= 0) return false;
        } else if (seen !== null || buf.compare(buf, prevStart, prevEnd, p, keyEnd) <= 0) {
          // SQLite's TEXT keeps the order; a repeated key would still come back once, as a Map's.
          seen ??= keysBetween(buf, pos + 4, p - 1, end);
          const key = readCString(buf, p, end)[0];
          if (seen.has(key)) return false;
          seen.add(key);
        }
      }
      writeByte(rowText, 0x3a);
      const valuePos = keyEnd + 1;
      const valueEnd = elementEnd(buf, elementType, valuePos, end);
      if (elementType === BsonType.null) writeAscii(rowText, "null");
      else if (!element(buf, elementType, valuePos, valueEnd)) return false;
      prevStart = p;
      prevEnd = keyEnd;
      p = valueEnd;
    }
    writeByte(rowText, 0x7d);
    return true;
  };

  /** An array keyed "0", "1", … (other keys would come back renumbered). */
  const array = (element: WriteJson): WriteJson => (buf, type, pos, limit) => {
    if (type !== BsonType.array) return false;
    const end = documentEndAt(buf, pos, limit);
    let p = pos + 4;
    writeByte(rowText, 0x5b);
    for (let i = 0; ; i++) {
      const elementType = buf[p++] as number;
      if (elementType === 0) break;
      const valuePos = indexNameEnd(buf, p, end, i);
      if (valuePos < 0) return false;
      const valueEnd = elementEnd(buf, elementType, valuePos, end);
      if (i > 0) writeByte(rowText, 0x2c);
      if (elementType === BsonType.null) writeAscii(rowText, "null");
      else if (!element(buf, elementType, valuePos, valueEnd)) return false;
      p = valueEnd;
    }
    writeByte(rowText, 0x5d);
    return true;
  };

  /** A mixed value: only JSON's own types read back as themselves (Int64, double, string, bool, null, objects, arrays). */
  const mixed: WriteJson = (buf, type, pos, end) => {
    switch (type) {
      case BsonType.bool:
        return bool(buf, type, pos, end);
      case BsonType.int64:
        return int(buf, type, pos, end);
      case BsonType.double:
        return double(buf, type, pos, end);
      case BsonType.string:
        return string(buf, type, pos, end);
      case BsonType.document:
        return mixedObject(buf, type, pos, end);
      case BsonType.array:
        return mixedArray(buf, type, pos, end);
      default:
        // Int32, dates, ObjectIds, UUIDs, Decimal128, binary: their JSON reads back as another type.
        return false;
    }
  };
  const mixedObject = dictionary(mixed);
  const mixedArray = array(mixed);

  const bool: WriteJson = (buf, type, pos) => {
    if (type !== BsonType.bool) return false;
    const byte = buf[pos];
    if (byte !== 0 && byte !== 1) return false;
    writeAscii(rowText, byte === 1 ? "true" : "false");
    return true;
  };
  const int: WriteJson = (buf, type, pos) => {
    if (type !== BsonType.int64) return false;
    const safe = safeInt64At(buf, pos);
    if (safe !== undefined) writeInteger(safe);
    else writeAscii(rowText, buf.readBigInt64LE(pos).toString());
    return true;
  };
  const double: WriteJson = (buf, type, pos) => {
    if (type !== BsonType.double) return false;
    const x = doubleAt(buf, pos);
    if (!isJsonExactDouble(x)) return false;
    writeDoubleJson(x);
    return true;
  };
  const string: WriteJson = (buf, type, pos, end) => {
    if (type !== BsonType.string) return false;
    writeStringAt(buf, pos, end);
    return true;
  };

  function scalar(type: string): WriteJson {
    switch (type) {
      case "mixed":
        return mixed;
      case "bool":
        return bool;
      case "int":
        return int;
      case "float":
      case "double":
        return double;
      case "string":
        return string;
      case "date":
        return (buf, t, pos) => {
          if (t !== BsonType.date) return false;
          const ms = dateMsAt(buf, pos);
          if (ms === undefined) return false;
          writeIsoJson(ms);
          return true;
        };
      case "objectId":
        return (buf, t, pos) => {
          if (t !== BsonType.objectId) return false;
          writeObjectIdAt(buf, pos);
          return true;
        };
      case "uuid":
        return (buf, t, pos) => {
          if (t !== BsonType.binary) return false;
          const start = binaryDataStart(buf, pos, 4, 16);
          if (start < 0) return false;
          writeUuidAt(buf, start);
          return true;
        };
      case "decimal128":
        // Inside JSON a Decimal128 is a string, which neither database rewrites.
        return (buf, t, pos) => {
          if (t !== BsonType.decimal128) return false;
          const text = exactDecimalText(buf, pos, (same) => same);
          if (text === undefined) return false;
          writeAscii(rowText, `"${text}"`);
          return true;
        };
      case "data":
        return (buf, t, pos, end) => {
          if (t !== BsonType.binary) return false;
          const start = binaryDataStart(buf, pos, 0, -1);
          if (start < 0) return false;
          writeAscii(rowText, `"${buf.toString("base64", start, end)}"`);
          return true;
        };
      default:
        throw new Error(`row codec: unknown scalar type ${type}`);
    }
  }

  /** An embedded object: decoded in schema order (jsonb's order does not matter), so its keys must be in it. */
  function object(name: string): WriteJson {
    const existing = objectWriters.get(name);
    if (existing) return existing;
    const model = models.get(name);
    if (!model) throw new Error(`row codec: unknown model "${name}"`);
    const properties = Object.values(model.properties);
    const names = properties.map((property) => Buffer.from(property.mapTo, "utf8"));
    // `"name":` as UTF-8, and whether it is beyond ASCII (the column's text is then decoded as UTF-8).
    const keys = properties.map((property) => Buffer.from(`${JSON.stringify(property.mapTo)}:`, "utf8"));
    const keyIsAscii = keys.map((key) => key.every((byte) => byte < 0x80));
    const writers: (WriteJson | null)[] = properties.map(() => null);
    const writerOf = (i: number): WriteJson => (writers[i] ??= compile(specOf(properties[i] as (typeof properties)[number])));
    const write: WriteJson = (buf, type, pos, limit) => {
      if (type !== BsonType.document) return false;
      const end = documentEndAt(buf, pos, limit);
      let p = pos + 4;
      writeByte(rowText, 0x7b);
      let last = -1;
      for (;;) {
        const elementType = buf[p++] as number;
        if (elementType === 0) break;
        // Keys in schema order: the one after the previous key is the first to try.
        let index = -1;
        for (let i = last + 1; i < names.length; i++) {
          if (nameAt(buf, p, end, names[i] as Buffer)) {
            index = i;
            break;
          }
        }
        if (index < 0) return false; // unknown, repeated or out of schema order
        const valuePos = p + (names[index] as Buffer).length + 1;
        const valueEnd = elementEnd(buf, elementType, valuePos, end);
        if (last >= 0) writeByte(rowText, 0x2c);
        writeBytes(rowText, keys[index] as Buffer);
        if (keyIsAscii[index] !== true) rowText.ascii = false;
        if (elementType === BsonType.null) writeAscii(rowText, "null");
        else if (!writerOf(index)(buf, elementType, valuePos, valueEnd)) return false;
        last = index;
        p = valueEnd;
      }
      writeByte(rowText, 0x7d);
      return true;
    };
    objectWriters.set(name, write);
    return write;
  }

  function compile(spec: ValueSpec): WriteJson {
    switch (spec.kind) {
      case "scalar":
        return scalar(spec.type);
      case "object":
        return object(spec.model);
      case "array":
        return array(compile(spec.element));
      case "dictionary":
        return dictionary(compile(spec.element));
    }
  }
  return compile;
}

/** The element names of a document's elements from `p` (a type byte) up to `stop`. */
function keysBetween(buf: Buffer, p: number, stop: number, end: number): Set<string> {
  const keys = new Set<string>();
  while (p < stop) {
    const type = buf[p++] as number;
    const [key, valuePos] = readCString(buf, p, end);
    keys.add(key);
    p = skipValue(buf, type, valuePos, end);
  }
  return keys;
}

/** Whether the element name at `p` is exactly `name` (its bytes, then NUL). */
function nameAt(buf: Buffer, p: number, end: number, name: Buffer): boolean {
  const n = name.length;
  if (p + n >= end || buf[p + n] !== 0) return false;
  for (let i = 0; i < n; i++) if (buf[p + i] !== name[i]) return false;
  return true;
}

/** Where a converter leaves a property's `$exact` entry, when it can write the reference's own (the row writer takes it and clears it). */
interface ExactSlot {
  entry: string | null;
}

const escapedNul = Buffer.from("\\u0000", "latin1");

/** The converter of a JSON column: its natural JSON text, when it reads back as the element. */
function compileJsonColumn(column: PropertyColumn, dialect: SqlDialect, compileJson: (spec: ValueSpec) => WriteJson, slot: ExactSlot): ConvertColumn {
  const spec = specOf(column.property);
  const write = compileJson(spec);
  if (dialect === "sqlite") return (buf, type, pos, end) => (write(buf, type, pos, end) ? inRowText : undefined);
  const checked: ConvertColumn = (buf, type, pos, end) => {
    const start = rowText.pos;
    // jsonb refuses \u0000: the reference leaves the column NULL (the same test on the same text).
    return write(buf, type, pos, end) && !rowTextIncludes(start, escapedNul) ? inRowText : undefined;
  };
  if (spec.kind !== "dictionary" || spec.element.kind !== "scalar" || spec.element.type !== "string") return checked;
  return (buf, type, pos, end) => checked(buf, type, pos, end) ?? reorderedStringDictionary(buf, type, pos, end, slot);
}

/**
 * PostgreSQL, a dictionary of strings whose keys are not in jsonb's order (`{"firmware":…,
 * "site":…}`: jsonb puts the shorter key first), the common case of a `Record<string, string>`:
 * the column holds its natural JSON all the same, and its `$exact` entry, the canonical Extended
 * JSON of a document of strings, is that same text. Anything less plain (a key a JavaScript object
 * would move first or treat specially, a repeated key, a value that is not a string, NUL) is left
 * to the reference.
 */
function reorderedStringDictionary(buf: Buffer, type: number, pos: number, limit: number, slot: ExactSlot): SqlValue | undefined {
  if (type !== BsonType.document) return undefined;
  const end = documentEnd(buf, pos, limit);
  const keys: string[] = [];
  let out = "{";
  for (let p = pos + 4; ; ) {
    const elementType = buf[p++] as number;
    if (elementType === 0) break;
    if (elementType !== BsonType.string) return undefined;
    // Integer-like keys move first in a JavaScript object (Extended JSON's parse): `{"$bson": …}` then.
    const first = buf[p] as number;
    // Also "$" (Extended JSON's own keys) and "_" ("__proto__" is no ordinary key for an object).
    if ((first >= 0x30 && first <= 0x39) || first === 0x24 || first === 0x5f) return undefined;
    const [key, valuePos] = readCString(buf, p, end);
    if (keys.includes(key)) return undefined;
    const [value, valueEnd] = readString(buf, valuePos, end);
    out += `${keys.length === 0 ? "" : ","}${JSON.stringify(key)}:${JSON.stringify(value)}`;
    keys.push(key);
    p = valueEnd;
  }
  const text = `${out}}`;
  if (text.includes("\\u0000")) return undefined;
  slot.entry = text;
  return text;
}

/** A layout's compiled writer: the row's values in the layout's column order (a retired column null), then `$exact`. */
type RowWriter = (bson: Uint8Array) => SqlValue[];

/** Compiles the row writer of `layout`. */
function compileRowWriter(layout: TableLayout): RowWriter {
  const { dialect } = layout;
  // A retired column is read, never written (see PropertyColumn.retired).
  const columns = layout.columns.filter((column) => column.retired !== true);
  const compileJson = createJsonCompiler(layout.models, dialect);
  const slot: ExactSlot = { entry: null };
  const converters = columns.map((column) => (column.form === "json" ? compileJsonColumn(column, dialect, compileJson, slot) : compileNativeColumn(column, dialect)));
  const names = columns.map((column) => column.name);
  const nameBytes = columns.map((column) => Buffer.from(column.name, "utf8"));
  const quotedNames = columns.map((column) => JSON.stringify(column.name));
  // Where each written column's value goes among the row's values.
  const slots = columns.map((column) => layout.columns.indexOf(column));
  const exactSlot = layout.columns.length;
  const count = columns.length;
  // Every value NULL: each row starts as a copy (one array shape for every row of the layout).
  const emptyValues: SqlValue[] = new Array<SqlValue>(exactSlot + 1).fill(null);
  // Columns seen are bits of a number for the first 30, an array past them (as the validator does).
  const maskColumns = 30;
  // The columns written to the row's text: their slots, and where each one's text starts and ends.
  const textSlots = new Int32Array(count);
  const textStarts = new Int32Array(count);
  const textEnds = new Int32Array(count);

  /** The document's keys, in its order (only for `$order`, which few rows need). */
  const keysOf = (buf: Buffer, end: number): string[] => {
    const keys: string[] = [];
    for (let p = 4; ; ) {
      const type = buf[p++] as number;
      if (type === 0) return keys;
      const [key, valuePos] = readCString(buf, p, end);
      keys.push(key);
      p = skipValue(buf, type, valuePos, end);
    }
  };

  return (bson) => {
    const buf = Buffer.isBuffer(bson) ? bson : Buffer.from(bson.buffer, bson.byteOffset, bson.byteLength);
    const end = documentEnd(buf, 0, buf.length);
    if (end !== buf.length) throw new Error("row codec: trailing bytes after the document");
    const values = emptyValues.slice();
    startRowText();
    let texts = 0;
    let exact: (string | undefined)[] | null = null;
    let seenMask = 0;
    let seenRest: Uint8Array | null = null;
    let last = -1;
    let inLayoutOrder = true;
    let nullSent = false;
    let p = 4;
    for (;;) {
      const type = buf[p++] as number;
      if (type === 0) break;
      // Writers keep schema order: the column after the previous one is tried first.
      let index = last + 1 < count && nameAt(buf, p, end, nameBytes[last + 1] as Buffer) ? last + 1 : -1;
      if (index < 0) {
        for (let i = 0; i < count; i++) {
          if (nameAt(buf, p, end, nameBytes[i] as Buffer)) {
            index = i;
            break;
          }
        }
      }
      if (index < 0) throw new Error(`row codec: "${layout.table}" has no column "${readCString(buf, p, end)[0]}"`);
      if (index < maskColumns) {
        const bit = 1 << index;
        if ((seenMask & bit) !== 0) throw new Error(`row codec: "${names[index] as string}" appears twice`);
        seenMask |= bit;
      } else {
        seenRest ??= new Uint8Array(count);
        if (seenRest[index] === 1) throw new Error(`row codec: "${names[index] as string}" appears twice`);
        seenRest[index] = 1;
      }
      if (index < last) inLayoutOrder = false;
      last = index;
      const valuePos = p + (nameBytes[index] as Buffer).length + 1;
      const valueEnd = elementEnd(buf, type, valuePos, end);
      p = valueEnd;
      if (type === BsonType.null) {
        // A null sent: its column is NULL as for an absent key, so `$order` tells them apart.
        nullSent = true;
        continue;
      }
      const textStart = rowText.pos;
      const textAscii = rowText.ascii;
      const value = (converters[index] as ConvertColumn)(buf, type, valuePos, valueEnd);
      if (value === inRowText) {
        textSlots[texts] = slots[index] as number;
        textStarts[texts] = textStart;
        textEnds[texts++] = rowText.pos;
        continue;
      }
      // Anything the converter appended is not this column's text.
      rowText.pos = textStart;
      rowText.ascii = textAscii;
      if (value !== undefined) {
        values[slots[index] as number] = value;
        if (slot.entry !== null) {
          (exact ??= new Array<string | undefined>(count))[index] = slot.entry;
          slot.entry = null;
        }
        continue;
      }
      const judged = referencePropertyValue(readBsonElement(buf, type, valuePos, valueEnd), columns[index] as PropertyColumn, layout);
      values[slots[index] as number] = judged.stored;
      if (judged.exact !== null) (exact ??= new Array<string | undefined>(count))[index] = judged.exact;
    }
    if (texts > 0) sliceRowText(values, textSlots, textStarts, textEnds, texts);
    // Without `$order` a row stands for its non-NULL (or `$exact`) columns in layout order: every
    // present key that is not a null sent has one of them, so only order and nulls need it.
    const order = inLayoutOrder && !nullSent ? null : JSON.stringify(keysOf(buf, end));
    if (exact !== null || order !== null) {
      const entries: string[] = [];
      if (exact !== null) for (let i = 0; i < count; i++) if (exact[i] !== undefined) entries.push(`${quotedNames[i] as string}:${exact[i] as string}`);
      if (order !== null) entries.push(`"$order":${order}`);
      values[exactSlot] = `{${entries.join(",")}}`;
    }
    return values;
  };
}

const writers = new WeakMap<TableLayout, RowWriter>();

/**
 * The row values of an ingested document, as `referenceDocumentToRow` gives the row (see the
 * module comment), in the layout's column order (a retired column null), then `$exact`: the
 * order the SQL stores insert them in. The layout's writer is compiled on first use.
 */
export function writeRowValuesFast(bson: Uint8Array, layout: TableLayout): SqlValue[] {
  let writer = writers.get(layout);
  if (writer === undefined) {
    writer = compileRowWriter(layout);
    writers.set(layout, writer);
  }
  return writer(bson);
}
