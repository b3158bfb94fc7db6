/**
 * The scanner of an object (a model's document or an embedded object): finds each field by its
 * name's bytes (the one after the previous field first: writers keep schema order), refuses
 * unknown, repeated and missing required fields. The top-level scanner also writes the `_id`
 * value's canonical Extended JSON (the document's key), once the value is checked, and records
 * where it is: the only text a scan writes.
 */
import type { CanonicalObjectSchema, CanonicalPropertySchema } from "asymgen/schema";
import { BsonType, documentEnd, malformed, readCString } from "../bson/bson-cursor.js";
import { writeBsonValue } from "../ejson/write-bson-value.js";
import { isDateInRange, plainStringEnd } from "./scalar-scanners.js";
import { badKeyMessage, enter, Invalid, withStep } from "./scan-context.js";
import type { ValueScanner } from "./scan-context.js";

/** What the object scanner checks inline for a value of a field's own BSON type (no scanner call). */
const enum FastCheck {
  none,
  /** A value of eight bytes (a double, an Int64) that any bytes make valid. */
  eight,
  objectId,
  string,
  date,
}

/** The inline check of a property's values and the BSON type it applies to (-1: none). */
function fastCheckOf(property: CanonicalPropertySchema): { fastType: number; fast: FastCheck } {
  switch (property.type) {
    case "double":
    case "float":
      return { fastType: BsonType.double, fast: FastCheck.eight };
    case "int":
      return { fastType: BsonType.int64, fast: FastCheck.eight };
    case "objectId":
      return { fastType: BsonType.objectId, fast: FastCheck.objectId };
    case "string":
      return { fastType: BsonType.string, fast: FastCheck.string };
    case "date":
      return { fastType: BsonType.date, fast: FastCheck.date };
    default:
      return { fastType: -1, fast: FastCheck.none };
  }
}

/**
 * Checks the value at `pos` as the scalar scanner of its type does (scalar-scanners.ts) and
 * returns its end, or -1 when it is not plainly valid: the scanner then judges it (a non-ASCII
 * string, for one, is valid).
 */
function checkFast(fast: FastCheck, buf: Buffer, pos: number, limit: number): number {
  switch (fast) {
    case FastCheck.eight:
      return pos + 8 <= limit ? pos + 8 : -1;
    case FastCheck.objectId:
      return pos + 12 <= limit ? pos + 12 : -1;
    case FastCheck.string:
      return plainStringEnd(buf, pos, limit);
    case FastCheck.date:
      return pos + 8 <= limit && isDateInRange(buf, pos) ? pos + 8 : -1;
    default:
      return -1;
  }
}

/** `name`'s whole four-byte words as little-endian int32s: what DataView's getInt32(…, true) reads over the same bytes. */
function nameWords(name: Uint8Array): Int32Array {
  const words = new Int32Array(Math.floor(name.length / 4));
  const view = new DataView(name.buffer, name.byteOffset, name.byteLength);
  for (let i = 0; i < words.length; i++) words[i] = view.getInt32(4 * i, true);
  return words;
}

/** Whether a field must be sent (present, and not null). */
function isRequired(property: CanonicalPropertySchema): boolean {
  // Collections default to empty and links to embedded objects are optional in Realm's model;
  // mixed is always nullable. Everything else non-optional must be sent.
  if (property.type === "list" || property.type === "set" || property.type === "dictionary") return false;
  if (property.type === "object" || property.type === "mixed") return false;
  return !property.optional;
}

/**
 * Compiles the scanner of `schema`'s objects; `topLevel` for a model's document (its `_id`, the
 * primary key's persisted name, is written and recorded). `compileProperty` compiles each field's
 * value scanner (links compile lazily there).
 */
export function compileObjectScanner(
  schema: CanonicalObjectSchema,
  topLevel: boolean,
  compileProperty: (property: CanonicalPropertySchema) => ValueScanner,
): ValueScanner {
  interface Field {
    name: string;
    /** `.name`: this field's step in a path. */
    step: string;
    /** The name's UTF-8 bytes, matched against the document's bytes without decoding them. */
    bytes: Uint8Array;
    /** The name's length in bytes. */
    length: number;
    /** The name's whole four-byte words as little-endian int32s (its last `length % 4` bytes are compared one by one). */
    words: Int32Array;
    scan: ValueScanner;
    /** The BSON type the loop checks inline (see FastCheck), or -1: every value goes to `scan`. */
    fastType: number;
    fast: FastCheck;
    required: boolean;
    isId: boolean;
  }
  const fields: Field[] = Object.values(schema.properties).map((property) => ({
    name: property.mapTo,
    step: `.${property.mapTo}`,
    bytes: Buffer.from(property.mapTo, "utf8"),
    length: Buffer.byteLength(property.mapTo, "utf8"),
    words: nameWords(Buffer.from(property.mapTo, "utf8")),
    scan: compileProperty(property),
    ...fastCheckOf(property),
    required: isRequired(property),
    // The primary key: the server serves only models whose primary key is persisted as `_id`.
    isId: topLevel && property.mapTo === "_id",
  }));
  const requiredCount = fields.filter((field) => field.required).length;
  // Fields seen are kept as bits of a number for the first 30 fields, in an array past them.
  const maskFields = 30;

  function matches(field: Field, buf: Buffer, view: DataView, p: number, end: number): boolean {
    const { bytes, words, length: n } = field;
    if (p + n >= end || buf[p + n] !== 0) return false;
    const w = words.length;
    for (let i = 0; i < w; i++) if (view.getInt32(p + 4 * i, true) !== words[i]) return false;
    for (let i = 4 * w; i < n; i++) if (buf[p + i] !== bytes[i]) return false;
    return true;
  }

  return (ctx, t, pos, limit) => {
    if (t !== BsonType.document) throw new Invalid("", "expected an embedded object");
    const { buf, view } = ctx;
    const end = documentEnd(buf, pos, limit);
    enter(ctx);
    let p = pos + 4;
    // Which fields were seen, by index (documents repeat no field).
    let seenMask = 0;
    let seenRest: Uint8Array | null = null;
    let requiredSeen = 0;
    // Writers emit fields in schema order, so the field after the last one is tried first.
    let hint = 0;
    for (;;) {
      if (p >= end) malformed("document ends without its terminator");
      const type = buf[p++] as number;
      if (type === 0) {
        if (p !== end) malformed("document terminator before its end");
        break;
      }
      let index = hint < fields.length && matches(fields[hint]!, buf, view, p, end) ? hint : -1;
      if (index < 0) {
        for (let i = 0; i < fields.length; i++) {
          if (matches(fields[i]!, buf, view, p, end)) {
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
      const valuePos = p + field.length + 1;
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
      // The commonest values are checked here, as their scanner would; anything else (another
      // type, null, a value that fails) goes to the scanner, which also says what is wrong.
      let next = type === field.fastType ? checkFast(field.fast, buf, valuePos, end) : -1;
      if (next < 0) {
        try {
          next = field.scan(ctx, type, valuePos, end);
        } catch (error) {
          withStep(error, field.step);
        }
      }
      p = next;
      if (field.isId) {
        // Checked: its text (the key) is written from its bytes.
        ctx.idStart = ctx.pos;
        ctx.idType = type;
        writeBsonValue(ctx, buf, type, valuePos, end);
        ctx.idEnd = ctx.pos;
      }
    }
    if (requiredSeen < requiredCount) {
      const seen = (i: number) => (i < maskFields ? (seenMask & (1 << i)) !== 0 : seenRest?.[i] === 1);
      const missing = fields.find((field, i) => field.required && !seen(i))?.name ?? "";
      throw new Invalid(`.${missing}`, "required field is missing");
    }
    ctx.depth--;
    return end;
  };
}
