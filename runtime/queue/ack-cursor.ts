/**
 * The durable acknowledgement cursor: the highest sequence number the server has handled,
 * in a 16-byte file (magic, u64 seq, crc32) replaced atomically.
 */
import { QueueCorruptedError } from "../errors.js";
import { crc32 } from "./crc32.js";
import type { LogStore } from "./log-store.js";
import { ACK_FILE_BYTES, ACK_MAGIC, readU64, writeU64 } from "./queue-format.js";

/** The cursor file's name in the log store. */
export const ACK_FILE_NAME = "ack";

/** Reads the cursor of the queue in `store` (0 when none was written yet). */
export function readAckCursor(store: LogStore): number {
  const bytes = store.readFile(ACK_FILE_NAME);
  if (bytes === null) return 0;
  const file = store.pathOf(ACK_FILE_NAME);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length !== ACK_FILE_BYTES || view.getUint32(0, true) !== ACK_MAGIC) {
    throw new QueueCorruptedError(file, 0, "not an acknowledgement cursor");
  }
  if (crc32(bytes.subarray(0, 12)) !== view.getUint32(12, true)) {
    throw new QueueCorruptedError(file, 0, "acknowledgement cursor checksum mismatch");
  }
  return readU64(view, 4);
}

/** Durably records `seq` as the cursor of the queue in `store`. */
export function writeAckCursor(store: LogStore, seq: number): void {
  const bytes = new Uint8Array(ACK_FILE_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, ACK_MAGIC, true);
  writeU64(view, 4, seq);
  view.setUint32(12, crc32(bytes.subarray(0, 12)), true);
  store.writeFileAtomically(ACK_FILE_NAME, bytes);
}
