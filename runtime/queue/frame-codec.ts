/**
 * Builds a frame's header and table section around documents already encoded in a BsonWriter,
 * and decodes a frame's payload back into documents. See queue-format.ts for the layout.
 */
import { QueueCorruptedError } from "../errors.js";
import { crc32, crc32Small } from "./crc32.js";
import { FRAME_HEADER_BYTES, FRAME_MAGIC } from "./queue-format.js";
import type { QueuedDocument } from "./upload-source.js";

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });
const tableNameCache = new Map<string, Uint8Array>();

/** The UTF-8 bytes of a table name, cached (a schema has a handful). */
export function encodeTableName(table: string): Uint8Array {
  let bytes = tableNameCache.get(table);
  if (bytes === undefined) {
    bytes = utf8.encode(table);
    if (bytes.length > 0xffff) throw new RangeError(`table name too long: ${table.slice(0, 40)}…`);
    tableNameCache.set(table, bytes);
  }
  return bytes;
}

const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function putU32(buf: Uint8Array, at: number, value: number): void {
  buf[at] = value;
  buf[at + 1] = value >>> 8;
  buf[at + 2] = value >>> 16;
  buf[at + 3] = value >>> 24;
}

/**
 * Builds the part of a frame that precedes the documents: in place, right before documents
 * already encoded (the queue's writer reserves room for it), or in a reusable buffer of its own
 * when it does not fit there.
 */
export class FrameHeadBuilder {
  private buf = new Uint8Array(4096);

  /** The head's size for these tables and this many documents. */
  static measure(tables: readonly string[], docCount: number): number {
    let n = FRAME_HEADER_BYTES + 2 * docCount;
    for (const table of tables) n += 2 + encodeTableName(table).length;
    return n;
  }

  /**
   * Writes the frame head (header, table names, per-document table indexes) for `docs` (the
   * documents' BSON, back to back). With `frame` (a view of exactly head-length bytes followed
   * by `docs`, in one buffer) the head is written into its start and `frame` is returned: the
   * whole frame, one contiguous range. Without, the head alone is returned, as a view valid
   * until the next call.
   */
  build(
    tables: readonly string[],
    docTable: Uint16Array,
    docCount: number,
    docs: Uint8Array,
    firstSeq: number,
    commitTime: number,
    frame?: Uint8Array,
  ): Uint8Array {
    const headLength = FrameHeadBuilder.measure(tables, docCount);
    let buf: Uint8Array;
    if (frame !== undefined) {
      if (frame.length !== headLength + docs.length) throw new RangeError(`frame view of ${frame.length} bytes for a ${headLength}-byte head and ${docs.length} bytes of documents`);
      buf = frame;
    } else {
      if (headLength > this.buf.length) {
        let capacity = this.buf.length * 2;
        while (capacity < headLength) capacity *= 2;
        this.buf = new Uint8Array(capacity);
      }
      buf = this.buf;
    }
    let p = FRAME_HEADER_BYTES;
    for (const table of tables) {
      const name = encodeTableName(table);
      buf[p] = name.length;
      buf[p + 1] = name.length >>> 8;
      buf.set(name, p + 2);
      p += 2 + name.length;
    }
    for (let i = 0; i < docCount; i++, p += 2) {
      const index = docTable[i]!;
      buf[p] = index;
      buf[p + 1] = index >>> 8;
    }
    const payloadLength = headLength - FRAME_HEADER_BYTES + docs.length;
    // In place the payload is one range: one checksum call instead of two.
    const payloadCrc = frame !== undefined ? crc32(frame.subarray(FRAME_HEADER_BYTES)) : crc32(docs, crc32(buf.subarray(FRAME_HEADER_BYTES, headLength)));
    putU32(buf, 0, FRAME_MAGIC);
    putU32(buf, 8, payloadLength);
    putU32(buf, 12, payloadCrc);
    putU32(buf, 16, docCount);
    putU32(buf, 20, tables.length);
    putU32(buf, 24, firstSeq >>> 0);
    putU32(buf, 28, Math.floor(firstSeq / 0x100000000));
    if (LITTLE_ENDIAN) {
      F64[0] = commitTime;
      for (let i = 0; i < 8; i++) buf[32 + i] = F64_BYTES[i]!;
    } else {
      new DataView(buf.buffer, buf.byteOffset, 40).setFloat64(32, commitTime, true);
    }
    putU32(buf, 4, crc32Small(buf.subarray(8, FRAME_HEADER_BYTES)));
    return frame ?? buf.subarray(0, headLength);
  }
}

/**
 * Appends to `out` the documents of a verified frame payload whose sequence number is at least
 * `fromSeq`, stopping when `accept` says no. Returns the number of documents appended; throws
 * `QueueCorruptedError` if the payload's structure is inconsistent.
 */
export function decodeFramePayload(
  payload: Uint8Array,
  docCount: number,
  tableCount: number,
  firstSeq: number,
  fromSeq: number,
  out: QueuedDocument[],
  accept: (bsonLength: number) => boolean,
  where: { file: string; offset: number },
): number {
  const fail = (reason: string): never => {
    throw new QueueCorruptedError(where.file, where.offset, reason);
  };
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const tables: string[] = [];
  let p = 0;
  for (let t = 0; t < tableCount; t++) {
    if (p + 2 > payload.length) fail("frame table section overruns the frame");
    const n = view.getUint16(p, true);
    if (p + 2 + n > payload.length) fail("frame table name overruns the frame");
    tables.push(utf8Decoder.decode(payload.subarray(p + 2, p + 2 + n)));
    p += 2 + n;
  }
  const indexAt = p;
  p += 2 * docCount;
  if (p > payload.length) fail("frame document index overruns the frame");
  let appended = 0;
  for (let i = 0; i < docCount; i++) {
    if (p + 5 > payload.length) fail(`document ${i} of the frame overruns it`);
    const length = view.getInt32(p, true);
    if (length < 5 || p + length > payload.length) fail(`document ${i} of the frame has a bad length`);
    const seq = firstSeq + i;
    if (seq >= fromSeq) {
      if (!accept(length)) return appended;
      const table = tables[view.getUint16(indexAt + 2 * i, true)] ?? fail(`document ${i} names a missing table`);
      out.push({ seq, table, bson: payload.slice(p, p + length) });
      appended++;
    }
    p += length;
  }
  if (p !== payload.length) fail("frame has bytes after its last document");
  return appended;
}
