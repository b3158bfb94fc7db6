/**
 * Natural JSON: how the typed tables hold nested values (embedded objects, lists, sets,
 * dictionaries, mixed) so that the databases' own JSON functions read them — numbers as
 * numbers, dates as ISO strings, ObjectId/UUID/Decimal128 as their strings, binary as base64.
 *
 * Also the two things the reference codec needs around it: a JSON parser that keeps what
 * `JSON.parse` loses (object key order, integer-like keys included, and each number's text, so
 * an Int64 beyond 2^53 survives), and a model of what PostgreSQL's jsonb gives back for a text
 * (keys reordered, numbers rewritten as `numeric` prints them), so the codec can tell at encode
 * time whether a value will come back exact.
 */
import type { Binary, Decimal128, Double, Int32, Long, ObjectId } from "bson";
import { BsonType } from "../bson/bson-cursor.js";
import type { BsonNode } from "./bson-tree.js";

/** A JSON number, kept as its text. */
export class JsonNumber {
  constructor(readonly text: string) {}
}

/** A JSON object, entries in the text's order; `sources` holds each value's text. */
export class JsonObject {
  constructor(
    readonly entries: [string, JsonValue][],
    readonly sources: string[],
  ) {}
}

/** A parsed JSON value. */
export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | JsonObject;

/**
 * The JSON text of a double, or null for NaN/±Infinity (JSON has no such numbers). A whole
 * number gets ".0" so that a mixed value reads back as a double, not an Int64 (`5.0` vs `5`);
 * −0 prints as `0.0` and loses its sign (JSON, jsonb's numeric and SQLite's JSON all drop it).
 */
export function doubleJsonText(value: number): string | null {
  if (!Number.isFinite(value)) return null;
  const text = String(value);
  return /^-?\d+$/.test(text) ? `${text}.0` : text;
}

/** The canonical 8-4-4-4-12 text of 16 UUID bytes. */
export function uuidText(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Whether a binary value is a UUID as the schema's `uuid` means it (subtype 4, 16 bytes). */
export function isUuidBinary(value: Binary): boolean {
  return value.sub_type === 4 && value.position === 16;
}

/** A binary value's bytes. */
export function binaryBytes(value: Binary): Buffer {
  return Buffer.from(value.buffer.subarray(0, value.position));
}

/** The natural JSON text of any BSON value (nested or a whole collection). */
export function writeNaturalJson(node: BsonNode): string {
  if (node.kind === "container") {
    if (node.type === BsonType.array) return `[${node.entries.map(([, child]) => writeNaturalJson(child)).join(",")}]`;
    return `{${node.entries.map(([key, child]) => `${JSON.stringify(key)}:${writeNaturalJson(child)}`).join(",")}}`;
  }
  const { value } = node;
  switch (node.type) {
    case BsonType.null:
      return "null";
    case BsonType.bool:
      return value ? "true" : "false";
    case BsonType.int32:
      return String((value as Int32).value);
    case BsonType.int64:
      return (value as Long).toBigInt().toString();
    case BsonType.double:
      return doubleJsonText((value as Double).value) ?? "null";
    case BsonType.string:
      return JSON.stringify(value);
    case BsonType.date: {
      const time = (value as Date).getTime();
      return Number.isNaN(time) ? "null" : JSON.stringify((value as Date).toISOString());
    }
    case BsonType.objectId:
      return JSON.stringify((value as ObjectId).toHexString());
    case BsonType.decimal128:
      return JSON.stringify((value as Decimal128).toString());
    case BsonType.binary: {
      const binary = value as Binary;
      return JSON.stringify(isUuidBinary(binary) ? uuidText(binaryBytes(binary)) : binaryBytes(binary).toString("base64"));
    }
    default:
      // Types the schema never admits (regex, timestamp…): nothing natural; `$exact` keeps them.
      return "null";
  }
}

/** Parses JSON text keeping key order and number texts; throws on anything that is not JSON. */
export function parseJson(text: string): JsonValue {
  let p = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`row codec: bad JSON (${what}) at ${p}: ${text.slice(p, p + 20)}`);
  };
  const space = (): void => {
    while (p < text.length && " \t\n\r".includes(text[p] as string)) p++;
  };
  const value = (): JsonValue => {
    space();
    const c = text[p];
    if (c === "{") {
      p++;
      const entries: [string, JsonValue][] = [];
      const sources: string[] = [];
      space();
      if (text[p] === "}") {
        p++;
        return new JsonObject(entries, sources);
      }
      for (;;) {
        space();
        if (text[p] !== '"') fail("key");
        const key = string();
        space();
        if (text[p++] !== ":") fail("colon");
        space();
        const start = p;
        entries.push([key, value()]);
        sources.push(text.slice(start, p));
        space();
        if (text[p] === ",") p++;
        else if (text[p++] === "}") return new JsonObject(entries, sources);
        else fail("object");
      }
    }
    if (c === "[") {
      p++;
      const items: JsonValue[] = [];
      space();
      if (text[p] === "]") {
        p++;
        return items;
      }
      for (;;) {
        items.push(value());
        space();
        if (text[p] === ",") p++;
        else if (text[p++] === "]") return items;
        else fail("array");
      }
    }
    if (c === '"') return string();
    for (const [word, result] of [["true", true], ["false", false], ["null", null]] as const) {
      if (text.startsWith(word, p)) {
        p += word.length;
        return result;
      }
    }
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(p, p + 400));
    if (!match) return fail("value");
    p += match[0].length;
    return new JsonNumber(match[0]);
  };
  const string = (): string => {
    const start = p;
    p++;
    while (text[p] !== '"') {
      if (p >= text.length) fail("unterminated string");
      p += text[p] === "\\" ? 2 : 1;
    }
    p++;
    return JSON.parse(text.slice(start, p)) as string;
  };
  const result = value();
  space();
  if (p !== text.length) fail("trailing text");
  return result;
}

/**
 * The text PostgreSQL's `numeric` prints for a number: plain decimal, no exponent, the scale
 * the input had (`1.50` stays, `1.5e-7` → `0.00000015`, `1E+2` → `100`), and no negative zero.
 */
export function postgresNumericText(text: string): string {
  const match = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!match) return text; // NaN, Infinity, -Infinity print as given
  const [, sign, whole = "", fraction = "", exponentText] = match;
  const exponent = Number(exponentText ?? 0);
  const digits = whole + fraction;
  const point = whole.length + exponent; // where the decimal point falls in `digits`
  const scale = Math.max(0, fraction.length - exponent);
  let intPart = point <= 0 ? "0" : digits.slice(0, point).padEnd(point, "0");
  let fracPart = point >= 0 ? digits.slice(point) : "0".repeat(-point) + digits;
  fracPart = fracPart.padEnd(scale, "0").slice(0, scale);
  intPart = intPart.replace(/^0+(?=\d)/, "");
  const body = scale > 0 ? `${intPart}.${fracPart}` : intPart;
  const isZero = !/[1-9]/.test(body);
  return (sign === "-" && !isZero ? "-" : "") + body;
}

/**
 * What PostgreSQL's jsonb gives back for a JSON text: object keys sorted as jsonb stores them
 * (shorter first, then by bytes), a repeated key kept once (the last), numbers as `numeric`
 * prints them. Strings and array order are kept.
 */
export function postgresJsonbValue(value: JsonValue): JsonValue {
  if (value instanceof JsonNumber) return new JsonNumber(postgresNumericText(value.text));
  if (Array.isArray(value)) return value.map(postgresJsonbValue);
  if (value instanceof JsonObject) {
    const byKey = new Map<string, JsonValue>();
    for (const [key, child] of value.entries) byKey.set(key, postgresJsonbValue(child));
    const keys = [...byKey.keys()].sort(compareJsonbKeys);
    return new JsonObject(
      keys.map((key) => [key, byKey.get(key) as JsonValue]),
      keys.map(() => ""),
    );
  }
  return value;
}

function compareJsonbKeys(a: string, b: string): number {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return x.length !== y.length ? x.length - y.length : Buffer.compare(x, y);
}
