/**
 * The scanners of scalar values, one per canonical type: each checks the BSON type it is given
 * against the schema's, and the value's bytes as far as its type needs; they write nothing (the
 * stores keep the BSON; the `_id` key's text is written by the object scanner, once its value is
 * checked). `null` is the caller's.
 */
import { BsonType, checkEnd, malformed, readBinary, readInt32, readString } from "../bson/bson-cursor.js";
import { Invalid } from "./scan-context.js";
import type { ValueScanner } from "./scan-context.js";

/** The canonical types compileScalar knows (a collection's element type may be one of them, or a model). */
export const scalarTypes = new Set(["bool", "int", "float", "double", "decimal128", "objectId", "uuid", "string", "data", "date", "mixed"]);
// ECMAScript dates span ±8.64e15 ms; BSON dates outside cannot be stored as the SDKs' Date.
const maxDateMs = 8_640_000_000_000_000;

/** Checks a BSON string at `pos` as server/ejson's writeBsonString would (its length, its terminator, its UTF-8); returns its end. */
function checkBsonString(buf: Buffer, pos: number, limit: number): number {
  const length = readInt32(buf, pos);
  const start = pos + 4;
  const end = start + length;
  if (length < 1 || end > limit || buf[end - 1] !== 0) malformed("bad string length");
  for (let i = start; i < end - 1; i++) {
    // Not ASCII: decoding checks the UTF-8 (and throws as writeBsonString's decoding does).
    if ((buf[i] as number) >= 0x80) {
      readString(buf, pos, limit);
      break;
    }
  }
  return end;
}

/**
 * The end of the BSON string at `pos` when it is ASCII and well-formed (what checkBsonString
 * accepts without decoding), else -1: the caller's scanner then checks it in full.
 */
export function plainStringEnd(buf: Buffer, pos: number, limit: number): number {
  if (pos + 4 > limit) return -1;
  const length = buf.readInt32LE(pos);
  const end = pos + 4 + length;
  if (length < 1 || end > limit || buf[end - 1] !== 0) return -1;
  for (let i = pos + 4; i < end - 1; i++) if ((buf[i] as number) >= 0x80) return -1;
  return end;
}

/** Whether the BSON date at `pos` (its 8 bytes inside `buf`) is within ECMAScript's range, as the date scanner requires. */
export function isDateInRange(buf: Buffer, pos: number): boolean {
  const high = buf.readInt32LE(pos + 4);
  // Outside ±2^53 (high word) is far outside the date range anyway.
  const ms = high >= -0x200000 && high < 0x200000 ? high * 4294967296 + buf.readUInt32LE(pos) : Infinity;
  return ms <= maxDateMs && ms >= -maxDateMs;
}

/** Scans any scalar of the given canonical type; `null` is handled by the caller. */
export function compileScalar(type: string): ValueScanner {
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
        return pos + 1;
      };
    case "int":
      return (ctx, t, pos, limit) => {
        if (t === BsonType.int64) {
          checkEnd(pos + 8, limit);
          return pos + 8;
        }
        if (t !== BsonType.int32) fail("an integer (BSON Int64 or Int32)");
        readInt32(ctx.buf, pos);
        return pos + 4;
      };
    case "float":
    case "double":
      // A JS client writes whole numbers of a double field as doubles, but other BSON writers may
      // pick Int32 for them; the value is still exact, so it is accepted and stored as sent.
      return (ctx, t, pos, limit) => {
        if (t === BsonType.double) {
          checkEnd(pos + 8, limit);
          return pos + 8;
        }
        if (t !== BsonType.int32) fail("a number (BSON double)");
        readInt32(ctx.buf, pos);
        return pos + 4;
      };
    case "decimal128":
      return (_ctx, t, pos, limit) => {
        if (t !== BsonType.decimal128) fail("a Decimal128");
        // Any 16 bytes are some Decimal128 (NaN, infinities and non-canonical ones included).
        checkEnd(pos + 16, limit);
        return pos + 16;
      };
    case "objectId":
      return (_ctx, t, pos, limit) => {
        if (t !== BsonType.objectId) fail("an ObjectId");
        checkEnd(pos + 12, limit);
        return pos + 12;
      };
    case "uuid":
      return (ctx, t, pos, limit) => {
        if (t !== BsonType.binary) fail("a UUID (binary subtype 4)");
        const [subtype, start, end] = readBinary(ctx.buf, pos, limit);
        if (subtype !== 4 || end - start !== 16) fail("a UUID (binary subtype 4)");
        return end;
      };
    case "string":
      return (ctx, t, pos, limit) => {
        if (t !== BsonType.string) fail("a string");
        return checkBsonString(ctx.buf, pos, limit);
      };
    case "data":
      return (ctx, t, pos, limit) => {
        if (t !== BsonType.binary) fail("binary data (binary subtype 0)");
        const [subtype, , end] = readBinary(ctx.buf, pos, limit);
        if (subtype !== 0) fail("binary data (binary subtype 0)");
        return end;
      };
    case "date":
      return (ctx, t, pos, limit) => {
        if (t !== BsonType.date) fail("a date");
        checkEnd(pos + 8, limit);
        if (!isDateInRange(ctx.buf, pos)) fail("a date");
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
