/**
 * One BSON value's canonical Extended JSON, written from its bytes into an EjsonSink: what the
 * validator writes for a document's `_id` (its key), after the scan has checked the value. Any
 * value a schema accepts is written, so a hand-written schema's `_id` of another type than the
 * primary key types (int, string, objectId, uuid) still gets its exact text; a document or array
 * is written in its byte order. The value must have been checked (lengths, UTF-8, nesting).
 */
import { Decimal128 } from "bson";
import { BsonType, documentEnd, readBinary, readCString } from "../bson/bson-cursor.js";
import { ensure, writeAscii, writeByte, writeBytes, writeText } from "./ejson-sink.js";
import type { EjsonSink } from "./ejson-sink.js";
import { quoteKey } from "./write-canonical-ejson.js";
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
} from "./write-ejson-scalars.js";

/** Writes the value of BSON `type` at `pos` (within `limit`); returns the position after it. */
export function writeBsonValue(sink: EjsonSink, buf: Buffer, type: number, pos: number, limit: number): number {
  switch (type) {
    case BsonType.int64:
      writeInt64(sink, numberLongOpen, close1, buf, pos);
      return pos + 8;
    case BsonType.int32:
      writeBytes(sink, numberIntOpen);
      writeSafeInteger(sink, buf.readInt32LE(pos));
      writeBytes(sink, close1);
      return pos + 4;
    case BsonType.string:
      return writeBsonString(sink, buf, pos, limit);
    case BsonType.objectId: {
      writeBytes(sink, oidOpen);
      ensure(sink, 24);
      const { out } = sink;
      let p = sink.pos;
      for (let i = pos; i < pos + 12; i++) {
        const pair = hexPairs[buf[i] as number]!;
        out[p++] = pair[0];
        out[p++] = pair[1];
      }
      sink.pos = p;
      writeBytes(sink, close1);
      return pos + 12;
    }
    case BsonType.binary: {
      const [subtype, start, end] = readBinary(buf, pos, limit);
      writeBinary(sink, buf, subtype, start, end);
      return end;
    }
    case BsonType.double:
      writeBytes(sink, numberDoubleOpen);
      writeAscii(sink, doubleText(buf, pos));
      writeBytes(sink, close1);
      return pos + 8;
    case BsonType.date:
      // Checked to lie within ±8.64e15 ms, so the Int64 is written as the safe integer it is.
      writeInt64(sink, dateOpen, close2, buf, pos);
      return pos + 8;
    case BsonType.decimal128:
      writeAscii(sink, `{"$numberDecimal":"${new Decimal128(buf.subarray(pos, pos + 16)).toString()}"}`);
      return pos + 16;
    case BsonType.bool:
      writeAscii(sink, buf[pos] === 1 ? "true" : "false");
      return pos + 1;
    case BsonType.null:
      writeAscii(sink, "null");
      return pos;
    case BsonType.document:
    case BsonType.array: {
      const isArray = type === BsonType.array;
      const end = documentEnd(buf, pos, limit);
      writeByte(sink, isArray ? 0x5b : 0x7b); // [ or {
      let p = pos + 4;
      for (let first = true; buf[p] !== 0; first = false) {
        const elementType = buf[p++] as number;
        const [key, valuePos] = readCString(buf, p, end);
        if (!first) writeByte(sink, 0x2c); // ,
        if (!isArray) {
          writeText(sink, quoteKey(key));
          writeByte(sink, 0x3a); // :
        }
        p = writeBsonValue(sink, buf, elementType, valuePos, end);
      }
      writeByte(sink, isArray ? 0x5d : 0x7d); // ] or }
      return end;
    }
    default:
      throw new Error(`writeBsonValue: BSON type 0x${type.toString(16)} is not a value a schema accepts`);
  }
}
