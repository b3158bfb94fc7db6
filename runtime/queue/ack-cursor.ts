/**
 * The durable acknowledgement cursor: the highest sequence number the server has handled,
 * in a 16-byte file (magic, u64 seq, crc32) replaced atomically.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { QueueCorruptedError } from "../errors.js";
import { crc32 } from "./crc32.js";
import { ACK_FILE_BYTES, ACK_MAGIC, readU64, writeU64 } from "./queue-format.js";
import { writeFileAtomically } from "../node/write-file-atomically.js";

/** The cursor file's name inside the queue directory. */
export const ACK_FILE_NAME = "ack";

/** Reads the cursor of queue directory `dir` (0 when none was written yet). */
export function readAckCursor(dir: string): number {
  const file = path.join(dir, ACK_FILE_NAME);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return 0;
    throw error;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length !== ACK_FILE_BYTES || view.getUint32(0, true) !== ACK_MAGIC) {
    throw new QueueCorruptedError(file, 0, "not an acknowledgement cursor");
  }
  if (crc32(bytes.subarray(0, 12)) !== view.getUint32(12, true)) {
    throw new QueueCorruptedError(file, 0, "acknowledgement cursor checksum mismatch");
  }
  return readU64(view, 4);
}

/** Durably records `seq` as the cursor of queue directory `dir`. */
export function writeAckCursor(dir: string, seq: number): void {
  const bytes = new Uint8Array(ACK_FILE_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, ACK_MAGIC, true);
  writeU64(view, 4, seq);
  view.setUint32(12, crc32(bytes.subarray(0, 12)), true);
  writeFileAtomically(path.join(dir, ACK_FILE_NAME), bytes);
}
