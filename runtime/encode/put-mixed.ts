/**
 * Writes a `Types.Mixed` value, typed by what it is at ingest time: the one place an encoder
 * looks at a value's runtime type, because the schema says nothing more.
 */
import type { BsonKey, BsonWriter } from "./bson-writer.js";
import { dataBytes, isData, isDecimal128, isInt64, isObjectId, isUuid, isValidDate } from "../codegen/value-checks.js";

/** The phrase a bad Mixed value's error uses. */
export const MIXED_EXPECTED = "a Mixed value (null, boolean, finite number, bigint, string, Date, ObjectId, UUID, Decimal128 or binary data)";

/**
 * Writes `value` under `key`: null/undefined → null, boolean, number → double (finite only),
 * bigint → Int64 (in range), string, Date, ObjectId, UUID, Decimal128, binary data. Returns
 * false, writing nothing, for anything else, so the caller throws with the path it knows.
 */
export function putMixed(w: BsonWriter, key: BsonKey, value: unknown): boolean {
  switch (typeof value) {
    case "string":
      w.putString(key, value);
      return true;
    case "number":
      // A JS number is a double: Realm JS stores a number in a mixed as a double too.
      if (!Number.isFinite(value)) return false;
      w.putDouble(key, value);
      return true;
    case "boolean":
      w.putBool(key, value);
      return true;
    case "bigint":
      if (!isInt64(value)) return false;
      w.putInt64(key, value);
      return true;
    case "undefined":
      w.putNull(key);
      return true;
    case "object":
      if (value === null) w.putNull(key);
      else if (value instanceof Date) {
        if (!isValidDate(value)) return false;
        w.putDate(key, value);
      } else if (isObjectId(value)) w.putObjectId(key, value);
      else if (isUuid(value)) w.putUuid(key, value);
      else if (isDecimal128(value)) w.putDecimal128(key, value);
      else if (isData(value)) w.putData(key, dataBytes(value));
      else return false;
      return true;
    default:
      return false;
  }
}
