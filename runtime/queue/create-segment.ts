/**
 * A segment as the queue tracks it in memory, and the durable creation of a new, empty one.
 */
import { crc32 } from "./crc32.js";
import type { LogFile, LogStore } from "./log-store.js";
import { FORMAT_VERSION, SEGMENT_HEADER_BYTES, SEGMENT_MAGIC, segmentFileName, uuidToBytes, writeU64 } from "./queue-format.js";

/** One segment file of the queue. */
export interface Segment {
  /** The first sequence number the segment may hold (also in its name and header). */
  baseSeq: number;
  /** Its name in the log store. */
  name: string;
  /** Where it is, for errors and reports (the store's `pathOf(name)`: an absolute path on Node). */
  file: string;
  /** The queue id written in its header: the id current when the segment was created. */
  queueId: string;
  /** Bytes of complete frames (plus the header): where the next frame goes. */
  size: number;
  /**
   * Bytes known to be on stable storage (a sync returned): what a power loss cannot take.
   * Only these may be uploaded (see log-reader.ts).
   */
  syncedSize: number;
}

/**
 * Creates an empty segment durably (the store's atomic create: a crash never leaves a segment
 * without its header) and returns it with its file open.
 */
export function createSegment(store: LogStore, queueId: string, baseSeq: number): { segment: Segment; file: LogFile } {
  const header = new Uint8Array(SEGMENT_HEADER_BYTES);
  const view = new DataView(header.buffer);
  view.setUint32(0, SEGMENT_MAGIC, true);
  view.setUint32(4, FORMAT_VERSION, true);
  writeU64(view, 8, baseSeq);
  header.set(uuidToBytes(queueId), 16);
  view.setFloat64(32, Date.now(), true);
  view.setUint32(44, crc32(header.subarray(0, 44)), true);
  const name = segmentFileName(baseSeq);
  const file = store.create(name, header);
  return { segment: { baseSeq, name, file: store.pathOf(name), queueId, size: SEGMENT_HEADER_BYTES, syncedSize: SEGMENT_HEADER_BYTES }, file };
}

/** Creates an empty segment durably and closes it (recovery and repair; the queue opens the active one itself). */
export function createClosedSegment(store: LogStore, queueId: string, baseSeq: number): Segment {
  const created = createSegment(store, queueId, baseSeq);
  created.file.close();
  return created.segment;
}
