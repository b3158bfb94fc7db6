/**
 * Builds a frame's header and table section around documents already encoded in a BsonWriter,
 * and decodes a frame's payload back into documents. See queue-format.ts for the layout.
 */
import { QueueCorruptedError } from "../errors.js";
import { crc32 } from "./crc32.js";
import { FRAME_HEADER_BYTES, FRAME_MAGIC, writeU64 } from "./queue-format.js";
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

/** A reusable buffer for the part of a frame that precedes the documents. */
export class FrameHeadBuilder {
  private buf = new Uint8Array(4096);
  private view = new DataView(this.buf.buffer);

  /** The head's size for these tables and this many documents. */
  static measure(tables: readonly string[], docCount: number): number {
    let n = FRAME_HEADER_BYTES + 2 * docCount;
    for (const table of tables) n += 2 + encodeTableName(table).length;
    return n;
  }

  /**
   * Writes the frame head (header, table names, per-document table indexes) for `docs` (the
   * documents' BSON, back to back) and returns it as a view valid until the next call.
   */
  build(tables: readonly string[], docTable: Uint16Array, docCount: number, docs: Uint8Array, firstSeq: number, commitTime: number): Uint8Array {
    const headLength = FrameHeadBuilder.measure(tables, docCount);
    if (headLength > this.buf.length) {
      let capacity = this.buf.length * 2;
      while (capacity < headLength) capacity *= 2;
      this.buf = new Uint8Array(capacity);
      this.view = new DataView(this.buf.buffer);
    }
    const buf = this.buf;
    const view = this.view;
    let p = FRAME_HEADER_BYTES;
    for (const table of tables) {
      const name = encodeTableName(table);
      view.setUint16(p, name.length, true);
      buf.set(name, p + 2);
      p += 2 + name.length;
    }
    for (let i = 0; i < docCount; i++, p += 2) view.setUint16(p, docTable[i]!, true);
    const payloadLength = headLength - FRAME_HEADER_BYTES + docs.length;
    const payloadCrc = crc32(docs, crc32(buf.subarray(FRAME_HEADER_BYTES, headLength)));
    view.setUint32(0, FRAME_MAGIC, true);
    view.setUint32(8, payloadLength, true);
    view.setUint32(12, payloadCrc, true);
    view.setUint32(16, docCount, true);
    view.setUint32(20, tables.length, true);
    writeU64(view, 24, firstSeq);
    view.setFloat64(32, commitTime, true);
    view.setUint32(4, crc32(buf.subarray(8, FRAME_HEADER_BYTES)), true);
    return buf.subarray(0, headLength);
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
