/**
 * Verifies the frames of one segment and tells what follows the good ones: the end, a torn
 * append, zeros, or damage. Recovery and repair decide what to do with it.
 */
import type { Segment } from "./create-segment.js";
import { FRAME_HEADER_BYTES, SEGMENT_HEADER_BYTES } from "./queue-format.js";
import type { SegmentReader } from "./segment-reader.js";

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
 *   Likewise a last frame header that starts with the frame magic but fails its checksum was
 *   written whole, unless a sector it reaches into reads as zeros: damage, not torn.
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
    if (found.kind === "bad-header" && found.magic && !reader.hasZeroSector(offset, Math.min(offset + FRAME_HEADER_BYTES, end))) {
      return done({ offset, kind: "damage", reason: `${found.reason} with the whole header written: damaged after it was written, not a torn write`, lostSeqs: null });
    }
    if (reader.findValidFrameAfter(offset + 1, end) !== null) return done({ offset, kind: "damage", reason: found.reason, lostSeqs: null });
    return done({ offset, kind: "torn", reason: `${found.reason}, and no valid frame after it`, lostSeqs: null });
  }
}
