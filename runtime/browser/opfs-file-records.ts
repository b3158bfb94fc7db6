/**
 * What makes an OPFS file of the log store say which logical file it is (see opfs-log-store.ts
 * for why names live inside files rather than in directory entries). Every physical file is one
 * of three things, told apart by its first bytes:
 *
 * - a data file: a 256-byte header — magic "AGOD", version, generation (u64), the logical name
 *   (u16 length + UTF-8), crc32 of the header's first 252 bytes at 252 — then the logical file's
 *   bytes (a segment: the queue's own header and frames, unchanged). The header is written, and
 *   flushed, only after the content is: a file whose header is not whole and valid holds nothing.
 * - a slot of a small, atomically replaced file (`queue.json`, `ack`): magic "AGOS", version,
 *   generation (u64), name length (u16), content length (u32), crc32 over all of it but the crc
 *   itself, then the name and the content. Two slots per name; the valid one of the higher
 *   generation is the content.
 * - anything else (empty, torn, zeros): a spare, free to be reused.
 *
 * Generations come from one counter per store (the highest found at open, plus one for each
 * create and each atomic write): when two files claim a name (a removal that a crash undid, then
 * a new file of that name), the higher generation is the one that was written last.
 */
import { AsymgenError } from "../errors.js";
import { crc32 } from "../queue/crc32.js";
import { readU64, writeU64 } from "../queue/queue-format.js";

/** "AGOD": a data file's header. */
const DATA_MAGIC = 0x444f4741;
/** "AGOS": a slot of an atomically replaced file. */
const SLOT_MAGIC = 0x534f4741;
const RECORD_VERSION = 1;

/** Bytes before a data file's content: the logical file's byte 0 is the physical file's byte 256. */
export const DATA_HEADER_BYTES = 256;
const DATA_CRC_AT = DATA_HEADER_BYTES - 4;
const NAME_AT = 18;
/** Bytes of a slot record before the name: magic, version, generation, name length, content length, crc. */
const SLOT_HEADER_BYTES = 26;
/** The longest logical name, in UTF-8 bytes (it must fit the data header). */
export const MAX_LOGICAL_NAME_BYTES = DATA_CRC_AT - NAME_AT;

/** What a physical file turned out to hold. */
export type FileIdentity =
  | { kind: "data"; name: string; generation: number }
  | { kind: "slot"; name: string; generation: number; content: Uint8Array }
  | { kind: "spare" }
  /** A record of another version (a newer asymgen wrote it): never treated as a spare, whose bytes would be cut. */
  | { kind: "unsupported"; version: number };

/** A logical name as UTF-8; throws on an empty or overlong name (nothing is written then). */
export function encodeLogicalName(name: string): Uint8Array {
  const bytes = new TextEncoder().encode(name);
  if (bytes.length === 0) throw new AsymgenError("asymgen: a file of the OPFS log store needs a non-empty name");
  if (bytes.length > MAX_LOGICAL_NAME_BYTES) {
    throw new AsymgenError(`asymgen: the OPFS log store's file name "${name.slice(0, 40)}…" is ${bytes.length} bytes of UTF-8; at most ${MAX_LOGICAL_NAME_BYTES} fit`);
  }
  return bytes;
}

/** The header that makes a physical file the data file `name` (written after its content). */
export function encodeDataHeader(name: Uint8Array, generation: number): Uint8Array {
  const header = new Uint8Array(DATA_HEADER_BYTES);
  const view = new DataView(header.buffer);
  view.setUint32(0, DATA_MAGIC, true);
  view.setUint32(4, RECORD_VERSION, true);
  writeU64(view, 8, generation);
  view.setUint16(16, name.length, true);
  header.set(name, NAME_AT);
  view.setUint32(DATA_CRC_AT, crc32(header.subarray(0, DATA_CRC_AT)), true);
  return header;
}

/** A whole slot record holding `content` as the file `name` at `generation`. */
export function encodeSlotRecord(name: Uint8Array, generation: number, content: Uint8Array): Uint8Array {
  const record = new Uint8Array(SLOT_HEADER_BYTES + name.length + content.length);
  const view = new DataView(record.buffer);
  view.setUint32(0, SLOT_MAGIC, true);
  view.setUint32(4, RECORD_VERSION, true);
  writeU64(view, 8, generation);
  view.setUint16(16, name.length, true);
  view.setUint32(18, content.length, true);
  record.set(name, SLOT_HEADER_BYTES);
  record.set(content, SLOT_HEADER_BYTES + name.length);
  view.setUint32(22, slotChecksum(record), true);
  return record;
}

/** The checksum of a slot record: everything but the crc field itself. */
function slotChecksum(record: Uint8Array): number {
  return crc32(record.subarray(SLOT_HEADER_BYTES), crc32(record.subarray(0, 22)));
}

/** Positioned reads of a physical file, as `FileSystemSyncAccessHandle` gives them. */
export interface RecordSource {
  getSize(): number;
  read(buffer: Uint8Array, options: { at: number }): number;
}

/** Reads what a physical file is (see the module comment); a file that is neither whole record is a spare. */
export function readFileIdentity(file: RecordSource): FileIdentity {
  const size = file.getSize();
  if (size < SLOT_HEADER_BYTES) return { kind: "spare" };
  const head = new Uint8Array(Math.min(size, DATA_HEADER_BYTES));
  readFully(file, head, 0);
  const view = new DataView(head.buffer);
  const magic = view.getUint32(0, true);
  if (magic !== DATA_MAGIC && magic !== SLOT_MAGIC) return { kind: "spare" };
  // Both kinds of record are written whole within their first 512 bytes' sector, after which
  // magic and version never change: another version is really another format, not a torn write.
  const version = view.getUint32(4, true);
  if (version !== RECORD_VERSION) return { kind: "unsupported", version };
  if (magic === DATA_MAGIC) {
    if (head.length < DATA_HEADER_BYTES || crc32(head.subarray(0, DATA_CRC_AT)) !== view.getUint32(DATA_CRC_AT, true)) return { kind: "spare" };
    const nameLength = view.getUint16(16, true);
    if (nameLength === 0 || nameLength > MAX_LOGICAL_NAME_BYTES) return { kind: "spare" };
    return { kind: "data", name: decodeName(head.subarray(NAME_AT, NAME_AT + nameLength)), generation: readU64(view, 8) };
  }
  // A slot record.
  const nameLength = view.getUint16(16, true);
  const contentLength = view.getUint32(18, true);
  const total = SLOT_HEADER_BYTES + nameLength + contentLength;
  // A slot is rewritten in place and cut after: bytes past its record are a longer old one's.
  if (nameLength === 0 || total > size) return { kind: "spare" };
  const record = new Uint8Array(total);
  readFully(file, record, 0);
  if (slotChecksum(record) !== new DataView(record.buffer).getUint32(22, true)) return { kind: "spare" };
  return {
    kind: "slot",
    name: decodeName(record.subarray(SLOT_HEADER_BYTES, SLOT_HEADER_BYTES + nameLength)),
    generation: readU64(view, 8),
    content: record.slice(SLOT_HEADER_BYTES + nameLength),
  };
}

function decodeName(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

/** Fills `into` from `at`; a file shorter than that is a caller's mistake (sizes were checked). */
function readFully(file: RecordSource, into: Uint8Array, at: number): void {
  let done = 0;
  while (done < into.length) {
    const n = file.read(into.subarray(done), { at: at + done });
    if (n <= 0) throw new AsymgenError(`asymgen: OPFS file ended after ${at + done} bytes while reading its record`);
    done += n;
  }
}
