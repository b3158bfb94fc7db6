/**
 * The scanners of scalar values, one per canonical type: each checks the BSON type it is given
 * against the schema's, then (compiled with `text`) writes the value's canonical Extended JSON.
 * Without `text` a scanner checks exactly as much and writes nothing: the stores keep the BSON
 * and read only the `_id` key's text, so only the `_id` is compiled with it. `null` is the caller's.
 */
import { Decimal128 } from "bson";
import { BsonType, checkEnd, malformed, readBinary, readInt32, readString } from "../bson/bson-cursor.js";
import { ensure, writeAscii, writeBytes } from "../ejson/ejson-sink.js";
import {
  close1,
  close2,
  dateOpen,
  doubleText,
  hexPairs,
  numberDoubleOpen,
  numberIntOpen,
  numberLongOpen,
  oidOpen,
  writeBinary,
  writeBsonString,
  writeInt64,
  writeSafeInteger,
} from "../ejson/write-ejson-scalars.js";
import { Invalid } from "./scan-context.js";
import type { ValueScanner } from "./scan-context.js";

/** The canonical types compileScalar knows (a collection's element type may be one of them, or a model). */
export const scalarTypes = new Set(["bool", "int", "float", "double", "decimal128", "objectId", "uuid", "string", "data", "date", "mixed"]);
// ECMAScript dates span ±8.64e15 ms; BSON dates outside cannot be stored as the SDKs' Date.
const maxDateMs = 8_640_000_000_000_000;

/** Checks a BSON string at `pos` as writeBsonString does (its length, its terminator, its UTF-8) without writing it; returns its end. */
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

/** Scans any scalar of the given canonical type, writing its text only when `text`; `null` is handled by the caller. */
export function compileScalar(type: string, text: boolean): ValueScanner {
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
        if (text) writeAscii(ctx, byte === 1 ? "true" : "false");
        return pos + 1;
      };
    case "int":
      return (ctx, t, pos, limit) => {
        if (t === BsonType.int64) {
          checkEnd(pos + 8, limit);
          if (text) writeInt64(ctx, numberLongOpen, close1, ctx.buf, pos);
          return pos + 8;
        }
        if (t !== BsonType.int32) fail("an integer (BSON Int64 or Int32)");
        const value = readInt32(ctx.buf, pos);
        if (text) {
          writeBytes(ctx, numberIntOpen);
          writeSafeInteger(ctx, value);
          writeBytes(ctx, close1);
        }
        return pos + 4;
      };
    case "float":
    case "double":
      // A JS client writes whole numbers of a double field as doubles, but other BSON writers may
      // pick Int32 for them; the value is still exact, so it is accepted and stored as sent.
      return (ctx, t, pos, limit) => {
        if (t === BsonType.double) {
          checkEnd(pos + 8, limit);
          if (text) {
            writeBytes(ctx, numberDoubleOpen);
            writeAscii(ctx, doubleText(ctx.buf, pos));
            writeBytes(ctx, close1);
          }
          return pos + 8;
        }
        if (t !== BsonType.int32) fail("a number (BSON double)");
        const value = readInt32(ctx.buf, pos);
        if (text) {
          writeBytes(ctx, numberIntOpen);
          writeSafeInteger(ctx, value);
          writeBytes(ctx, close1);
        }
        return pos + 4;
      };
    case "decimal128":
      return (ctx, t, pos, limit) => {
        if (t !== BsonType.decimal128) fail("a Decimal128");
        checkEnd(pos + 16, limit);
        // Printing checks nothing: any 16 bytes are some Decimal128 (NaN, infinities and non-canonical ones included).
        if (text) writeAscii(ctx, `{"$numberDecimal":"${new Decimal128(ctx.buf.subarray(pos, pos + 16)).toString()}"}`);
        return pos + 16;
      };
    case "objectId":
      return (ctx, t, pos, limit) => {
        if (t !== BsonType.objectId) fail("an ObjectId");
        checkEnd(pos + 12, limit);
        if (!text) return pos + 12;
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
        if (text) writeBinary(ctx, ctx.buf, subtype, start, end);
        return end;
      };
    case "string":
      return (ctx, t, pos, limit) => {
        if (t !== BsonType.string) fail("a string");
        return text ? writeBsonString(ctx, ctx.buf, pos, limit) : checkBsonString(ctx.buf, pos, limit);
      };
    case "data":
      return (ctx, t, pos, limit) => {
        if (t !== BsonType.binary) fail("binary data (binary subtype 0)");
        const [subtype, start, end] = readBinary(ctx.buf, pos, limit);
        if (subtype !== 0) fail("binary data (binary subtype 0)");
        if (text) writeBinary(ctx, ctx.buf, subtype, start, end);
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
        if (text) {
          writeBytes(ctx, dateOpen);
          writeSafeInteger(ctx, ms);
          writeBytes(ctx, close2);
        }
        return pos + 8;
      };
    case "mixed": {
      const scanners = new Map<number, ValueScanner>([
        [BsonType.bool, compileScalar("bool", text)],
        [BsonType.int32, compileScalar("int", text)],
        [BsonType.int64, compileScalar("int", text)],
        [BsonType.double, compileScalar("double", text)],
        [BsonType.decimal128, compileScalar("decimal128", text)],
        [BsonType.objectId, compileScalar("objectId", text)],
        [BsonType.string, compileScalar("string", text)],
        [BsonType.date, compileScalar("date", text)],
      ]);
      const binary: ValueScanner = (ctx, _t, pos, limit) => {
        const [subtype, start, end] = readBinary(ctx.buf, pos, limit);
        if (subtype !== 0 && !(subtype === 4 && end - start === 16)) fail("a scalar value (mixed)");
        if (text) writeBinary(ctx, ctx.buf, subtype, start, end);
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
