/**
 * Recovery of the active (last) segment when a queue opens: every frame is verified, a torn
 * tail is cut and reported, damage to committed data throws `QueueCorruptedError`.
 */
import * as fs from "node:fs";
import { QueueCorruptedError } from "../errors.js";
import type { Segment } from "./create-segment.js";
import { SEGMENT_HEADER_BYTES, FRAME_HEADER_BYTES } from "./queue-format.js";
import { SegmentReader } from "./segment-reader.js";

/** What recovery (or an explicit repair) cut from the queue, and why. */
export interface RecoveryReport {
  /**
   * "zero-tail": only zeros after the last frame (what durability "full" preallocates; no data);
   * "torn-tail": an interrupted append, cut when the queue opened (under durability "full",
   * never a transaction that `write` had returned from); "repair": damage cut by
   * `repair: "truncate-at-damage"`: committed data lost.
   */
  kind: "zero-tail" | "torn-tail" | "repair";
  /** The file cut (the damaged segment for a repair). */
  file: string;
  /** Where the cut starts in `file`. */
  offset: number;
  /** Bytes removed: from `offset` to the end of `file`, plus every segment file dropped after it. */
  bytesCut: number;
  /** What was found at `offset`. */
  reason: string;
  /** Unacknowledged sequence numbers whose documents were cut, when known; null when none or unknown. */
  lostSeqs: { from: number; to: number } | null;
  /** Segment files deleted after the damaged one (a repair only). */
  droppedSegments: string[];
}

/** What scanning one segment's frames found. */
export interface SegmentScan {
  /** The last sequence number of the last good frame (the segment's baseSeq - 1 when none). */
  lastSeq: number;
  /** What follows the good frames, or null when they run to the end. */
  problem: {
    offset: number;
    /** "torn": an interrupted append; "zeros": only zeros follow; "damage": committed data is bad. */
    kind: "torn" | "zeros" | "damage";
    reason: string;
    lostSeqs: { from: number; to: number } | null;
  } | null;
}

/**
 * Verifies every frame of `segment` (bytes up to `end`) in order. For the active segment
 * (`active`), what an interrupted append can leave is told apart from damage:
 * - an incomplete last frame, or bytes after the last good frame in which no valid frame header
 *   starts, are torn (zeros only: the preallocated tail of durability "full");
 * - a last frame whose header is valid and whose payload is complete but fails its checksum,
 *   followed by nothing or by zeros, is torn only if one of its 512-byte sectors reads as zeros.
 *   Storage writes whole sectors: a write torn by a crash or power loss leaves sectors unwritten,
 *   and an unwritten sector reads as zeros (the preallocated zeros under "full", a hole or an
 *   unwritten extent past the old end of file under "os"). A payload in which every sector
 *   holds data was fully written, so its bad checksum is damage after the fact (bit rot of a
 *   possibly fsynced and acknowledged frame): never cut silently, it is `QueueCorruptedError`.
 *   (A payload that legitimately holds a whole zero sector is taken as torn: still reported.)
 * In a sealed segment (`active` false) anything but whole valid frames is damage.
 */
export function scanSegment(reader: SegmentReader, segment: Segment, end: number, active: boolean): SegmentScan {
  let offset = SEGMENT_HEADER_BYTES;
  let expected = segment.baseSeq;
  const done = (problem: SegmentScan["problem"]): SegmentScan => ({ lastSeq: expected - 1, problem });
  for (;;) {
    const found = reader.inspect(offset, end, true);
    if (found.kind === "end") return done(null);
    if (found.kind === "frame") {
      if (found.header.firstSeq !== expected) {
        return done({ offset, kind: "damage", reason: `frame sequence ${found.header.firstSeq} where ${expected} was expected`, lostSeqs: null });
      }
      expected += found.header.docCount;
      offset = found.end;
      continue;
    }
    if (!active) return done({ offset, kind: "damage", reason: found.reason, lostSeqs: null });
    if (found.kind === "incomplete") return done({ offset, kind: "torn", reason: found.reason, lostSeqs: null });
    if (found.kind === "bad-payload") {
      const { firstSeq, docCount } = found.header;
      const lostSeqs = docCount > 0 ? { from: firstSeq, to: firstSeq + docCount - 1 } : null;
      if (found.end !== end && !reader.isZeroFrom(found.end, end)) return done({ offset, kind: "damage", reason: found.reason, lostSeqs });
      if (!reader.hasZeroSector(offset + FRAME_HEADER_BYTES, found.end)) {
        return done({ offset, kind: "damage", reason: `${found.reason} in a complete last frame with no unwritten (zero) sector: damaged after it was written, not a torn write`, lostSeqs });
      }
      return done({ offset, kind: "torn", reason: `${found.reason} in the last frame, which has unwritten (zero) sectors`, lostSeqs });
    }
    if (reader.isZeroFrom(offset, end)) return done({ offset, kind: "zeros", reason: "zeros after the last frame", lostSeqs: null });
    if (reader.findValidFrameAfter(offset + 1, end) !== null) return done({ offset, kind: "damage", reason: found.reason, lostSeqs: null });
    return done({ offset, kind: "torn", reason: `${found.reason}, and no valid frame after it`, lostSeqs: null });
  }
}

/**
 * Scans the active segment, cuts a torn tail off (durably) and returns the last committed
 * sequence number with a report of what was cut (null when nothing was). Damage to committed
 * data throws `QueueCorruptedError` naming the file and offset (see `scanSegment`).
 */
export function recoverActiveSegment(segment: Segment): { lastSeq: number; report: RecoveryReport | null } {
  const reader = new SegmentReader(segment.file);
  let scan: SegmentScan;
  try {
    scan = scanSegment(reader, segment, segment.size, true);
  } finally {
    reader.close();
  }
  const problem = scan.problem;
  if (problem === null) return { lastSeq: scan.lastSeq, report: null };
  if (problem.kind === "damage") throw new QueueCorruptedError(segment.file, problem.offset, problem.reason);
  const report: RecoveryReport = {
    kind: problem.kind === "zeros" ? "zero-tail" : "torn-tail",
    file: segment.file,
    offset: problem.offset,
    bytesCut: segment.size - problem.offset,
    reason: problem.reason,
    lostSeqs: problem.lostSeqs,
    droppedSegments: [],
  };
  const fd = fs.openSync(segment.file, "r+");
  try {
    fs.ftruncateSync(fd, problem.offset);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  segment.size = problem.offset;
  return { lastSeq: scan.lastSeq, report };
}
