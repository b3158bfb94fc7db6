/**
 * What happens to a queue's log store when it opens: segments are listed and their headers
 * checked, an explicit repair runs if asked for, the active (last)
 * segment is verified frame by frame and a torn tail is cut and reported; damage to committed
 * data throws `QueueCorruptedError`.
 */
import { QueueCorruptedError } from "../errors.js";
import { readAckCursor } from "./ack-cursor.js";
import { createClosedSegment, type Segment } from "./create-segment.js";
import type { LogStore } from "./log-store.js";
import { parseSegmentFileName } from "./queue-format.js";
import { readOrCreateQueueMeta, type QueueMeta } from "./queue-meta.js";
import { repairAtDamage } from "./queue-repair.js";
import type { RecoveryReport } from "./recovery-report.js";
import { scanSegment, type SegmentScan } from "./scan-segment.js";
import { SegmentReader } from "./segment-reader.js";
import { truncateFileDurably } from "./truncate-file.js";

export type { RecoveryReport };

/**
 * Scans the active segment, cuts a torn tail off (durably) and returns the last committed
 * sequence number with a report of what was cut (null when nothing was). Damage to committed
 * data throws `QueueCorruptedError` naming the file and offset (see `scanSegment`).
 */
function recoverActiveSegment(store: LogStore, segment: Segment): { lastSeq: number; report: RecoveryReport | null } {
  const reader = SegmentReader.open(store, segment.name);
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
  truncateFileDurably(store, segment.name, problem.offset);
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
 * Recovers the queue in `store` (its lock held since the store opened): see the module comment.
 * `repair` "truncate-at-damage" first cuts the log at damage (queue-repair.ts).
 */
export function recoverQueue(store: LogStore, repair: "truncate-at-damage" | undefined): RecoveredQueue {
  const segments: Segment[] = [];
  for (const name of store.list()) {
    const baseSeq = parseSegmentFileName(name);
    if (baseSeq === null) continue;
    // Nothing is known to be synced yet: the last process may have died before its data
    // reached the disk (durability "os", or writeAsync before its group flush). The size is
    // read with the header, below.
    segments.push({ baseSeq, name, file: store.pathOf(name), queueId: "", size: 0, syncedSize: 0 });
  }
  segments.sort((a, b) => a.baseSeq - b.baseSeq);
  const meta = readOrCreateQueueMeta(store, segments.length > 0);
  const knownIds = new Set([meta.queueId, ...meta.previousQueueIds]);
  const ackedSeq = readAckCursor(store);
  const reports: RecoveryReport[] = [];
  for (const segment of segments) segment.size = measureSegment(store, segment);
  if (repair !== undefined) {
    const report = repairAtDamage(store, segments, knownIds, ackedSeq, meta.queueId);
    if (report !== null) reports.push(report);
  }
  for (const segment of segments) {
    const reader = SegmentReader.open(store, segment.name);
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
    segments.push(createClosedSegment(store, meta.queueId, ackedSeq + 1));
  } else {
    const recovered = recoverActiveSegment(store, active);
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
      segments.push(createClosedSegment(store, meta.queueId, ackedSeq + 1));
    }
  }
  return { meta, segments, lastSeq, ackedSeq, reports };
}

/** The size of a segment's file as it is on disk. */
function measureSegment(store: LogStore, segment: Segment): number {
  const file = store.open(segment.name);
  try {
    return file.size();
  } finally {
    file.close();
  }
}
