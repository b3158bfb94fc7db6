/**
 * A fast writer of canonical Extended JSON (what `EJSON.stringify(value, { relaxed: false })`
 * prints, character for character) for the values a validated document can hold. bson's own
 * EJSON builds a wrapper object per value and checks for cycles at every level, which made it
 * the most expensive step of ingest; this walks the document once, appending to one string.
 */
import { EJSON } from "bson";

/** Canonical Extended JSON of a document or value, as bson's EJSON would print it. */
export function writeCanonicalEjson(value: unknown): string {
  return write(value);
}

// Field names repeat in every document of a model: quote each once. Bounded, because dictionary
// keys come from clients.
const quotedKeys = new Map<string, string>();
const maxQuotedKeys = 10_000;

/** A field name as a JSON string, memoised (the scanners share it). */
export function quoteKey(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = JSON.stringify(key);
    if (quotedKeys.size < maxQuotedKeys && key.length <= 64) quotedKeys.set(key, quoted);
  }
  return quoted;
}

/** A double as canonical EJSON: `{"$numberDouble":"…"}`, with `-0.0`, `1.0`, `NaN`, `Infinity` spelled as bson's EJSON does. */
function formatDouble(value: number): string {
  if (Object.is(value, -0)) return '{"$numberDouble":"-0.0"}';
  return `{"$numberDouble":"${Number.isInteger(value) ? value.toFixed(1) : value.toString()}"}`;
}

/** A binary value as canonical EJSON, from its base64 text and subtype. */
export function formatBinary(base64: string, subtype: number): string {
  const hex = subtype.toString(16);
  return `{"$binary":{"base64":"${base64}","subType":"${hex.length === 1 ? `0${hex}` : hex}"}}`;
}

function write(value: unknown): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "object":
      break;
    default:
      return EJSON.stringify(value as never, { relaxed: false });
  }
  if (value === null) return "null";
  if (Array.isArray(value)) {
    let out = "[";
    for (let i = 0; i < value.length; i++) out += (i === 0 ? "" : ",") + write(value[i]);
    return `${out}]`;
  }
  if (value instanceof Date) {
    const time = value.getTime();
    // EJSON prints an invalid date as null; the validator never lets one through.
    return Number.isNaN(time) ? EJSON.stringify(value, { relaxed: false }) : `{"$date":{"$numberLong":"${time}"}}`;
  }
  switch ((value as { _bsontype?: string })._bsontype) {
    case undefined: {
      let out = "{";
      let first = true;
      const doc = value as Record<string, unknown>;
      for (const key in doc) {
        if (!Object.hasOwn(doc, key)) continue;
        const item = doc[key];
        // JSON.stringify drops undefined members; deserialized BSON never has them, but be exact.
        if (item === undefined) continue;
        out += `${first ? "" : ","}${quoteKey(key)}:${write(item)}`;
        first = false;
      }
      return `${out}}`;
    }
    case "Int32":
      return `{"$numberInt":"${(value as { value: number }).value}"}`;
    case "Long":
      return `{"$numberLong":"${(value as { toString(): string }).toString()}"}`;
    case "Double":
      return formatDouble((value as { value: number }).value);
    case "ObjectId":
      return `{"$oid":"${(value as { toHexString(): string }).toHexString()}"}`;
    case "Decimal128":
      return `{"$numberDecimal":"${(value as { toString(): string }).toString()}"}`;
    case "Binary": {
      const binary = value as { buffer: Uint8Array; sub_type: number };
      const base64 = Buffer.from(binary.buffer.buffer, binary.buffer.byteOffset, binary.buffer.byteLength).toString("base64");
      return formatBinary(base64, Number(binary.sub_type));
    }
    default:
      return EJSON.stringify(value as never, { relaxed: false });
  }
}
