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
import type { CanonicalObjectSchema, CanonicalPropertySchema } from "asymgen/schema";
import { BsonType, documentEnd, malformed, readCString, readInt32, readString } from "../ingest/bson-cursor.js";
import { formatBinary, quoteKey } from "../ingest/write-canonical-ejson.js";
import { maxNestingDepth } from "asymgen/protocol";

/** Why a document does not match its schema: the path (persisted names) and what went wrong. */
export interface ValidationFailure {
  ok: false;
  path: string;
  message: string;
}

/**
 * Where scans write their Extended JSON: one buffer for a whole batch, the documents' texts back
 * to back (UTF-8). The text stays bytes until a store asks for a string: the SQLite store hands
 * the bytes to its worker thread without ever making one on the main thread.
 */
export class EjsonOutput {
  /** Bytes `[0, length)` are written; the buffer is replaced by a larger copy when it fills. */
  buf: Buffer;
  length = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }
}

/** A document that matches its schema: where its text is in the EjsonOutput it was scanned into. */
export interface ScannedDocument {
  ok: true;
  /** Canonical Extended JSON of the document: bytes `[start, end)` of the output. */
  start: number;
  end: number;
  /** The text of its `_id` value: bytes `[idStart, idEnd)`. */
  idStart: number;
  idEnd: number;
  /** The text is all ASCII (latin1 decodes it, faster than UTF-8). */
  ascii: boolean;
  /** The `_id` is an Int32: its key is the Int64 it widens to, so both spell one key (see scannedText). */
  widenId: boolean;
}

/** Scans the document whose bytes start at `start` in `buf` (its length prefix bounds it), appending its text to `output`. */
export type DocumentScanner = (buf: Buffer, start: number, output: EjsonOutput) => ScannedDocument | ValidationFailure;

/** A scanned document's text as strings: its canonical Extended JSON, and its `_id` key (Int32 widened to Int64). */
export function scannedText(output: EjsonOutput, doc: ScannedDocument): { ejson: string; idKey: string } {
  const encoding = doc.ascii ? "latin1" : "utf8";
  const ejson = output.buf.toString(encoding, doc.start, doc.end);
  const idKey = output.buf.toString(encoding, doc.idStart, doc.idEnd);
  return { ejson, idKey: doc.widenId ? idKey.replace('{"$numberInt":', '{"$numberLong":') : idKey };
}

/** The compiled scanners of every asymmetric model, keyed by persisted model name. */
export type SchemaScanners = ReadonlyMap<string, DocumentScanner>;

interface ScanContext {
  buf: Buffer;
  /** The output's buffer: this document's text runs from where the scan began to `pos`, UTF-8 (only ASCII while `ascii`). */
  out: Buffer;
  pos: number;
  ascii: boolean;
  /** Where the `_id` value's text starts and ends in `out`, and its BSON type. */
  idStart: number;
  idEnd: number;
  idType: number;
  /** How many documents, arrays and dictionaries enclose the current value (the top document is 1). */
  depth: number;
}

/**
 * Scans one value of BSON `type` at `pos`; appends its EJSON to `ctx.out`; returns the position
 * after it. A mismatch throws Invalid with the path relative to this value ("" for the value
 * itself); each enclosing object, list or dictionary prepends its own step while the error
 * unwinds, so no path text is built for a valid document.
 */
type ValueScanner = (ctx: ScanContext, type: number, pos: number, limit: number) => number;

/** A schema mismatch, thrown inside a scan and turned into a ValidationFailure at the top. */
class Invalid {
  constructor(
    /** Steps from the value that failed up to where the error is now: `.name`, `[2]`, `["key"]`. */
    public path: string,
    readonly message: string,
  ) {}
}

/** Prepends `step` to the path of an Invalid passing through; rethrows anything else untouched. */
function withStep(error: unknown, step: string): never {
  if (error instanceof Invalid) error.path = step + error.path;
  throw error;
}

const scalarTypes = new Set(["bool", "int", "float", "double", "decimal128", "objectId", "uuid", "string", "data", "date", "mixed"]);
// ECMAScript dates span ±8.64e15 ms; BSON dates outside cannot be stored as the SDKs' Date.
const maxDateMs = 8_640_000_000_000_000;

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

// ---- The output buffer -------------------------------------------------------------------

/** Makes room for `bytes` more bytes of output. */
function ensure(ctx: ScanContext, bytes: number): void {
  const needed = ctx.pos + bytes;
  if (needed <= ctx.out.length) return;
  let size = ctx.out.length * 2;
  while (size < needed) size *= 2;
  const grown = Buffer.allocUnsafe(size);
  ctx.out.copy(grown, 0, 0, ctx.pos);
  ctx.out = grown;
}

/** Appends precomputed ASCII bytes. */
function writeBytes(ctx: ScanContext, bytes: Uint8Array): void {
  const n = bytes.length;
  ensure(ctx, n);
  const { out } = ctx;
  let pos = ctx.pos;
  for (let i = 0; i < n; i++) out[pos++] = bytes[i] as number;
  ctx.pos = pos;
}

/** Appends a string known to be ASCII (numbers, hex, base64, fixed text). */
function writeAscii(ctx: ScanContext, text: string): void {
  const n = text.length;
  ensure(ctx, n);
  const { out } = ctx;
  let pos = ctx.pos;
  for (let i = 0; i < n; i++) out[pos++] = text.charCodeAt(i);
  ctx.pos = pos;
}

/** Appends any string as UTF-8. */
function writeText(ctx: ScanContext, text: string): void {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) >= 0x80) {
      ensure(ctx, text.length * 3);
      ctx.pos += ctx.out.write(text, ctx.pos, "utf8");
      ctx.ascii = false;
      return;
    }
  }
  writeAscii(ctx, text);
}

function writeByte(ctx: ScanContext, byte: number): void {
  ensure(ctx, 1);
  ctx.out[ctx.pos++] = byte;
}

const ascii = (text: string): Uint8Array => Buffer.from(text, "latin1");
const numberLongOpen = ascii('{"$numberLong":"');
const numberIntOpen = ascii('{"$numberInt":"');
const numberDoubleOpen = ascii('{"$numberDouble":"');
const dateOpen = ascii('{"$date":{"$numberLong":"');
const oidOpen = ascii('{"$oid":"');
const close1 = ascii('"}');
const close2 = ascii('"}}');
const hexDigits = ascii("0123456789abcdef");
const hexPairs = Array.from({ length: 256 }, (_, i) => [hexDigits[i >> 4] as number, hexDigits[i & 15] as number] as const);

/** Appends the decimal digits of an integer within ±2^53 (what String() prints for it). */
function writeSafeInteger(ctx: ScanContext, value: number): void {
  ensure(ctx, 17);
  let rest = value;
  if (rest < 0) {
    ctx.out[ctx.pos++] = 0x2d; // -
    rest = -rest;
  }
  if (rest <= 0x7fffffff) {
    writeSmallInteger(ctx, rest | 0, 0);
    return;
  }
  // Two int32 halves: floating-point % and / on large values are slow.
  let high = Math.floor(rest / 1e9);
  let low = rest - high * 1e9;
  if (low < 0) {
    high--;
    low += 1e9;
  } else if (low >= 1e9) {
    high++;
    low -= 1e9;
  }
  writeSmallInteger(ctx, high | 0, 0);
  writeSmallInteger(ctx, low | 0, 9);
}

/** Appends the digits of a non-negative int32, left-padded with zeros to `width`. */
function writeSmallInteger(ctx: ScanContext, value: number, width: number): void {
  let digits = 1;
  for (let rest = value; rest >= 10; rest = (rest / 10) | 0) digits++;
  if (digits < width) digits = width;
  const { out } = ctx;
  let p = ctx.pos + digits;
  ctx.pos = p;
  let rest = value;
  for (let i = 0; i < digits; i++) {
    const next = (rest / 10) | 0;
    out[--p] = 0x30 + rest - next * 10;
    rest = next;
  }
}

/** `{"$numberLong":"…"}` of the Int64 at `pos` (in bounds). */
function writeInt64(ctx: ScanContext, open: Uint8Array, close: Uint8Array, buf: Buffer, pos: number): void {
  writeBytes(ctx, open);
  const high = buf.readInt32LE(pos + 4);
  // Within ±2^53 a double holds the value exactly: no BigInt needed.
  if (high >= -0x200000 && high < 0x200000) writeSafeInteger(ctx, high * 4294967296 + buf.readUInt32LE(pos));
  else writeAscii(ctx, buf.readBigInt64LE(pos).toString());
  writeBytes(ctx, close);
}

/** JSON.stringify's one-letter escapes of control characters (\b \t \n \f \r), by code; 0: written as \u00XX. */
const controlEscapes = new Uint8Array(0x20);
for (const [code, letter] of [[0x08, "b"], [0x09, "t"], [0x0a, "n"], [0x0c, "f"], [0x0d, "r"]] as const) controlEscapes[code] = letter.charCodeAt(0);

/** Strings longer than this (in bytes) take the decoding path, so output room is not reserved six times over. */
const longStringBytes = 64 * 1024;

/** A BSON string at `pos` as a JSON string: ASCII bytes are copied (escaping as JSON.stringify does), anything else decoded. */
function writeBsonString(ctx: ScanContext, buf: Buffer, pos: number, limit: number): number {
  const length = readInt32(buf, pos);
  const start = pos + 4;
  const end = start + length;
  if (length < 1 || end > limit || buf[end - 1] !== 0) malformed("bad string length");
  const last = end - 1;
  if (last - start > longStringBytes) {
    // A long string: decode it and write its JSON, sized to what it needs, not the worst case.
    const [value] = readString(buf, pos, limit);
    writeText(ctx, JSON.stringify(value));
    return end;
  }
  // Worst case: every byte a six-character \u00XX escape, plus the quotes.
  ensure(ctx, (last - start) * 6 + 2);
  const { out } = ctx;
  const mark = ctx.pos;
  let p = mark;
  out[p++] = 0x22;
  for (let i = start; i < last; i++) {
    const c = buf[i] as number;
    if (c >= 0x20 && c !== 0x22 && c !== 0x5c && c < 0x80) {
      out[p++] = c;
    } else if (c >= 0x80) {
      // Not ASCII: decode (checking the UTF-8) and let JSON.stringify write it.
      ctx.pos = mark;
      const [value] = readString(buf, pos, limit);
      writeText(ctx, JSON.stringify(value));
      return end;
    } else {
      out[p++] = 0x5c;
      // `"` and `\` escape as themselves; a control character as its letter, or else as \u00XX.
      const letter = c < 0x20 ? (controlEscapes[c] as number) : c;
      if (letter !== 0) {
        out[p++] = letter;
      } else {
        out[p++] = 0x75; // u
        out[p++] = 0x30;
        out[p++] = 0x30;
        out[p++] = hexDigits[c >> 4] as number;
        out[p++] = hexDigits[c & 15] as number;
      }
    }
  }
  out[p++] = 0x22;
  ctx.pos = p;
  return end;
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

function writeBinary(ctx: ScanContext, subtype: number, start: number, end: number): void {
  writeAscii(ctx, formatBinary(ctx.buf.toString("base64", start, end), subtype));
}

/** Where an array element's name (`"0"`, `"1"`, …) ends, if the name at `p` is `index`'s digits; -1 otherwise. */
function indexNameEnd(buf: Buffer, p: number, end: number, index: number): number {
  const digits = index < 10 ? 1 : index < 100 ? 2 : index < 1000 ? 3 : String(index).length;
  const nul = p + digits;
  if (nul >= end || buf[nul] !== 0) return -1;
  let value = index;
  for (let k = nul - 1; k >= p; k--) {
    if (buf[k] !== 0x30 + (value % 10)) return -1;
    value = Math.floor(value / 10);
  }
  return nul + 1;
}

/** Scans any scalar of the given canonical type; `null` is handled by the caller. */
function compileScalar(type: string): ValueScanner {
  const fail = (expected: string): never => {
    throw new Invalid("", `expected ${expected}`);
  };
  switch (type) {
    case "bool":
      return (ctx, t, pos, limit) => {
        if (t !== BsonType.bool) fail("a boolean");
        checkEnd(pos + 1, limit);
        const byte = ctx.buf[pos];
        if (byte !== 0 && byte !== 1) malformed("bad boolean byte");
        writeAscii(ctx, byte === 1 ? "true" : "false");
        return pos + 1;
      };
    case "int":
      return (ctx, t, pos, limit) => {
        if (t === BsonType.int64) {
          checkEnd(pos + 8, limit);
          writeInt64(ctx, numberLongOpen, close1, ctx.buf, pos);
          return pos + 8;
        }
        if (t !== BsonType.int32) fail("an integer (BSON Int64 or Int32)");
        const value = readInt32(ctx.buf, pos);
        writeBytes(ctx, numberIntOpen);
        writeSafeInteger(ctx, value);
        writeBytes(ctx, close1);
        return pos + 4;
      };
    case "float":
    case "double":
      // A JS client writes whole numbers of a double field as doubles, but other BSON writers may
      // pick Int32 for them; the value is still exact, so it is accepted and stored as sent.
      return (ctx, t, pos, limit) => {
        if (t === BsonType.double) {
          checkEnd(pos + 8, limit);
          writeBytes(ctx, numberDoubleOpen);
          writeAscii(ctx, doubleText(ctx.buf, pos));
          writeBytes(ctx, close1);
          return pos + 8;
        }
        if (t !== BsonType.int32) fail("a number (BSON double)");
        const value = readInt32(ctx.buf, pos);
        writeBytes(ctx, numberIntOpen);
        writeSafeInteger(ctx, value);
        writeBytes(ctx, close1);
        return pos + 4;
      };
    case "decimal128":
      return (ctx, t, pos, limit) => {
        if (t !== BsonType.decimal128) fail("a Decimal128");
        checkEnd(pos + 16, limit);
        writeAscii(ctx, `{"$numberDecimal":"${new Decimal128(ctx.buf.subarray(pos, pos + 16)).toString()}"}`);
        return pos + 16;
      };
    case "objectId":
      return (ctx, t, pos, limit) => {
        if (t !== BsonType.objectId) fail("an ObjectId");
        checkEnd(pos + 12, limit);
        writeBytes(ctx, oidOpen);
        ensure(ctx, 24);
        const { out, buf } = ctx;
        let p = ctx.pos;
        for (let i = pos; i < pos + 12; i++) {
          const pair = hexPairs[buf[i] as number]!;
          out[p++] = pair[0];
          out[p++] = pair[1];
        }
        ctx.pos = p;
        writeBytes(ctx, close1);
        return pos + 12;
      };
    case "uuid":
      return (ctx, t, pos, limit) => {
        if (t !== BsonType.binary) fail("a UUID (binary subtype 4)");
        const [subtype, start, end] = readBinary(ctx.buf, pos, limit);
        if (subtype !== 4 || end - start !== 16) fail("a UUID (binary subtype 4)");
        writeBinary(ctx, subtype, start, end);
        return end;
      };
    case "string":
      return (ctx, t, pos, limit) => {
        if (t !== BsonType.string) fail("a string");
        return writeBsonString(ctx, ctx.buf, pos, limit);
      };
    case "data":
      return (ctx, t, pos, limit) => {
        if (t !== BsonType.binary) fail("binary data (binary subtype 0)");
        const [subtype, start, end] = readBinary(ctx.buf, pos, limit);
        if (subtype !== 0) fail("binary data (binary subtype 0)");
        writeBinary(ctx, subtype, start, end);
        return end;
      };
    case "date":
      return (ctx, t, pos, limit) => {
        if (t !== BsonType.date) fail("a date");
        checkEnd(pos + 8, limit);
        const { buf } = ctx;
        const high = buf.readInt32LE(pos + 4);
        // Outside ±2^53 (high word) is far outside the date range anyway.
        const ms = high >= -0x200000 && high < 0x200000 ? high * 4294967296 + buf.readUInt32LE(pos) : Infinity;
        if (ms > maxDateMs || ms < -maxDateMs) fail("a date");
        writeBytes(ctx, dateOpen);
        writeSafeInteger(ctx, ms);
        writeBytes(ctx, close2);
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
      const binary: ValueScanner = (ctx, _t, pos, limit) => {
        const [subtype, start, end] = readBinary(ctx.buf, pos, limit);
        if (subtype !== 0 && !(subtype === 4 && end - start === 16)) fail("a scalar value (mixed)");
        writeBinary(ctx, subtype, start, end);
        return end;
      };
      return (ctx, t, pos, limit) => {
        if (t === BsonType.binary) return binary(ctx, t, pos, limit);
        const scanner = scanners.get(t);
        if (!scanner) fail("a scalar value (mixed)");
        try {
          return scanner!(ctx, t, pos, limit);
        } catch (error) {
          if (error instanceof Invalid) fail("a scalar value (mixed)");
          throw error;
        }
      };
    }
    default:
      throw new Error(`schema: unknown property type "${type}"`);
  }
}

// Printing a double is the costliest step of a scan, and readings repeat (sensors quantise):
// a small direct-mapped cache of recent values' texts, keyed by the value itself.
const doubleCacheSlots = 1024;
const cachedDoubles = new Float64Array(doubleCacheSlots);
const cachedDoubleTexts: string[] = new Array<string>(doubleCacheSlots).fill("");

/** The text inside `{"$numberDouble":"…"}` of the double at `pos`, as formatDouble (and bson's EJSON) spell it. */
function doubleText(buf: Buffer, pos: number): string {
  const value = buf.readDoubleLE(pos);
  // Zero is never cached (0 === -0, and the empty slots hold 0); NaN never equals a cached value.
  if (value === 0) return Object.is(value, -0) ? "-0.0" : "0.0";
  const slot = Math.imul(buf.readInt32LE(pos) ^ buf.readInt32LE(pos + 4), 0x9e3779b1) >>> 22;
  if (cachedDoubles[slot] === value) return cachedDoubleTexts[slot]!;
  const text = Number.isInteger(value) ? value.toFixed(1) : value.toString();
  cachedDoubles[slot] = value;
  cachedDoubleTexts[slot] = text;
  return text;
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
    objectScanners.set(name, (ctx, t, pos, limit) => scan(ctx, t, pos, limit));
    scan = compileObject(schema, false);
    return objectScanners.get(name)!;
  }

  function compileObject(schema: CanonicalObjectSchema, topLevel: boolean): ValueScanner {
    interface Field {
      name: string;
      /** `.name`: this field's step in a path. */
      step: string;
      /** The name's UTF-8 bytes, matched against the document's bytes without decoding them. */
      bytes: Uint8Array;
      /** `"name":` and `,"name":` as UTF-8. */
      quotedFirst: Uint8Array;
      quotedNext: Uint8Array;
      /** Whether the quoted name is all ASCII. */
      asciiName: boolean;
      scan: ValueScanner;
      required: boolean;
      isId: boolean;
    }
    const fields: Field[] = Object.values(schema.properties).map((property) => ({
      name: property.mapTo,
      step: `.${property.mapTo}`,
      bytes: Buffer.from(property.mapTo, "utf8"),
      quotedFirst: Buffer.from(`${quoteKey(property.mapTo)}:`, "utf8"),
      quotedNext: Buffer.from(`,${quoteKey(property.mapTo)}:`, "utf8"),
      // eslint-disable-next-line no-control-regex
      asciiName: /^[\x00-\x7f]*$/.test(property.mapTo),
      scan: compileProperty(property),
      required: isRequired(property),
      isId: topLevel && property.mapTo === "_id",
    }));
    const requiredCount = fields.filter((field) => field.required).length;
    // Fields seen are kept as bits of a number for the first 30 fields, in an array past them.
    const maskFields = 30;

    function matches(field: Field, buf: Buffer, p: number, end: number): boolean {
      const { bytes } = field;
      const n = bytes.length;
      if (p + n >= end || buf[p + n] !== 0) return false;
      for (let i = 0; i < n; i++) if (buf[p + i] !== bytes[i]) return false;
      return true;
    }

    return (ctx, t, pos, limit) => {
      if (t !== BsonType.document) throw new Invalid("", "expected an embedded object");
      const { buf } = ctx;
      const end = documentEnd(buf, pos, limit);
      enter(ctx);
      let p = pos + 4;
      // Which fields were seen, by index (documents repeat no field).
      let seenMask = 0;
      let seenRest: Uint8Array | null = null;
      let requiredSeen = 0;
      let first = true;
      // Writers emit fields in schema order, so the field after the last one is tried first.
      let hint = 0;
      writeByte(ctx, 0x7b); // {
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
          throw new Invalid(`.${key}`, badKeyMessage(key) ?? "unknown field");
        }
        const field = fields[index]!;
        const valuePos = p + field.bytes.length + 1;
        // A field given twice would be stored one way and read back another: refuse it.
        if (index < maskFields) {
          const bit = 1 << index;
          if ((seenMask & bit) !== 0) throw new Invalid(field.step, "field appears twice");
          seenMask |= bit;
        } else {
          seenRest ??= new Uint8Array(fields.length);
          if (seenRest[index] === 1) throw new Invalid(field.step, "field appears twice");
          seenRest[index] = 1;
        }
        hint = index + 1;
        if (field.required) requiredSeen++;
        writeBytes(ctx, first ? field.quotedFirst : field.quotedNext);
        if (!field.asciiName) ctx.ascii = false;
        first = false;
        if (field.isId) {
          ctx.idStart = ctx.pos;
          ctx.idType = type;
        }
        try {
          p = field.scan(ctx, type, valuePos, end);
        } catch (error) {
          withStep(error, field.step);
        }
        if (field.isId) ctx.idEnd = ctx.pos;
      }
      if (requiredSeen < requiredCount) {
        const seen = (i: number) => (i < maskFields ? (seenMask & (1 << i)) !== 0 : seenRest?.[i] === 1);
        const missing = fields.find((field, i) => field.required && !seen(i))?.name ?? "";
        throw new Invalid(`.${missing}`, "required field is missing");
      }
      writeByte(ctx, 0x7d); // }
      ctx.depth--;
      return end;
    };
  }

  function nullable(scan: ValueScanner, nullMessage: string | null): ValueScanner {
    return (ctx, t, pos, limit) => {
      if (t !== BsonType.null) return scan(ctx, t, pos, limit);
      if (nullMessage !== null) throw new Invalid("", nullMessage);
      writeAscii(ctx, "null");
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
        return nullable((ctx, t, pos, limit) => objectScanner(target)(ctx, t, pos, limit), null);
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
      : (ctx, t, pos, limit) => objectScanner(elementType)(ctx, t, pos, limit);
    return nullable(inner, property.optional || elementType === "mixed" ? null : "expected a value, not null");
  }

  const validators = new Map<string, DocumentScanner>();
  for (const schema of schemas) {
    if (!schema.asymmetric || schema.embedded) continue;
    const scan = compileObject(schema, true);
    validators.set(schema.name, (buf, start, output) => {
      const first = output.length;
      const ctx: ScanContext = { buf, out: output.buf, pos: first, ascii: true, idStart: -1, idEnd: -1, idType: 0, depth: 0 };
      try {
        scan(ctx, BsonType.document, start, buf.length);
      } catch (error) {
        // What this document wrote is left behind: the next one writes over it.
        output.buf = ctx.out;
        if (error instanceof Invalid) return { ok: false, path: topLevelPath(error.path), message: error.message };
        throw error;
      }
      output.buf = ctx.out;
      output.length = ctx.pos;
      return { ok: true, start: first, end: ctx.pos, idStart: ctx.idStart, idEnd: ctx.idEnd, ascii: ctx.ascii, widenId: ctx.idType === BsonType.int32 };
    });
  }
  return validators;
}

/** A path relative to the document (steps `.a`, `[2]`, `["k"]`) as reported: `a[2]["k"]`, or `(document)` for the document itself. */
function topLevelPath(steps: string): string {
  if (steps === "") return "(document)";
  return steps.startsWith(".") ? steps.slice(1) : steps;
}

function compileArray(element: ValueScanner, kind: "list" | "set"): ValueScanner {
  return (ctx, t, pos, limit) => {
    if (t !== BsonType.array) throw new Invalid("", `expected an array (${kind})`);
    const { buf } = ctx;
    const end = documentEnd(buf, pos, limit);
    enter(ctx);
    let p = pos + 4;
    writeByte(ctx, 0x5b); // [
    for (let i = 0; ; i++) {
      if (p >= end) malformed("array ends without its terminator");
      const type = buf[p++] as number;
      if (type === 0) {
        if (p !== end) malformed("array terminator before its end");
        break;
      }
      let valuePos = indexNameEnd(buf, p, end, i);
      if (valuePos < 0) {
        // Elements are keyed "0", "1", …: other keys would read back as another array.
        const [key, after] = readCString(buf, p, end);
        if (key !== String(i)) throw new Invalid(`[${i}]`, "array element keys must count 0, 1, 2, …");
        valuePos = after;
      }
      if (i > 0) writeByte(ctx, 0x2c); // ,
      try {
        p = element(ctx, type, valuePos, end);
      } catch (error) {
        withStep(error, `[${i}]`);
      }
    }
    writeByte(ctx, 0x5d); // ]
    ctx.depth--;
    return end;
  };
}

function compileDictionary(element: ValueScanner): ValueScanner {
  return (ctx, t, pos, limit) => {
    if (t !== BsonType.document) throw new Invalid("", "expected a document (dictionary)");
    const { buf } = ctx;
    const end = documentEnd(buf, pos, limit);
    enter(ctx);
    let p = pos + 4;
    let seen: Set<string> | null = null;
    writeByte(ctx, 0x7b); // {
    for (let first = true; ; first = false) {
      if (p >= end) malformed("document ends without its terminator");
      const type = buf[p++] as number;
      if (type === 0) {
        if (p !== end) malformed("document terminator before its end");
        break;
      }
      const [key, valuePos] = readCString(buf, p, end);
      // Realm refuses dictionary keys that start with "$" or contain "." (MongoDB field rules).
      const bad = badKeyMessage(key) ?? (key.includes(".") ? 'dictionary keys must not contain "."' : null);
      if (bad) throw new Invalid(`[${JSON.stringify(key)}]`, bad);
      if (seen === null) seen = new Set();
      if (seen.has(key)) throw new Invalid(`[${JSON.stringify(key)}]`, "key appears twice");
      seen.add(key);
      if (!first) writeByte(ctx, 0x2c); // ,
      writeText(ctx, quoteKey(key));
      writeByte(ctx, 0x3a); // :
      try {
        p = element(ctx, type, valuePos, end);
      } catch (error) {
        withStep(error, `[${JSON.stringify(key)}]`);
      }
    }
    writeByte(ctx, 0x7d); // }
    ctx.depth--;
    return end;
  };
}
