/**
 * Ack debouncing: moves the queue's durable cursor to what the server handled at most once per
 * `ACK_FLUSH_INTERVAL_MS`, and never later than that after an answer (a trailing timer, so an
 * upload that stalls after an answer still records it). Each cursor write costs two fsyncs; doing
 * it per batch took ~10% of a batch's time. A crash in between only re-sends documents the server
 * skips (it keeps its own high-water mark).
 */
import type { UploadSource } from "../queue/upload-source.js";
import { SyncError } from "./sync-error.js";

/** Longest delay before an acknowledgement reaches the queue's durable cursor. */
export const ACK_FLUSH_INTERVAL_MS = 1000;

/** Writes a session's acknowledgements into its queue, debounced. */
export class AcknowledgementFlusher {
  /**
   * When the cursor was last written (`performance.now()`: a clock set back must not hold it
   * up). Creation counts as a write: the first one waits like the others, rather than blocking
   * on two fsyncs at the first answer (16 clients in one bench process did 6% more without).
   */
  private lastFlush = performance.now();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private failureReported = false;
  private closed = false;

  constructor(
    private readonly source: Pick<UploadSource, "acknowledge" | "acknowledgedSeq">,
    /** Everything up to this seq is handled by the server (read at each flush). */
    private readonly handledSeq: () => number,
    /** Told once about a cursor write that failed, until one succeeds again. */
    private readonly reportFailure: (error: SyncError) => void,
  ) {}

  /**
   * After an answer, and when caught up: the cursor is written now if the last write is
   * `ACK_FLUSH_INTERVAL_MS` old, else when it will be (one timer). Not at once: an app writing a
   * little at a time catches up after almost every batch, and a cursor write each time took 5–7%
   * of the time of 16 such sessions in bench:sync. Not only at the next answer either: the
   * upload may stall after an answer (offline, a server that stopped answering), and a crash
   * then re-sent everything answered since the last write, however long ago.
   */
  flushSoon(): void {
    const due = this.lastFlush + ACK_FLUSH_INTERVAL_MS - performance.now();
    if (due <= 0) {
      this.flush();
      return;
    }
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, due);
    // Never what keeps a process alive: a cursor not written only means a re-send the server skips.
    (this.timer as { unref?: () => void }).unref?.();
  }

  /**
   * Writes the cursor now (a pause, a close, a waiter that expects the queue to say so). A failed
   * write (the disk is full) is reported once and retried at the next flush: the upload goes on,
   * since the server holds its high-water mark and a restart only re-sends what it skips.
   */
  flush(): void {
    const seq = this.handledSeq();
    if (this.closed || seq <= this.source.acknowledgedSeq()) return;
    this.lastFlush = performance.now();
    try {
      this.source.acknowledge(seq);
      this.failureReported = false;
    } catch (error) {
      if (this.failureReported) return;
      this.failureReported = true;
      this.reportFailure(
        new SyncError(`the queue could not record the acknowledgement of ${seq}: ${(error as Error).message}; the upload goes on and it is retried`, "acknowledge_failed"),
      );
    }
  }

  /** Never touches the queue again (it is about to close); a pending timer is cancelled. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }
}
