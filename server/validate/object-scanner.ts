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
    scan: ValueScanner;
    required: boolean;
    isId: boolean;
  }
  const fields: Field[] = Object.values(schema.properties).map((property) => ({
    name: property.mapTo,
    step: `.${property.mapTo}`,
    bytes: Buffer.from(property.mapTo, "utf8"),
    scan: compileProperty(property),
    required: isRequired(property),
    // The primary key: the server serves only models whose primary key is persisted as `_id`.
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
    // Writers emit fields in schema order, so the field after the last one is tried first.
    let hint = 0;
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
      try {
        p = field.scan(ctx, type, valuePos, end);
      } catch (error) {
        withStep(error, field.step);
      }
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
