/**
 * What opening a queue cut from it: a leaf type shared by recovery (queue-recovery.ts), repair
 * (queue-repair.ts) and the queue's stats, so that neither of the first two imports the other's types.
 */

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
