/**
 * Bounds-checked reading of BSON (bsonspec.org) straight from the request bytes: the ingest path
 * validates and converts documents without first building JavaScript objects for them. A leaf:
 * it imports nothing of the server, so request parsing, the EJSON writer and the validator can
 * all read BSON with it.
 */

/** The request is not well-formed BSON (a 400 for the whole batch). */
export class MalformedBsonError extends Error {
  override name = "MalformedBsonError";
}

/** BSON element type bytes. */
export const BsonType = {
  double: 0x01,
  string: 0x02,
  document: 0x03,
  array: 0x04,
  binary: 0x05,
  undefined: 0x06,
  objectId: 0x07,
  bool: 0x08,
  date: 0x09,
  null: 0x0a,
  regex: 0x0b,
  dbPointer: 0x0c,
  code: 0x0d,
  symbol: 0x0e,
  codeWithScope: 0x0f,
  int32: 0x10,
  timestamp: 0x11,
  int64: 0x12,
  decimal128: 0x13,
  minKey: 0xff,
  maxKey: 0x7f,
} as const;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Throws MalformedBsonError with `message`. */
export function malformed(message: string): never {
  throw new MalformedBsonError(message);
}

/** Throws MalformedBsonError unless a value ending at `end` lies within `limit`. */
export function checkEnd(end: number, limit: number): void {
  if (end > limit) malformed("unexpected end of data");
}

/** Reads a little-endian int32 at `pos`, checking it lies inside `buf`. */
export function readInt32(buf: Buffer, pos: number): number {
  if (pos + 4 > buf.length) malformed("unexpected end of data");
  return buf.readInt32LE(pos);
}

/**
 * The little-endian int32 at `pos` (inside `buf`): what readInt32LE reads, without the call
 * through Buffer's prototype. In the row writer's profile (server/tables/) such calls were generic
 * property loads and calls of their own, a few percent of making a row.
 */
export function int32At(buf: Buffer, pos: number): number {
  return (buf[pos] as number) | ((buf[pos + 1] as number) << 8) | ((buf[pos + 2] as number) << 16) | ((buf[pos + 3] as number) << 24);
}

/** Decodes `buf[start, end)` as UTF-8, refusing invalid sequences (ASCII takes a fast path). */
function decodeUtf8(buf: Buffer, start: number, end: number): string {
  for (let i = start; i < end; i++) {
    if ((buf[i] as number) >= 0x80) {
      try {
        return utf8.decode(buf.subarray(start, end));
      } catch {
        malformed("invalid UTF-8 in a string");
      }
    }
  }
  return buf.toString("latin1", start, end);
}

/** Reads the NUL-terminated element name at `pos`; returns it and the position after the NUL. */
export function readCString(buf: Buffer, pos: number, limit: number): [string, number] {
  const end = buf.indexOf(0, pos);
  if (end < 0 || end >= limit) malformed("unterminated element name");
  return [decodeUtf8(buf, pos, end), end + 1];
}

/** Reads a BSON string value at `pos` (int32 length, bytes, NUL); returns it and the position after. */
export function readString(buf: Buffer, pos: number, limit: number): [string, number] {
  const length = readInt32(buf, pos);
  const start = pos + 4;
  const end = start + length;
  if (length < 1 || end > limit || buf[end - 1] !== 0) malformed("bad string length");
  return [decodeUtf8(buf, start, end - 1), end];
}

/** Checks the embedded document or array at `pos` fits within `limit` and ends with NUL; returns its end. */
export function documentEnd(buf: Buffer, pos: number, limit: number): number {
  const length = readInt32(buf, pos);
  const end = pos + length;
  if (length < 5 || end > limit || buf[end - 1] !== 0) malformed("bad document length");
  return end;
}

/** Reads a binary value's header; returns [subtype, dataStart, dataEnd]. */
export function readBinary(buf: Buffer, pos: number, limit: number): [number, number, number] {
  const length = readInt32(buf, pos);
  if (length < 0) malformed("bad binary length");
  const dataStart = pos + 5;
  const dataEnd = dataStart + length;
  checkEnd(dataEnd, limit);
  return [buf[pos + 4] as number, dataStart, dataEnd];
}

/** Where an array element's name (`"0"`, `"1"`, …) ends, if the name at `p` is `index`'s digits; -1 otherwise. */
export function indexNameEnd(buf: Buffer, p: number, end: number, index: number): number {
  const digits = index < 10 ? 1 : index < 100 ? 2 : index < 1000 ? 3 : String(index).length;
  const nul = p + digits;
  if (nul >= end || buf[nul] !== 0) return -1;
  let value = index;
  for (let k = nul - 1; k >= p; k--) {
    if (buf[k] !== 0x30 + (value % 10)) return -1;
    value = Math.floor(value / 10);
  }
  return nul + 1;
}

/** The position after a value of `type` at `pos` (for fields the reader does not look into). */
export function skipValue(buf: Buffer, type: number, pos: number, limit: number): number {
  let end: number;
  switch (type) {
    case BsonType.double:
    case BsonType.date:
    case BsonType.int64:
    case BsonType.timestamp:
      end = pos + 8;
      break;
    case BsonType.string:
    case BsonType.symbol:
    case BsonType.code:
      return readString(buf, pos, limit)[1];
    case BsonType.document:
    case BsonType.array:
    case BsonType.codeWithScope:
      return documentEnd(buf, pos, limit);
    case BsonType.binary: {
      const length = readInt32(buf, pos);
      if (length < 0) malformed("bad binary length");
      end = pos + 5 + length;
      break;
    }
    case BsonType.objectId:
      end = pos + 12;
      break;
    case BsonType.bool:
      end = pos + 1;
      break;
    case BsonType.null:
    case BsonType.undefined:
    case BsonType.minKey:
    case BsonType.maxKey:
      end = pos;
      break;
    case BsonType.int32:
      end = pos + 4;
      break;
    case BsonType.decimal128:
      end = pos + 16;
      break;
    case BsonType.regex: {
      const afterPattern = readCString(buf, pos, limit)[1];
      return readCString(buf, afterPattern, limit)[1];
    }
    case BsonType.dbPointer:
      end = readString(buf, pos, limit)[1] + 12;
      break;
    default:
      return malformed(`unknown BSON type 0x${type.toString(16)}`);
  }
  if (end > limit) malformed("unexpected end of data");
  return end;
}
