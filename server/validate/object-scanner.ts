/**
 * The scanner of an object (a model's document or an embedded object): finds each field by its
 * name's bytes (the one after the previous field first: writers keep schema order), refuses
 * unknown, repeated and missing required fields, and (compiled with `text`) writes
 * `{"name":value,…}` in the order of the bytes. The top-level scanner also writes the `_id`
 * value's text (whether or not `text`: it is the document's key) and records where it is.
 */
import type { CanonicalObjectSchema, CanonicalPropertySchema } from "asymgen/schema";
import { BsonType, documentEnd, malformed, readCString } from "../bson/bson-cursor.js";
import { writeByte, writeBytes } from "../ejson/ejson-sink.js";
import { quoteKey } from "../ejson/write-canonical-ejson.js";
import { badKeyMessage, enter, Invalid, withStep } from "./scan-context.js";
import type { ValueScanner } from "./scan-context.js";

/** Whether a field must be sent (present, and not null). */
function isRequired(property: CanonicalPropertySchema): boolean {
  // Collections default to empty and links to embedded objects are optional in Realm's model;
  // mixed is always nullable. Everything else non-optional must be sent.
  if (property.type === "list" || property.type === "set" || property.type === "dictionary") return false;
  if (property.type === "object" || property.type === "mixed") return false;
  return !property.optional;
}

/**
 * Compiles the scanner of `schema`'s objects; `topLevel` for a model's document (its `_id` is
 * written and recorded); `text`: write the object's JSON. `compileProperty` compiles each field's
 * value scanner, writing its text or not (links compile lazily there).
 */
export function compileObjectScanner(
  schema: CanonicalObjectSchema,
  topLevel: boolean,
  compileProperty: (property: CanonicalPropertySchema, text: boolean) => ValueScanner,
  text: boolean,
): ValueScanner {
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
  const fields: Field[] = Object.values(schema.properties).map((property) => {
    const isId = topLevel && property.mapTo === "_id";
    return {
    name: property.mapTo,
    step: `.${property.mapTo}`,
    bytes: Buffer.from(property.mapTo, "utf8"),
    quotedFirst: Buffer.from(`${quoteKey(property.mapTo)}:`, "utf8"),
    quotedNext: Buffer.from(`,${quoteKey(property.mapTo)}:`, "utf8"),
    // eslint-disable-next-line no-control-regex
    asciiName: /^[\x00-\x7f]*$/.test(property.mapTo),
    scan: compileProperty(property, text || isId),
    required: isRequired(property),
    isId,
    };
  });
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
    if (text) writeByte(ctx, 0x7b); // {
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
      if (text) {
        writeBytes(ctx, first ? field.quotedFirst : field.quotedNext);
        if (!field.asciiName) ctx.ascii = false;
      }
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
    if (text) writeByte(ctx, 0x7d); // }
    ctx.depth--;
    return end;
  };
}
