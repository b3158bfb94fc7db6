/**
 * A segment as the queue tracks it in memory, and the durable creation of a new, empty one.
 */
import { crc32 } from "./crc32.js";
import { FORMAT_VERSION, SEGMENT_HEADER_BYTES, SEGMENT_MAGIC, segmentFileName, uuidToBytes, writeU64 } from "./queue-format.js";
import * as path from "node:path";
import { writeFileAtomically } from "../node/write-file-atomically.js";

/** One segment file of the queue. */
export interface Segment {
  /** The first sequence number the segment may hold (also in its name and header). */
  baseSeq: number;
  /** Absolute path of the file. */
  file: string;
  /** The queue id written in its header: the id current when the segment was created. */
  queueId: string;
  /** Bytes of complete frames (plus the header): where the next frame goes. */
  size: number;
  /**
   * Bytes known to be on stable storage (fdatasync returned): what a power loss cannot take.
   * Only these may be uploaded (see `DurableQueue.readBatch`).
   */
  syncedSize: number;
}

/** Creates an empty segment durably: header written to a temp file, fsynced, renamed, dir fsynced. */
export function createSegment(dir: string, queueId: string, baseSeq: number): Segment {
  const header = new Uint8Array(SEGMENT_HEADER_BYTES);
  const view = new DataView(header.buffer);
  view.setUint32(0, SEGMENT_MAGIC, true);
  view.setUint32(4, FORMAT_VERSION, true);
  writeU64(view, 8, baseSeq);
  header.set(uuidToBytes(queueId), 16);
  view.setFloat64(32, Date.now(), true);
  view.setUint32(44, crc32(header.subarray(0, 44)), true);
  const file = path.join(dir, segmentFileName(baseSeq));
  writeFileAtomically(file, header);
  return { baseSeq, file, queueId, size: SEGMENT_HEADER_BYTES, syncedSize: SEGMENT_HEADER_BYTES };
}
