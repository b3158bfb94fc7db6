/**
 * The durable on-device queue: an append-only log of segment files in a `LogStore`, one
 * checksummed frame per committed transaction (format: queue-format.ts). This class only
 * orchestrates; each job has its module:
 * - transaction-buffer.ts: the open transaction, encoded in place, and its frame;
 * - segment-appender.ts: frame writes and preallocation in the active segment;
 * - group-commit.ts: what is durable, `whenDurable` waiters and the shared flush;
 * - log-reader.ts: reads for upload, and the syncs that keep uploads to stable storage;
 * - ack-tracker.ts: the acknowledgement cursor, the backlog, deletion of acknowledged segments;
 * - queue-recovery.ts / queue-repair.ts / queue-meta.ts: opening, repair, `queue.json`.
 *
 * Memory stays bounded whatever the backlog: the queue keeps per-segment sizes and one position
 * (the first unacknowledged frame), and reads for upload stream from disk.
 *
 * What crosses the modules is decided here: when a commit syncs, when the active segment rolls
 * over, and what a failed sync takes back (`discardUnsynced`) or whether the queue must fail.
 */
import type { BsonWriter } from "../encode/bson-writer.js";
import { AsymgenError, QueueDiskFullError, QueueFailedError, QueueFullError, TransactionStateError } from "../errors.js";
import { AckTracker } from "./ack-tracker.js";
import { createSegment, type Segment } from "./create-segment.js";
import { FrameLocator, type FramePosition } from "./frame-locator.js";
import { GroupCommit } from "./group-commit.js";
import { LogReader, type DocumentsRead } from "./log-reader.js";
import { diskFullCodeOf, type LogFile, type LogStore } from "./log-store.js";
import { DEFAULT_SEGMENT_BYTES, SEGMENT_HEADER_BYTES, segmentFileName } from "./queue-format.js";
import { newQueueId, writeQueueMeta, type QueueMeta } from "./queue-meta.js";
import { recoverQueue, type RecoveryReport } from "./queue-recovery.js";
import { SegmentAppender } from "./segment-appender.js";
import { TransactionBuffer } from "./transaction-buffer.js";
import type { QueuedDocument, UploadRead, UploadSource } from "./upload-source.js";
import type { HostWarning } from "../platform/platform.js";

/** How a commit reaches the disk: "full" syncs each commit, "os" leaves it to the OS. */
export type Durability = "full" | "os";

/** Options of `DurableQueue.open`. */
export interface DurableQueueOptions {
  /**
   * Where the log lives, its lock held (Node: `openNodeLogStore(dir)`). The queue owns it from
   * here: `close` closes it, and so does an `open` that fails.
   */
  store: LogStore;
  /** Default "full". */
  durability?: Durability;
  /** Most pending (unacknowledged) bytes on disk; default unlimited. */
  maxQueueBytes?: number;
  /**
   * Segment size that triggers a rollover; default 64 MiB. Acknowledged data leaves the disk a
   * whole segment at a time: smaller segments give the space back sooner, in more files.
   */
  segmentBytes?: number;
  /** Called with each report of what recovery or repair cut while opening. */
  onRecovery?: (report: RecoveryReport) => void;
  /**
   * "truncate-at-damage": verify every frame of every segment and cut the log at the first
   * damaged one, dropping later segments (reported through `onRecovery` and `stats().lastRecovery`,
   * committed data lost). Without it, damage throws `QueueCorruptedError`.
   */
  repair?: "truncate-at-damage";
  /**
   * Where the warning goes when opening cut data (code `ASYMGEN_QUEUE_TORN_TAIL` or
   * `ASYMGEN_QUEUE_REPAIRED`): the platform's `warn` (Realm passes it). None when absent.
   */
  warn?: (warning: HostWarning) => void;
}

/** The backlog, as `realm.queueStats()` reports it. */
export interface QueueStats {
  /** Committed documents not yet acknowledged by the server. */
  pendingDocuments: number;
  /** Bytes on disk those documents' frames take. */
  pendingBytes: number;
  /** When the oldest pending transaction was committed; null when nothing is pending. */
  oldestPendingTime: Date | null;
  /** The last thing recovery or repair cut when this queue was opened; null when nothing was cut. */
  lastRecovery: RecoveryReport | null;
}

/** An open queue; one owner at a time (the store's lock). */
export class DurableQueue implements UploadSource {
  private readonly txn = new TransactionBuffer();
  /** Finds frames across the segments (and keeps their readers). */
  private readonly frames: FrameLocator;
  private readonly appender: SegmentAppender;
  private readonly commits: GroupCommit;
  private readonly reader: LogReader;
  private readonly acks: AckTracker;
  /** Next sequence number to commit. */
  private nextSeq: number;
  private closed = false;
  /** Set when a failed sync left the queue unable to tell what is on disk: writes and reads throw until reopen. */
  private failure: Error | null = null;
  /** What opening cut (recovery or repair), last report. */
  private lastRecovery: RecoveryReport | null = null;

  private constructor(
    private readonly store: LogStore,
    private meta: QueueMeta,
    /** How commits reach the disk. */
    readonly durability: Durability,
    private readonly maxQueueBytes: number,
    private readonly segmentBytes: number,
    /** The segments, oldest first; the last one is the active one. Shared with the modules, which see it change. */
    private readonly segments: Segment[],
    activeFile: LogFile,
    lastSeq: number,
    ackedSeq: number,
  ) {
    this.frames = new FrameLocator(store, segments);
    this.appender = new SegmentAppender(segments.at(-1)!, activeFile, segmentBytes, durability === "full", this.frames);
    this.commits = new GroupCommit(lastSeq, {
      lastWrittenSeq: () => this.nextSeq - 1,
      flushWritten: () => this.flushWritten(),
    });
    this.reader = new LogReader(store, segments, this.frames, this.appender, (error) => {
      this.fail(error);
      return this.failure ?? error;
    });
    this.acks = new AckTracker(store, segments, this.frames, this.reader, ackedSeq);
    this.nextSeq = lastSeq + 1;
  }

  /** Opens the queue in `options.store` (an empty store becomes a new queue), recovering a torn tail. */
  static open(options: DurableQueueOptions): DurableQueue {
    const store = options.store;
    let queue: DurableQueue;
    let reports: RecoveryReport[];
    try {
      const durability = options.durability ?? "full";
      if (durability !== "full" && durability !== "os") throw new AsymgenError(`durability must be "full" or "os", not ${String(durability)}`);
      const maxQueueBytes = options.maxQueueBytes ?? Number.POSITIVE_INFINITY;
      if (!(maxQueueBytes > 0)) throw new AsymgenError(`maxQueueBytes must be a positive number, not ${maxQueueBytes}`);
      const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
      if (options.repair !== undefined && options.repair !== "truncate-at-damage") {
        throw new AsymgenError(`repair must be "truncate-at-damage", not ${String(options.repair)}`);
      }
      const recovered = recoverQueue(store, options.repair);
      reports = recovered.reports;
      const active = recovered.segments.at(-1)!;
      const activeFile = store.open(active.name);
      queue = new DurableQueue(store, recovered.meta, durability, maxQueueBytes, segmentBytes, recovered.segments, activeFile, recovered.lastSeq, recovered.ackedSeq);
      try {
        if (durability === "full") {
          // What recovery found may be only in the page cache (a crash before a group flush):
          // under "full" it is made durable now, so that everything below `durableSeq` is synced
          // and a failed flush can cut back to `syncedSize` (see discardUnsynced).
          activeFile.syncData();
          active.syncedSize = active.size;
        }
        queue.acks.deleteAcknowledgedSegments();
        queue.acks.position = queue.findFrameHolding(recovered.ackedSeq + 1);
      } catch (error) {
        queue.closeFiles();
        throw error;
      }
    } catch (error) {
      store.close();
      throw error;
    }
    for (const report of reports) queue.reportRecovery(report, options.onRecovery, options.warn);
    return queue;
  }

  /** Where the queue is (the store's location: its directory on Node). */
  get location(): string {
    return this.store.location;
  }

  /** The queue's id, sent with every upload: created with the queue, changed only by `rotateQueueId`. */
  get queueId(): string {
    return this.meta.queueId;
  }

  /**
   * Gives the queue a new id (a UUID), durably (queue.json replaced atomically), and returns it.
   * Sequence numbers and the acknowledgement cursor stay: the uploader re-sends what is not
   * acknowledged under the new id (the sync session does so when the server says the old id
   * belongs to another user). Segments written before keep naming the old id in their header;
   * queue.json lists it among `previousQueueIds` so reopening still accepts them.
   */
  rotateQueueId(): string {
    this.assertOpen();
    const queueId = newQueueId();
    const stillNamed = new Set(this.segments.map((s) => s.queueId));
    stillNamed.delete(queueId);
    const next: QueueMeta = { queueId, previousQueueIds: [...stillNamed].filter((id) => id !== "") };
    writeQueueMeta(this.store, next);
    this.meta = next;
    return queueId;
  }

  // ---- transactions (the Realm drives these) ----

  /** Whether a transaction is open. */
  get isInTransaction(): boolean {
    return this.txn.isOpen;
  }

  /** Starts a transaction. */
  begin(): void {
    this.assertUsable();
    this.txn.begin();
  }

  /**
   * Encodes one document of `table` into the open transaction with `encode` and returns its
   * sequence number. If `encode` throws, or the document is too large, or it alone would overflow
   * the queue, the document is dropped (the transaction stays usable) and the error propagates.
   */
  append<T>(table: string, encode: (writer: BsonWriter, value: T) => void, value: T): number {
    const pending = this.maxQueueBytes === Number.POSITIVE_INFINITY || !this.txn.isOpen ? 0 : this.acks.pendingBytes();
    return this.nextSeq + this.txn.append(table, encode, value, pending, this.maxQueueBytes);
  }

  /**
   * Starts a transaction whose documents were encoded elsewhere (the browser's page) in the
   * transaction buffer's layout (transaction-buffer.ts `beginEncoded`): the queue takes `buffer`
   * and frames and writes the documents where they are, and returns the buffer it held, for the
   * caller to reuse. Commit or roll back as after `begin`. `docsCrc`: the documents' CRC-32 when
   * the encoder computed it (the frame's checksum then covers only the table section here).
   */
  beginEncoded(buffer: ArrayBuffer, docsEnd: number, tables: readonly string[], docTable: Uint16Array, docsCrc: number | null = null): ArrayBuffer {
    this.assertUsable();
    return this.txn.beginEncoded(buffer, docsEnd, tables, docTable, docsCrc);
  }

  /**
   * Whether committing the open transaction now would seal the active segment and start the next
   * (a rollover, which syncs what the active segment holds and counts it durable). A store whose
   * synchronous syncs only start a commit (IndexedDB) must not roll over with unflushed frames
   * behind: the browser's owner then commits the transaction after the running flush instead
   * (runtime/browser/append-between-flushes.ts).
   */
  commitRollsOver(): boolean {
    if (!this.txn.isOpen || this.txn.docCount === 0) return false;
    const segment = this.appender.segment;
    return segment.size > SEGMENT_HEADER_BYTES && segment.size + this.txn.measureFrame() > this.segmentBytes;
  }

  /** Discards the open transaction. */
  rollback(): void {
    if (this.txn.isOpen) this.txn.end();
  }

  /**
   * Writes the open transaction as one frame and returns its last sequence number (0 for an
   * empty transaction). `sync`: true syncs now (durability "full" and write()); false leaves the
   * flush to a later group flush (`whenDurable`). On any error nothing of the transaction stays
   * on disk and the error propagates. When the sync itself fails under "full", the transactions
   * still waiting for a group flush go too (see `discardUnsynced`).
   */
  commit(sync: boolean): number {
    const txn = this.txn;
    if (!txn.isOpen) throw new TransactionStateError("no write transaction is open");
    const docCount = txn.docCount;
    if (docCount === 0) {
      txn.end();
      return 0;
    }
    try {
      const frameBytes = txn.measureFrame();
      if (this.maxQueueBytes !== Number.POSITIVE_INFINITY) {
        const pending = this.acks.pendingBytes();
        if (pending + frameBytes > this.maxQueueBytes) throw new QueueFullError(this.maxQueueBytes, pending, frameBytes);
      }
      let segment = this.appender.segment;
      if (segment.size > SEGMENT_HEADER_BYTES && segment.size + frameBytes > this.segmentBytes) {
        try {
          segment = this.rollOver();
        } catch (error) {
          const code = diskFullCodeOf(error);
          if (code !== null) throw new QueueDiskFullError(this.store.pathOf(segmentFileName(this.nextSeq)), code);
          throw error;
        }
      }
      const firstSeq = this.nextSeq;
      const commitTime = Date.now();
      txn.buildFrame(firstSeq, commitTime);
      const frameStart = this.appender.append(txn.frameSource, txn.frameOffset, txn.frameLength, txn.frameRest);
      this.nextSeq = firstSeq + docCount;
      if (this.acks.position === null) this.acks.position = { baseSeq: segment.baseSeq, offset: frameStart, firstSeq, docCount, commitTime, end: segment.size };
      if (sync) {
        try {
          this.appender.file.syncData();
        } catch (error) {
          // Under "os" the frames before this one were already reported durable: only this one goes.
          this.discardUnsynced(error as Error, this.durability === "full" ? segment.syncedSize : frameStart);
          const code = diskFullCodeOf(error);
          if (code !== null) throw new QueueDiskFullError(segment.file, code);
          throw error;
        }
        segment.syncedSize = segment.size;
      }
    } finally {
      txn.end();
    }
    const lastSeq = this.nextSeq - 1;
    if (sync || this.durability === "os") this.commits.markDurable(lastSeq);
    return lastSeq;
  }

  /**
   * Resolves once everything committed so far is durable (group commit: one sync for all
   * waiting). Rejects when that flush fails, and then those transactions are gone from the
   * queue (see `discardUnsynced`), or the queue failed (`QueueFailedError`).
   */
  whenDurable(): Promise<void> {
    const seq = this.lastWrittenSeq();
    if (seq <= this.commits.durableSeq) return Promise.resolve();
    if (this.failure !== null) return Promise.reject(this.failure);
    return this.commits.waitFor(seq);
  }

  // ---- UploadSource ----

  /** The highest durable sequence number (what an uploader may send). */
  lastCommittedSeq(): number {
    return this.commits.durableSeq;
  }

  /** The highest committed sequence number, durable or not. */
  lastWrittenSeq(): number {
    return this.nextSeq - 1;
  }

  /** The highest acknowledged sequence number. */
  acknowledgedSeq(): number {
    return this.acks.ackedSeq;
  }

  /** Reads committed documents after `afterSeq` from disk, in order, bounded by count and bytes. */
  readBatch(afterSeq: number, maxCount: number, maxBytes: number): QueuedDocument[] {
    const read = this.readDocuments(afterSeq, maxCount, maxBytes);
    if (read.lastSegment !== null) this.reader.syncForUpload(read.lastSegment, read.lastEnd);
    return read.documents;
  }

  /**
   * Like `readBatch`, but the active segment's sync (the one paid per batch under "os") runs in
   * the background instead of blocking the event loop: the batch comes with a promise that
   * settles once it is on stable storage, and must not be sent before. With `transient`, the
   * documents' bytes are valid only until the next transient read (see `UploadSource`).
   */
  readBatchToUpload(afterSeq: number, maxCount: number, maxBytes: number, transient = false): UploadRead {
    const read = this.readDocuments(afterSeq, maxCount, maxBytes, transient);
    if (read.lastSegment === null) return { documents: read.documents, onStableStorage: null, extent: [] };
    return { documents: read.documents, onStableStorage: this.reader.syncForUploadInBackground(read.lastSegment, read.lastEnd), extent: this.extentOf(read) };
  }

  /** The files (and how much of each) the documents of `read` came from: every segment from the first one's to the last one's. */
  private extentOf(read: DocumentsRead): { name: string; end: number }[] {
    const firstSeq = read.documents[0]!.seq;
    const last = read.lastSegment!;
    const extent: { name: string; end: number }[] = [];
    for (let i = 0; i < this.segments.length; i++) {
      const segment = this.segments[i]!;
      const next = this.segments[i + 1];
      // Segment i holds [baseSeq, next.baseSeq): skip those wholly before the first document.
      if (next !== undefined && next.baseSeq <= firstSeq) continue;
      extent.push({ name: segment.name, end: segment === last ? read.lastEnd : segment.size });
      if (segment === last) break;
    }
    return extent;
  }

  /** Durably moves the acknowledgement cursor to `seq` and deletes fully acknowledged segments. */
  acknowledge(seq: number): void {
    this.assertUsable();
    if (seq <= this.acks.ackedSeq) return;
    const durableSeq = this.commits.durableSeq;
    if (seq > durableSeq) throw new AsymgenError(`cannot acknowledge ${seq}: only ${durableSeq} are committed`);
    this.acks.record(seq);
    this.acks.position = this.findFrameHolding(seq + 1);
    this.acks.deleteAcknowledgedSegments();
  }

  /** Calls `listener` with the last durable sequence number after each durable commit. */
  onCommit(listener: (lastSeq: number) => void): () => void {
    return this.commits.onDurable(listener);
  }

  // ---- stats and lifecycle ----

  /** The backlog on disk, and what opening it cut. */
  stats(): QueueStats {
    return {
      pendingDocuments: this.lastWrittenSeq() - this.acks.ackedSeq,
      pendingBytes: this.acks.pendingBytes(),
      oldestPendingTime: this.acks.oldestPendingTime(),
      lastRecovery: this.lastRecovery,
    };
  }

  /** Where the segment files are, oldest first (for tests). */
  segmentFiles(): string[] {
    return this.segments.map((s) => s.file);
  }

  /** Whether `close` was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Flushes what is committed, closes the files and the store (releasing its lock). Idempotent. */
  close(): void {
    if (this.closed) return;
    if (this.txn.isOpen) throw new TransactionStateError("cannot close inside a write transaction");
    let flushError: Error | null = null;
    let trimmed = false;
    try {
      // Leaves the file as long as its frames, as recovery would (and tools reading it expect).
      trimmed = this.appender.trimPreallocation();
    } catch {
      // Harmless: the next open cuts the zero tail.
    }
    if (this.failure === null && (this.commits.durableSeq < this.nextSeq - 1 || (trimmed && this.durability === "full"))) {
      const active = this.appender.segment;
      try {
        // A full sync, not a data sync: after a trim the new size is what must reach the disk.
        this.appender.file.syncAll();
        active.syncedSize = active.size;
        this.commits.markDurable(this.nextSeq - 1);
      } catch (error) {
        flushError = error as Error;
        // The transactions still waiting for their flush are rejected below: cut them off so
        // that the next open does not find them (see whenDurable).
        this.discardUnsynced(flushError, this.durability === "full" ? active.syncedSize : active.size);
      }
    }
    this.closed = true;
    this.commits.close(flushError ?? new TransactionStateError("the queue was closed"));
    this.closeFiles();
    if (flushError) throw flushError;
  }

  // ---- internals ----

  private closeFiles(): void {
    this.frames.close();
    this.appender.close();
    this.store.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new TransactionStateError("the queue is closed");
  }

  private assertUsable(): void {
    this.assertOpen();
    if (this.failure !== null) throw this.failure;
  }

  /** The documents `readBatch` returns, and where the last of them ends on disk. */
  private readDocuments(afterSeq: number, maxCount: number, maxBytes: number, transient = false): DocumentsRead {
    this.assertUsable();
    const fromSeq = Math.max(afterSeq, this.acks.ackedSeq) + 1;
    const durableSeq = this.commits.durableSeq;
    if (fromSeq > durableSeq || maxCount < 1) return { documents: [], lastSegment: null, lastEnd: 0 };
    return this.reader.read(this.findFrameHolding(fromSeq), fromSeq, durableSeq, maxCount, maxBytes, transient);
  }

  /**
   * Seals the active segment and starts the next. Under "full" the sealed segment is flushed
   * first if a group flush is still owed. Under "os" it is flushed in the background (a
   * blocking sync of 64 MiB would stall ingest for a long moment) so that, soon after, a
   * power loss cannot leave a torn sealed segment either.
   */
  private rollOver(): Segment {
    const old = this.appender.segment;
    // A sealed segment must end with its last frame (readers treat every byte up to its size as
    // frames), so the zero tail is cut, durably, before the next segment exists.
    const trimmed = this.appender.trimPreallocation();
    if (this.durability === "full" && (trimmed || this.commits.durableSeq < this.nextSeq - 1)) {
      try {
        // A full sync, not a data sync: the new (smaller) size is what must reach the disk.
        this.appender.file.syncAll();
      } catch (error) {
        this.discardUnsynced(error as Error, old.syncedSize);
        throw error;
      }
      old.syncedSize = old.size;
      this.commits.markDurable(this.nextSeq - 1);
    }
    const { segment, file } = createSegment(this.store, this.queueId, this.nextSeq);
    const oldFile = this.appender.switchTo(segment, file);
    this.segments.push(segment);
    if (this.durability === "os") {
      const sealedSize = old.size;
      void oldFile.syncInBackground().then(
        () => {
          old.syncedSize = Math.max(old.syncedSize, sealedSize);
        },
        (error: unknown) => this.fail(error as Error),
      );
    }
    // Closed once that sync ends (the store's handles wait for their background syncs).
    oldFile.close();
    return segment;
  }

  /**
   * The group commit's flush: syncs the active segment in the background; resolves true when
   * what was written before it is durable. A failure cuts back what it covered (the waiting
   * transactions; see discardUnsynced) or, when that cannot be, fails the queue.
   */
  private flushWritten(): Promise<boolean> {
    const target = this.nextSeq - 1;
    const segment = this.appender.segment;
    const flushedSize = segment.size;
    const cuts = this.appender.cuts;
    return this.appender.file.syncInBackground().then(
      () => {
        if (this.closed || cuts !== this.appender.cuts) return false;
        if (segment === this.appender.segment) segment.syncedSize = Math.max(segment.syncedSize, flushedSize);
        return true;
      },
      (cause: unknown) => {
        if (this.closed) return false;
        // A store that learns of a full disk only when it syncs (IndexedDB's quota) reports it
        // here: the waiting writeAsync transactions get the typed error, as a refused write would.
        const code = diskFullCodeOf(cause);
        const error = code === null ? cause : new QueueDiskFullError(segment.file, code);
        if (this.commits.durableSeq >= target || this.txn.isOpen) {
          // A sync that started later (a rollover's) reported these bytes durable (after a failed
          // sync that cannot be trusted, and they cannot be taken back either); or a transaction
          // driven without Realm is open, and its sequence numbers cannot move.
          this.fail(error as Error);
        } else {
          this.discardUnsynced(error as Error, segment === this.appender.segment ? segment.syncedSize : -1);
        }
        return false;
      },
    );
  }

  /**
   * After a failed sync: cuts the active segment back to `cutTo` (the end of what is durable)
   * so that transactions whose durability was refused cannot be uploaded later (an app
   * retrying them would create duplicates), rewinds the sequence numbers to follow the durable
   * ones, and rejects every waiting `whenDurable` (their bytes are gone). If the cut is
   * impossible (`cutTo` < 0: the bytes are not in the active segment; the truncate fails),
   * the queue is failed instead.
   */
  private discardUnsynced(error: Error, cutTo: number): void {
    if (cutTo < SEGMENT_HEADER_BYTES) {
      this.fail(error);
    } else {
      try {
        this.appender.cutBack(cutTo);
        this.nextSeq = this.commits.durableSeq + 1;
        const ackPos = this.acks.position;
        if (ackPos !== null && ackPos.firstSeq >= this.nextSeq) this.acks.position = null;
        this.reader.forgetFrom(this.nextSeq);
      } catch {
        this.fail(error);
      }
    }
    this.commits.rejectWaiters(error);
  }

  /** Marks the queue failed: writes, reads and acknowledgements throw `QueueFailedError` until it is reopened. */
  private fail(cause: Error): void {
    if (this.failure !== null) return;
    this.failure = new QueueFailedError(this.store.location, cause);
    this.commits.fail(this.failure);
  }

  /** Keeps `report` as `lastRecovery`, hands it to `onRecovery` and warns when data was cut. */
  private reportRecovery(report: RecoveryReport, onRecovery: ((report: RecoveryReport) => void) | undefined, warn: ((warning: HostWarning) => void) | undefined): void {
    this.lastRecovery = report;
    if (report.kind !== "zero-tail" && warn !== undefined) {
      // A warning with a code, so that logs show it even without a handler.
      warn({
        type: "AsymgenQueueRecoveryWarning",
        code: report.kind === "repair" ? "ASYMGEN_QUEUE_REPAIRED" : "ASYMGEN_QUEUE_TORN_TAIL",
        message: `asymgen queue ${report.kind === "repair" ? "repair" : "recovery"} cut ${report.bytesCut} bytes of ${report.file} at offset ${report.offset}: ${report.reason}`,
        detail: JSON.stringify(report),
      });
    }
    onRecovery?.(report);
  }

  /** The frame holding `seq` (or the first after it), starting from the closest known position. */
  private findFrameHolding(seq: number): FramePosition | null {
    if (seq >= this.nextSeq) return null;
    return this.frames.findFrameHolding(seq, [this.reader.readHint, this.acks.position]);
  }
}
