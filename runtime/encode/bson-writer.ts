/**
 * A growable, append-only BSON writer: the primitive generated encoders call, element by
 * element, so a document is validated and serialised in one pass with no intermediate object.
 * One writer is reused across documents and transactions; `mark()`/`truncate()` roll back a
 * document or a whole transaction without copying.
 */
import type { Decimal128, ObjectId, UUID } from "bson";

const encoder = new TextEncoder();
const INITIAL_CAPACITY = 64 * 1024;

// BSON element type bytes (bsonspec.org).
const T_DOUBLE = 0x01;
const T_STRING = 0x02;
const T_DOCUMENT = 0x03;
const T_ARRAY = 0x04;
const T_BINARY = 0x05;
const T_OBJECT_ID = 0x07;
const T_BOOLEAN = 0x08;
const T_DATE = 0x09;
const T_NULL = 0x0a;
const T_INT32 = 0x10;
const T_INT64 = 0x12;
const T_DECIMAL128 = 0x13;

/** Binary subtype 4: RFC 4122 UUID. */
const BINARY_UUID = 0x04;

/** Appends BSON elements to a growable buffer. */
export class BsonWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(initialCapacity = INITIAL_CAPACITY) {
    this.buf = new Uint8Array(initialCapacity);
    this.view = new DataView(this.buf.buffer);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.pos;
  }

  /** The current position, to roll back to with `truncate`. */
  mark(): number {
    return this.pos;
  }

  /** Forgets everything written after `position`. */
  truncate(position: number): void {
    this.pos = position;
  }

  /** A view (not a copy) of bytes `[start, end)`; valid until the next write. */
  subarray(start = 0, end = this.pos): Uint8Array {
    return this.buf.subarray(start, end);
  }

  /** A copy of bytes `[start, end)`. */
  copy(start = 0, end = this.pos): Uint8Array {
    return this.buf.slice(start, end);
  }

  /** Starts a top-level document; returns its start for `endDocument`. */
  startDocument(): number {
    this.ensure(5);
    const start = this.pos;
    this.pos += 4;
    return start;
  }

  /** Closes the document (or array) begun at `start`: terminator and length prefix. */
  endDocument(start: number): void {
    this.ensure(1);
    this.buf[this.pos++] = 0;
    this.view.setInt32(start, this.pos - start, true);
  }

  /** Starts an embedded document under `key`; close it with `endDocument`. */
  startObject(key: string): number {
    this.header(T_DOCUMENT, key);
    return this.startDocument();
  }

  /** Starts an array under `key`; its elements use keys "0", "1"… (see `arrayKey`). */
  startArray(key: string): number {
    this.header(T_ARRAY, key);
    return this.startDocument();
  }

  double(key: string, value: number): void {
    this.header(T_DOUBLE, key);
    this.ensure(8);
    this.view.setFloat64(this.pos, value, true);
    this.pos += 8;
  }

  int32(key: string, value: number): void {
    this.header(T_INT32, key);
    this.ensure(4);
    this.view.setInt32(this.pos, value, true);
    this.pos += 4;
  }

  /** A 64-bit integer; `value` must already be a safe integer or a bigint in range. */
  int64(key: string, value: number | bigint): void {
    this.header(T_INT64, key);
    this.ensure(8);
    this.view.setBigInt64(this.pos, typeof value === "bigint" ? value : BigInt(value), true);
    this.pos += 8;
  }

  bool(key: string, value: boolean): void {
    this.header(T_BOOLEAN, key);
    this.ensure(1);
    this.buf[this.pos++] = value ? 1 : 0;
  }

  null(key: string): void {
    this.header(T_NULL, key);
  }

  /** UTC milliseconds since the epoch; `value` must be a valid Date. */
  date(key: string, value: Date): void {
    this.header(T_DATE, key);
    this.ensure(8);
    this.view.setBigInt64(this.pos, BigInt(value.getTime()), true);
    this.pos += 8;
  }

  string(key: string, value: string): void {
    this.header(T_STRING, key);
    const lengthAt = this.pos;
    this.ensure(4 + value.length * 3 + 1);
    this.pos += 4;
    const written = this.utf8(value);
    this.buf[this.pos++] = 0;
    this.view.setInt32(lengthAt, written + 1, true);
  }

  objectId(key: string, value: ObjectId): void {
    this.header(T_OBJECT_ID, key);
    this.ensure(12);
    this.buf.set(value.id, this.pos);
    this.pos += 12;
  }

  uuid(key: string, value: UUID): void {
    this.binary(key, value.buffer, BINARY_UUID);
  }

  decimal128(key: string, value: Decimal128): void {
    this.header(T_DECIMAL128, key);
    this.ensure(16);
    this.buf.set(value.bytes, this.pos);
    this.pos += 16;
  }

  binary(key: string, value: Uint8Array, subtype = 0): void {
    this.header(T_BINARY, key);
    this.ensure(5 + value.length);
    this.view.setInt32(this.pos, value.length, true);
    this.buf[this.pos + 4] = subtype;
    this.buf.set(value, this.pos + 5);
    this.pos += 5 + value.length;
  }

  /** Embeds an already-encoded BSON document under `key`, byte for byte. */
  rawDocument(key: string, document: Uint8Array): void {
    this.header(T_DOCUMENT, key);
    this.ensure(document.length);
    this.buf.set(document, this.pos);
    this.pos += document.length;
  }

  /** Writes the element type and the key (a C string). */
  private header(type: number, key: string): void {
    this.ensure(2 + key.length * 3);
    this.buf[this.pos++] = type;
    this.utf8(key);
    this.buf[this.pos++] = 0;
  }

  /** Writes `s` as UTF-8 at the position (capacity already ensured); returns the byte count. */
  private utf8(s: string): number {
    const start = this.pos;
    const n = s.length;
    let i = 0;
    // ASCII fast path: most keys and many values; TextEncoder's call overhead dominates for them.
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      this.buf[this.pos++] = c;
    }
    if (i < n) {
      const { written } = encoder.encodeInto(s.slice(i), this.buf.subarray(this.pos));
      this.pos += written;
    }
    return this.pos - start;
  }

  private ensure(extra: number): void {
    const need = this.pos + extra;
    if (need <= this.buf.length) return;
    let capacity = this.buf.length * 2;
    while (capacity < need) capacity *= 2;
    const next = new Uint8Array(capacity);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
}

const ARRAY_KEYS: string[] = Array.from({ length: 1024 }, (_, i) => String(i));

/** The BSON key of array element `index` ("0", "1"…), cached for small indexes. */
export function arrayKey(index: number): string {
  return ARRAY_KEYS[index] ?? String(index);
}
