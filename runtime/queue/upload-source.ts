/**
 * The contract between the durable queue (runtime/queue) and the sync session (runtime/sync):
 * the uploader's view of the queue. Internal: apps never see it.
 */

/** One committed document as the uploader reads it. */
export interface QueuedDocument {
  /** Per-queue sequence number: 1, 2, 3… in commit order, never reused. */
  seq: number;
  /** The model's persisted name: the server's table or collection. */
  table: string;
  /** The encoded BSON document, exactly as the generated encoder wrote it. */
  bson: Uint8Array;
}

/** A batch from `readBatchToUpload`. */
export interface UploadRead {
  documents: QueuedDocument[];
  /** Null when the documents are on stable storage already. */
  onStableStorage: Promise<void> | null;
  /**
   * Where the documents were read from: the first `end` bytes of each named file of the log
   * store (segments, oldest first). A store whose syncs can report durable early (IndexedDB's
   * synchronous syncs only start a commit) gates the batch on exactly these bytes rather than
   * on a flush of everything written (runtime/browser/worker-sync.ts). Absent: the source does
   * not say (then the gate must cover everything).
   */
  extent?: readonly { name: string; end: number }[];
}

/** Reads committed documents in order and takes acknowledgements. */
export interface UploadSource {
  /** The queue's id (a UUID string created with the queue; changed only by `rotateQueueId`). */
  readonly queueId: string;
  /**
   * Durably gives the queue a new id and returns it; sequence numbers and the acknowledgement
   * cursor are kept, so unacknowledged documents are re-sent under the new id (used when the
   * server says the old id belongs to another user). Optional so that a test's in-memory
   * source need not implement it; the durable queue always does.
   */
  rotateQueueId?(): string;
  /**
   * The highest DURABLE sequence number (0 when none): committed and flushed as the configured
   * durability promises. Transactions of `writeAsync` waiting for their group flush are not
   * counted yet, so the uploader never sends what a crash could still take back.
   */
  lastCommittedSeq(): number;
  /**
   * The highest sequence number committed so far, durable or not (a `writeAsync` transaction
   * waiting for its group flush counts here before it counts in `lastCommittedSeq`).
   */
  lastWrittenSeq(): number;
  /** Resolves once everything committed so far is durable (starting the flush if one is due). */
  whenDurable(): Promise<void>;
  /** The highest sequence number acknowledged so far (0 when none). */
  acknowledgedSeq(): number;
  /**
   * Committed documents with `seq > afterSeq`, in order: at most `maxCount` of them and at most
   * `maxBytes` of BSON in all (always at least one document when one is pending, even if it is
   * larger than `maxBytes`). Reads from disk; holds nothing in memory between calls.
   */
  readBatch(afterSeq: number, maxCount: number, maxBytes: number): QueuedDocument[];
  /**
   * Optional: `readBatch` without blocking on the disk. Where `readBatch` would sync before
   * returning, this returns at once with `onStableStorage`, which settles when the documents are
   * on stable storage (rejecting when the sync failed, which fails the source); they must not be
   * sent before. The uploader uses it when present, so that one client's fdatasync per batch
   * does not stall its app's event loop. A source whose data is always durable leaves it out.
   * With `transient` true, a source may hand out documents whose `bson` bytes stay valid only
   * until its next transient read (a buffer it reuses): the uploader copies them into its
   * request at once, and afterwards reads nothing of them. A source may
   * ignore it (then they stay valid, as always).
   */
  readBatchToUpload?(afterSeq: number, maxCount: number, maxBytes: number, transient?: boolean): UploadRead;
  /**
   * Durably records that everything up to `seq` is handled (stored or rejected by the server)
   * and deletes the segments that hold nothing else. Idempotent; never moves backwards.
   */
  acknowledge(seq: number): void;
  /**
   * Calls `listener` each time commits become durable (after a `write`, or after the group flush
   * of `writeAsync` transactions) with the new `lastCommittedSeq()`; returns an unsubscribe.
   */
  onCommit(listener: (lastSeq: number) => void): () => void;
}
