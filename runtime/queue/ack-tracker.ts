/**
 * Acknowledgement: the durable cursor (ack-cursor.ts), the first unacknowledged frame (whose
 * position gives the backlog's bytes and age), and the deletion of segments the server has
 * wholly acknowledged.
 */
import { writeAckCursor } from "./ack-cursor.js";
import type { Segment } from "./create-segment.js";
import type { FrameLocator, FramePosition } from "./frame-locator.js";
import type { LogReader } from "./log-reader.js";
import type { LogStore } from "./log-store.js";
import { SEGMENT_HEADER_BYTES } from "./queue-format.js";

/** Tracks what the server has acknowledged. */
export class AckTracker {
  /** The first unacknowledged frame; null when everything written is acknowledged. */
  position: FramePosition | null = null;
  private acked: number;

  /** `segments` is the queue's own list, oldest first: acknowledged segments leave it. */
  constructor(
    private readonly store: LogStore,
    private readonly segments: Segment[],
    private readonly frames: FrameLocator,
    private readonly reader: LogReader,
    ackedSeq: number,
  ) {
    this.acked = ackedSeq;
  }

  /** The highest acknowledged sequence number. */
  get ackedSeq(): number {
    return this.acked;
  }

  /**
   * Durably moves the cursor to `seq` (the caller checked it is ahead and committed); the caller
   * then moves `position` to the frame after it (found from the old position).
   */
  record(seq: number): void {
    writeAckCursor(this.store, seq);
    this.acked = seq;
  }

  /** Bytes on disk of the unacknowledged frames. */
  pendingBytes(): number {
    const pos = this.position;
    if (pos === null) return 0;
    let total = 0;
    for (const segment of this.segments) {
      if (segment.baseSeq < pos.baseSeq) continue;
      total += segment.baseSeq === pos.baseSeq ? segment.size - pos.offset : segment.size - SEGMENT_HEADER_BYTES;
    }
    return total;
  }

  /** When the oldest unacknowledged transaction was committed; null when nothing is pending. */
  oldestPendingTime(): Date | null {
    return this.position === null ? null : new Date(this.position.commitTime);
  }

  /** Deletes the segments (never the active, last one) whose every frame is acknowledged. */
  deleteAcknowledgedSegments(): void {
    const names: string[] = [];
    while (this.segments.length > 1 && this.segments[1]!.baseSeq - 1 <= this.acked) {
      const segment = this.segments.shift()!;
      this.frames.forget(segment.baseSeq);
      this.reader.forgetSegment(segment.baseSeq);
      names.push(segment.name);
    }
    // The store makes the removal durable: not strictly needed for correctness (a resurrected
    // segment is deleted again at open), but it keeps the disk usage the app sees honest after a crash.
    this.store.remove(names);
  }
}
