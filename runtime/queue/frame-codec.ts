/**
 * Builds a frame's header and table section around documents already encoded in a BsonWriter,
 * and decodes a frame's payload back into documents. See queue-format.ts for the layout.
 */
import { AsymgenError, QueueCorruptedError } from "../errors.js";
import { computeCrc32Slice16Range, crc32, crc32Combine } from "./crc32.js";
import { FRAME_HEADER_BYTES, FRAME_MAGIC } from "./queue-format.js";
import type { ReusedDocumentBytes } from "./reused-document-bytes.js";
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
   * Writes the frame head in place: `buf[at, end)` is the frame, whose documents (the BSON,
   * back to back) already sit after the head's `measure(...)` bytes. The payload checksum is
   * then one call over one range, and no view but that one is created. `docsCrc`, when given, is
   * the CRC-32 of the documents' bytes, computed where they were encoded: only the table section
   * is checksummed here, and the two combined.
   */
  buildInPlace(buf: Uint8Array, at: number, end: number, tables: readonly string[], docTable: Uint16Array, docCount: number, firstSeq: number, commitTime: number, docsCrc: number | null = null): void {
    const docsStart = this.writeTables(buf, at, tables, docTable, docCount);
    const payloadCrc =
      docsCrc === null ? crc32(buf.subarray(at + FRAME_HEADER_BYTES, end)) : crc32Combine(crc32(buf.subarray(at + FRAME_HEADER_BYTES, docsStart)), docsCrc, end - docsStart);
    this.writeHeader(buf, at, end - at - FRAME_HEADER_BYTES, payloadCrc, docCount, tables.length, firstSeq, commitTime);
  }

  /**
   * Writes the frame head for `docs` (the documents' BSON, back to back) into a buffer of its
   * own and returns it, as a view valid until the next call: for heads too large to sit in
   * front of the documents. `docsCrc`: as for `buildInPlace`.
   */
  build(tables: readonly string[], docTable: Uint16Array, docCount: number, docs: Uint8Array, firstSeq: number, commitTime: number, docsCrc: number | null = null): Uint8Array {
    const headLength = FrameHeadBuilder.measure(tables, docCount);
    if (headLength > this.buf.length) {
      let capacity = this.buf.length * 2;
      while (capacity < headLength) capacity *= 2;
      this.buf = new Uint8Array(capacity);
    }
    const buf = this.buf;
    this.writeTables(buf, 0, tables, docTable, docCount);
    const headCrc = crc32(buf.subarray(FRAME_HEADER_BYTES, headLength));
    const payloadCrc = docsCrc === null ? crc32(docs, headCrc) : crc32Combine(headCrc, docsCrc, docs.length);
    this.writeHeader(buf, 0, headLength - FRAME_HEADER_BYTES + docs.length, payloadCrc, docCount, tables.length, firstSeq, commitTime);
    return buf.subarray(0, headLength);
  }

  /** Writes the table section (names, then one index per document) after the header at `at`; returns its end. */
  private writeTables(buf: Uint8Array, at: number, tables: readonly string[], docTable: Uint16Array, docCount: number): number {
    let p = at + FRAME_HEADER_BYTES;
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
    return p;
  }

  /** Writes the 40-byte frame header at `at`, its own checksum last. */
  private writeHeader(buf: Uint8Array, at: number, payloadLength: number, payloadCrc: number, docCount: number, tableCount: number, firstSeq: number, commitTime: number): void {
    putU32(buf, at, FRAME_MAGIC);
    putU32(buf, at + 8, payloadLength);
    putU32(buf, at + 12, payloadCrc);
    putU32(buf, at + 16, docCount);
    putU32(buf, at + 20, tableCount);
    putU32(buf, at + 24, firstSeq >>> 0);
    putU32(buf, at + 28, Math.floor(firstSeq / 0x100000000));
    if (LITTLE_ENDIAN) {
      F64[0] = commitTime;
      for (let i = 0; i < 8; i++) buf[at + 32 + i] = F64_BYTES[i]!;
    } else {
      new DataView(buf.buffer, buf.byteOffset + at, FRAME_HEADER_BYTES).setFloat64(32, commitTime, true);
    }
    // A 32-byte range: the table loop beats the native call's fixed cost, and needs no view.
    putU32(buf, at + 4, computeCrc32Slice16Range(buf, at + 8, at + FRAME_HEADER_BYTES));
  }
}

/**
 * Appends to `out` the documents of a verified frame payload whose sequence number is at least
 * `fromSeq`, stopping when `accept` (called with each one's length, in order; it keeps its own
 * count) says no. Their bytes are copied into a buffer of their own, or into `reused` when given
 * (then valid only until its next `reset`). Returns the number of documents appended; throws
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
  reused?: ReusedDocumentBytes,
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
  // The payload is the reader's buffer, reused by its next read: the accepted documents are
  // copied out in one piece (one allocation per frame instead of one per document, which showed
  // in the uploader's GC time; none at all into `reused`). First find them: index in the frame,
  // then offset, for each.
  const accepted: number[] = [];
  let stopped = false;
  for (let i = 0; i < docCount; i++) {
    if (p + 5 > payload.length) fail(`document ${i} of the frame overruns it`);
    const length = view.getInt32(p, true);
    if (length < 5 || p + length > payload.length) fail(`document ${i} of the frame has a bad length`);
    if (firstSeq + i >= fromSeq) {
      if (!accept(length)) {
        stopped = true;
        break;
      }
      accepted.push(i, p);
    }
    p += length;
  }
  if (!stopped && p !== payload.length) fail("frame has bytes after its last document");
  if (accepted.length === 0) return 0;
  const spanStart = accepted[1]!;
  const lastStart = accepted[accepted.length - 1]!;
  const spanEnd = lastStart + view.getInt32(lastStart, true);
  const span = reused === undefined ? payload.slice(spanStart, spanEnd) : reused.copy(payload.subarray(spanStart, spanEnd));
  for (let k = 0; k < accepted.length; k += 2) {
    const i = accepted[k]!;
    const at = accepted[k + 1]! - spanStart;
    const table = tables[view.getUint16(indexAt + 2 * i, true)] ?? fail(`document ${i} names a missing table`);
    out.push({ seq: firstSeq + i, table, bson: span.subarray(at, at + view.getInt32(accepted[k + 1]!, true)) });
  }
  return accepted.length / 2;
}

/**
 * Checks that bytes `[start, end)` of `buf` are exactly `count` BSON documents back to back, as
 * the frame format needs: a generated encoder that wrote anything else would make the frame
 * unreadable, so it is refused here rather than found by the uploader.
 */
export function checkDocumentLengths(buf: Uint8Array, start: number, end: number, count: number): void {
  let p = start;
  let n = 0;
  while (p + 4 <= end) {
    const length = buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24);
    if (length < 5) break;
    p += length;
    n++;
  }
  if (p !== end || n !== count) {
    throw new AsymgenError(`a model encoder did not write exactly one BSON document per ingest (${n} documents in ${end - start} bytes for ${count} ingests)`);
  }
}
