/**
 * The queue's on-disk format: constants and the codecs of the two fixed-size headers.
 *
 * A queue is a log store (a directory on Node; see log-store.ts) holding:
 * - `queue.json`   `{ format, version, queueId, previousQueueIds? }`, written atomically with
 *                  the queue and again by `rotateQueueId` (see queue-meta.ts).
 * - `ack`          the acknowledgement cursor: magic, seq (u64), crc32; replaced atomically.
 * - `lock`         (Node) the owner's pid and process start time (see runtime/node/queue-lock.ts).
 * - `seg-<base>.log` segments, named by the first sequence number they may hold (20 digits, so
 *                  names sort in order). A segment is a 48-byte header then frames.
 *
 * A frame is one committed transaction: a 40-byte header, then the payload: the table names
 * used (u16 length + UTF-8 each), one u16 table index per document, then the documents' BSON
 * back to back (each starts with its own int32 length). Sequence numbers are not stored per
 * document: document i of a frame has `firstSeq + i`, so they cannot disagree. Integers are
 * little-endian.
 */

/** "AGQS": a segment header. */
export const SEGMENT_MAGIC = 0x53514741;
/** "AGQF": a frame header. */
export const FRAME_MAGIC = 0x46514741;
/** "AGQA": the acknowledgement cursor. */
export const ACK_MAGIC = 0x41514741;
/** The format version written in segment headers and queue.json. */
export const FORMAT_VERSION = 1;

/** Bytes in a segment header: magic, version, baseSeq, queueId (16), createdAt, reserved, crc. */
export const SEGMENT_HEADER_BYTES = 48;
/** Bytes in a frame header: magic, headerCrc, payloadLength, payloadCrc, docCount, tableCount, firstSeq, commitTime. */
export const FRAME_HEADER_BYTES = 40;
/** Bytes in the ack file: magic, seq, crc. */
export const ACK_FILE_BYTES = 16;

/** MongoDB caps a BSON document at 16 MiB; a larger one could never be stored by the server. */
export const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;
/** Frames carry a u32 payload length; keep well inside it (and inside one typed array). */
export const MAX_FRAME_PAYLOAD_BYTES = 0x7fff0000;
/** The default segment size before rollover. */
export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;

/** The file name of the segment whose first sequence number is `baseSeq`. */
export function segmentFileName(baseSeq: number): string {
  return `seg-${String(baseSeq).padStart(20, "0")}.log`;
}

/** The base sequence number of a segment file name, or null when `name` is not one. */
export function parseSegmentFileName(name: string): number | null {
  const match = /^seg-(\d{20})\.log$/.exec(name);
  return match ? Number(match[1]) : null;
}

/** A decoded frame header. */
export interface FrameHeader {
  payloadLength: number;
  payloadCrc: number;
  docCount: number;
  tableCount: number;
  firstSeq: number;
  commitTime: number;
}

/** A decoded segment header. */
export interface SegmentHeader {
  version: number;
  baseSeq: number;
  queueId: string;
  createdAt: number;
}

/** Writes a u64 (a safe integer) little-endian. */
export function writeU64(view: DataView, at: number, value: number): void {
  view.setUint32(at, value >>> 0, true);
  view.setUint32(at + 4, Math.floor(value / 0x100000000), true);
}

/** Reads a u64 written by `writeU64`. */
export function readU64(view: DataView, at: number): number {
  return view.getUint32(at, true) + view.getUint32(at + 4, true) * 0x100000000;
}

/** Converts a UUID string to its 16 bytes. */
export function uuidToBytes(uuid: string): Uint8Array {
  const hex = uuid.replace(/-/g, "");
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Converts 16 bytes to a UUID string. */
export function bytesToUuid(bytes: Uint8Array): string {
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
