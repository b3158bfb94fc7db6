/**
 * The explicit way out of a damaged queue (`repair: "truncate-at-damage"`): the log is cut at
 * its first damaged frame, later segments are dropped, and what was lost is reported.
 */
import { QueueCorruptedError } from "../errors.js";
import { createClosedSegment, type Segment } from "./create-segment.js";
import type { LogStore } from "./log-store.js";
import { SEGMENT_HEADER_BYTES } from "./queue-format.js";
import type { RecoveryReport } from "./recovery-report.js";
import { scanSegment } from "./scan-segment.js";
import { SegmentReader } from "./segment-reader.js";
import { truncateFileDurably } from "./truncate-file.js";

interface Damage {
  index: number;
  offset: number;
  reason: string;
  /** The first sequence number the damaged frame (or segment) should have held. */
  fromSeq: number;
}

/**
 * Verifies every frame of every segment of `segments` (sorted, sizes from the file system). At
 * the first damage (a bad segment header, a bad frame in a sealed segment, damage that recovery
 * would refuse in the active one) it cuts the segment there (or deletes it when its header is
 * bad), deletes every later segment, and, when sequence numbers were lost, starts a new segment
 * after the highest one ever given out, so that no number is reused (the server would skip a
 * reused number as a retry). Updates `segments` and returns a report, or null when nothing is
 * damaged. A torn tail of the active segment is left to recovery.
 */
export function repairAtDamage(store: LogStore, segments: Segment[], knownIds: ReadonlySet<string>, ackedSeq: number, queueId: string): RecoveryReport | null {
  const damage = findFirstDamage(store, segments, knownIds);
  if (damage === null) return null;
  const damaged = segments[damage.index]!;
  let highest = damage.fromSeq - 1;
  const droppedSegments: string[] = [];
  let bytesCut = 0;
  // The highest number given out: frames still readable after the damage, and later segments
  // (a segment's base says every number before it was given out).
  highest = Math.max(highest, highestSeqIn(store, damaged, Math.max(damage.offset + 1, SEGMENT_HEADER_BYTES)));
  const removed: string[] = [];
  for (const later of segments.splice(damage.index + 1)) {
    highest = Math.max(highest, later.baseSeq - 1, highestSeqIn(store, later, SEGMENT_HEADER_BYTES));
    bytesCut += later.size;
    removed.push(later.name);
    droppedSegments.push(later.file);
  }
  if (damage.offset < SEGMENT_HEADER_BYTES) {
    bytesCut += damaged.size;
    removed.unshift(damaged.name);
    droppedSegments.unshift(damaged.file);
    segments.splice(damage.index, 1);
  } else {
    bytesCut += damaged.size - damage.offset;
    truncateFileDurably(store, damaged.name, damage.offset);
    damaged.size = damage.offset;
  }
  // Removed before a new segment is created: durably (the store syncs its entries).
  store.remove(removed);
  const resumeAt = Math.max(highest, ackedSeq) + 1;
  if (segments.length === 0 || resumeAt > damage.fromSeq) segments.push(createClosedSegment(store, queueId, resumeAt));
  const from = Math.max(damage.fromSeq, ackedSeq + 1);
  return {
    kind: "repair",
    file: damaged.file,
    offset: damage.offset,
    bytesCut,
    reason: damage.reason,
    lostSeqs: from <= highest ? { from, to: highest } : null,
    droppedSegments,
  };
}

/** The first damaged place in the log, or null. */
function findFirstDamage(store: LogStore, segments: readonly Segment[], knownIds: ReadonlySet<string>): Damage | null {
  for (let index = 0; index < segments.length; index++) {
    const segment = segments[index]!;
    const reader = SegmentReader.open(store, segment.name);
    try {
      let headerProblem: string | null = null;
      try {
        const header = reader.readHeader();
        if (header.baseSeq !== segment.baseSeq) headerProblem = `header says base ${header.baseSeq}`;
        else if (!knownIds.has(header.queueId)) headerProblem = `segment of another queue (${header.queueId})`;
      } catch (error) {
        if (!(error instanceof QueueCorruptedError)) throw error;
        headerProblem = error.reason;
      }
      if (headerProblem !== null) return { index, offset: 0, reason: headerProblem, fromSeq: segment.baseSeq };
      const scan = scanSegment(reader, segment, segment.size, index === segments.length - 1);
      if (scan.problem?.kind === "damage") return { index, offset: scan.problem.offset, reason: scan.problem.reason, fromSeq: scan.lastSeq + 1 };
    } finally {
      reader.close();
    }
  }
  return null;
}

/** The highest sequence number of any frame with a valid header in `[from, size)` of `segment` (0 when none). */
function highestSeqIn(store: LogStore, segment: Segment, from: number): number {
  const end = segment.size;
  const reader = SegmentReader.open(store, segment.name);
  try {
    let highest = 0;
    let offset: number | null = from;
    while (offset !== null && offset < end) {
      const found = reader.inspect(offset, end, false);
      if (found.kind === "frame") {
        highest = Math.max(highest, found.header.firstSeq + found.header.docCount - 1);
        offset = found.end;
      } else {
        offset = reader.findValidFrameAfter(offset + 1, end);
      }
    }
    return highest;
  } finally {
    reader.close();
  }
}
