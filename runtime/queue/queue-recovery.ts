/**
 * What happens to a queue directory when it opens: leftover temp files go, segments are
 * listed and their headers checked, an explicit repair runs if asked for, the active (last)
 * segment is verified frame by frame and a torn tail is cut and reported; damage to committed
 * data throws `QueueCorruptedError`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { QueueCorruptedError } from "../errors.js";
import { readAckCursor } from "./ack-cursor.js";
import { createSegment, type Segment } from "./create-segment.js";
import { parseSegmentFileName } from "./queue-format.js";
import { readOrCreateQueueMeta, type QueueMeta } from "./queue-meta.js";
import { repairAtDamage } from "./queue-repair.js";
import { scanSegment, type SegmentScan } from "./scan-segment.js";
import { SegmentReader } from "./segment-reader.js";
import { truncateFileDurably } from "./truncate-file.js";

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

/**
 * Scans the active segment, cuts a torn tail off (durably) and returns the last committed
 * sequence number with a report of what was cut (null when nothing was). Damage to committed
 * data throws `QueueCorruptedError` naming the file and offset (see `scanSegment`).
 */
function recoverActiveSegment(segment: Segment): { lastSeq: number; report: RecoveryReport | null } {
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
  truncateFileDurably(segment.file, problem.offset);
  segment.size = problem.offset;
  return { lastSeq: scan.lastSeq, report };
}

/** A queue directory as recovery leaves it, ready to open. */
export interface RecoveredQueue {
  meta: QueueMeta;
  /** The segments, oldest first; the last one is where the next frame goes. */
  segments: Segment[];
  /** The last committed sequence number (what the next one follows). */
  lastSeq: number;
  ackedSeq: number;
  /** What was cut, in order (repair first, then a torn tail). */
  reports: RecoveryReport[];
}

/**
 * Recovers the queue directory `dir` (its lock held by the caller): see the module comment.
 * `repair` "truncate-at-damage" first cuts the log at damage (queue-repair.ts).
 */
export function recoverQueue(dir: string, repair: "truncate-at-damage" | undefined): RecoveredQueue {
  const names = fs.readdirSync(dir);
  // Temporary files are the unfinished half of an atomic replace: the old file still stands.
  for (const name of names) if (name.endsWith(".tmp")) fs.rmSync(path.join(dir, name), { force: true });
  const segments: Segment[] = [];
  for (const name of names) {
    const baseSeq = parseSegmentFileName(name);
    if (baseSeq === null) continue;
    const file = path.join(dir, name);
    // Nothing is known to be synced yet: the last process may have died before its data
    // reached the disk (durability "os", or writeAsync before its group flush).
    segments.push({ baseSeq, file, queueId: "", size: fs.statSync(file).size, syncedSize: 0 });
  }
  segments.sort((a, b) => a.baseSeq - b.baseSeq);
  const meta = readOrCreateQueueMeta(dir, segments.length > 0);
  const knownIds = new Set([meta.queueId, ...meta.previousQueueIds]);
  const ackedSeq = readAckCursor(dir);
  const reports: RecoveryReport[] = [];
  if (repair !== undefined) {
    const report = repairAtDamage(dir, segments, knownIds, ackedSeq, meta.queueId);
    if (report !== null) reports.push(report);
  }
  for (const segment of segments) {
    const reader = new SegmentReader(segment.file);
    try {
      const header = reader.readHeader();
      if (header.baseSeq !== segment.baseSeq) throw new QueueCorruptedError(segment.file, 0, `header says base ${header.baseSeq}`);
      if (!knownIds.has(header.queueId)) throw new QueueCorruptedError(segment.file, 0, `segment of another queue (${header.queueId})`);
      segment.queueId = header.queueId;
    } finally {
      reader.close();
    }
  }
  let lastSeq: number;
  const active = segments.at(-1);
  if (active === undefined) {
    lastSeq = ackedSeq;
    segments.push(createSegment(dir, meta.queueId, ackedSeq + 1));
  } else {
    const recovered = recoverActiveSegment(active);
    lastSeq = recovered.lastSeq;
    const report = recovered.report;
    if (report !== null) {
      // Acknowledged numbers are not lost to the app: the server has them.
      const lost = report.lostSeqs;
      if (lost !== null) report.lostSeqs = Math.max(lost.from, ackedSeq + 1) <= lost.to ? { from: Math.max(lost.from, ackedSeq + 1), to: lost.to } : null;
      reports.push(report);
    }
    if (ackedSeq > lastSeq) {
      // The server acknowledged documents this disk no longer has (durability "os" and a power
      // loss). Reusing their sequence numbers would make the server skip new documents as
      // retries, so numbering resumes after the acknowledged ones.
      lastSeq = ackedSeq;
      segments.push(createSegment(dir, meta.queueId, ackedSeq + 1));
    }
  }
  return { meta, segments, lastSeq, ackedSeq, reports };
}
