/**
 * The value checks generated encoders call before writing: small, monomorphic predicates V8
 * inlines, so validation and serialisation stay one pass with no reflection.
 */
import { Decimal128, ObjectId, UUID } from "bson";

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** An `int`: a safe integer (exactly representable) or a bigint within Int64's range. */
export function isInt64(value: unknown): value is number | bigint {
  if (typeof value === "number") return Number.isSafeInteger(value);
  return typeof value === "bigint" && value >= INT64_MIN && value <= INT64_MAX;
}

/** A `double`: a finite number (NaN and ±Infinity have no place in the stores downstream). */
export function isFiniteNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

/**
 * A `float`: a finite number within 32-bit float range (Realm stores `float` in 32 bits, so a
 * larger value would become Infinity there). Precision beyond 32 bits is rounded, as in Realm.
 */
export function isFloat32(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(Math.fround(value));
}

/** A `date`: a Date whose time is a number (an invalid Date holds NaN). */
export function isValidDate(value: unknown): value is Date {
  return value instanceof Date && !Number.isNaN(value.getTime());
}

/** bson's `Binary` as `data` accepts it: generic binary (subtype 0). */
export interface BinaryData {
  readonly _bsontype: "Binary";
  readonly sub_type: number;
  readonly buffer: Uint8Array;
  readonly position: number;
}

/** `data`: a Uint8Array (a Buffer included), an ArrayBuffer, or a bson `Binary` of subtype 0 (what the MongoDB driver returns). */
export function isData(value: unknown): value is Uint8Array | ArrayBuffer | BinaryData {
  if (value instanceof Uint8Array || value instanceof ArrayBuffer) return true;
  if (tagOf(value) !== "Binary") return false;
  const binary = value as { sub_type?: unknown; buffer?: unknown; position?: unknown };
  return binary.sub_type === 0 && binary.buffer instanceof Uint8Array && typeof binary.position === "number";
}

/** The bytes of a value `isData` accepted, as `BsonWriter.putData` takes them (a Binary's used part). */
export function dataBytes(value: Uint8Array | ArrayBuffer | BinaryData): Uint8Array | ArrayBuffer {
  if (value instanceof Uint8Array || value instanceof ArrayBuffer) return value;
  return value.buffer.subarray(0, value.position);
}

// The container checks below stand in for `Array.isArray`, `instanceof Set` and `Object.keys`
// in generated code: a model named `Array`, `Set` or `Object` would shadow those globals there.

/** A list: an array. */
export const isArray: (value: unknown) => value is readonly unknown[] = Array.isArray;

/** A set: a `Set`. */
export function isSet(value: unknown): value is ReadonlySet<unknown> {
  return value instanceof Set;
}

/** A dictionary's own enumerable keys, in insertion order. */
export const keysOf: (value: object) => string[] = Object.keys;

// The bson classes are checked with `instanceof` first (the fast, common case) and by their
// `_bsontype` tag second, so values from a second copy of bson in node_modules still pass.

/** An `objectId`: bson's ObjectId. */
export function isObjectId(value: unknown): value is ObjectId {
  return value instanceof ObjectId || tagOf(value) === "ObjectId";
}

/** A `uuid`: bson's UUID (a Binary of subtype 4 and 16 bytes). */
export function isUuid(value: unknown): value is UUID {
  if (value instanceof UUID) return true;
  if (tagOf(value) !== "Binary") return false;
  const binary = value as { sub_type?: unknown; buffer?: unknown; position?: unknown };
  return binary.sub_type === 4 && binary.position === 16 && binary.buffer instanceof Uint8Array;
}

/** A `decimal128`: bson's Decimal128. */
export function isDecimal128(value: unknown): value is Decimal128 {
  return value instanceof Decimal128 || tagOf(value) === "Decimal128";
}

/** A dictionary: a plain object (`{}` or `Object.create(null)`), never an array, Map or class. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A model value: any non-null object (an init object or an instance of the generated class). */
export function isObject(value: unknown): value is object {
  return typeof value === "object" && value !== null;
}

/**
 * A dictionary key MongoDB and Realm accept as a field name: non-empty, not starting with `$`,
 * without `.` (both have query meaning in MongoDB) and without NUL (BSON keys are C strings).
 */
export function isDictionaryKey(key: string): boolean {
  const n = key.length;
  if (n === 0 || key.charCodeAt(0) === 0x24) return false;
  for (let i = 0; i < n; i++) {
    const c = key.charCodeAt(i);
    if (c === 0x2e || c === 0) return false;
  }
  return true;
}

function tagOf(value: unknown): unknown {
  return typeof value === "object" && value !== null ? (value as { _bsontype?: unknown })._bsontype : undefined;
}
