/**
 * A BSON document read into an ordered tree for the reference row codec: documents and arrays
 * keep their elements in byte order (a JavaScript object would move integer-like keys first),
 * and each scalar keeps both its value (decoded by the `bson` package, wrappers on) and its raw
 * bytes, so "does this column give back the exact element?" is a byte comparison.
 */
import { deserialize } from "bson";
import { BsonType, documentEnd, readCString, skipValue } from "../bson/bson-cursor.js";

/** One element's value: a document or array with its elements in order, or a scalar. */
export type BsonNode = BsonContainer | BsonScalar;

/** A document (type 0x03) or array (0x04), elements in byte order. */
export interface BsonContainer {
  readonly kind: "container";
  readonly type: typeof BsonType.document | typeof BsonType.array;
  readonly entries: readonly (readonly [string, BsonNode])[];
  /** The element's value bytes as sent (length prefix to terminator). */
  readonly bytes: Uint8Array;
}

/** Any other element: `value` as `bson` deserialises it (Int32, Double, Long wrappers kept), `bytes` as sent. */
export interface BsonScalar {
  readonly kind: "scalar";
  readonly type: number;
  readonly value: unknown;
  /** The element's value bytes, without type byte or key. */
  readonly bytes: Uint8Array;
}

// Wrappers on: an Int32 stays an Int32 and a whole double stays a Double, so types survive.
const keepTypes = { promoteValues: false, promoteLongs: false, promoteBuffers: false, bsonRegExp: true } as const;

/** Reads a whole BSON document (top level) into its ordered entries. */
export function readBsonDocument(bytes: Uint8Array): BsonContainer {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = documentEnd(buf, 0, buf.length);
  if (end !== buf.length) throw new Error("row codec: trailing bytes after the document");
  return readContainer(buf, BsonType.document, 0, end);
}

function readContainer(buf: Buffer, type: typeof BsonType.document | typeof BsonType.array, pos: number, end: number): BsonContainer {
  const entries: [string, BsonNode][] = [];
  let p = pos + 4;
  for (;;) {
    const elementType = buf[p++] as number;
    if (elementType === 0) break;
    const [key, valuePos] = readCString(buf, p, end);
    const valueEnd = skipValue(buf, elementType, valuePos, end);
    entries.push([key, readNode(buf, elementType, valuePos, valueEnd)]);
    p = valueEnd;
  }
  return { kind: "container", type, entries, bytes: buf.subarray(pos, end) };
}

/** Reads one element's value (`type` at `[pos, end)` of `buf`) into its node. */
export function readBsonElement(buf: Buffer, type: number, pos: number, end: number): BsonNode {
  return readNode(buf, type, pos, end);
}

function readNode(buf: Buffer, type: number, pos: number, end: number): BsonNode {
  if (type === BsonType.document || type === BsonType.array) return readContainer(buf, type, pos, end);
  const bytes = buf.subarray(pos, end);
  return { kind: "scalar", type, value: scalarValue(type, bytes), bytes };
}

/** The scalar as `bson` decodes it, from a one-element document around its bytes. */
function scalarValue(type: number, bytes: Uint8Array): unknown {
  return (deserialize(elementDocument(type, "v", bytes), keepTypes) as { v: unknown }).v;
}

/** The one-element document `{key: <type, bytes>}`: how two elements are compared byte for byte. */
export function elementDocument(type: number, key: string, bytes: Uint8Array): Uint8Array {
  const keyBytes = Buffer.from(key, "utf8");
  const size = 4 + 1 + keyBytes.length + 1 + bytes.length + 1;
  const out = Buffer.alloc(size);
  out.writeInt32LE(size, 0);
  out[4] = type;
  keyBytes.copy(out, 5);
  out.set(bytes, 6 + keyBytes.length);
  return out;
}
