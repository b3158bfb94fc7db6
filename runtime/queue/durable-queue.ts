/**
 * The durable on-device queue: an append-only log of segment files, one checksummed frame per
 * committed transaction (format: queue-format.ts). It owns the BsonWriter that generated
 * encoders write into, so a transaction's documents are encoded once, in place, behind room
 * reserved for the frame head, and the whole frame reaches the disk in one positioned write.
 * Under durability "full" the active segment is preallocated with zeros ahead of the last frame
 * so that each commit's fdatasync flushes data only (see PREALLOCATE_BYTES).
 *
 * Memory stays bounded whatever the backlog: the queue keeps per-segment sizes and one position
 * (the first unacknowledged frame), and reads for upload stream from disk.
 *
 * Only bytes on stable storage are ever uploaded: `readBatch` fdatasyncs what it is about to
 * return when that is not synced yet (durability "os", or data recovered after a crash), and
 * `readBatchToUpload` hands back a promise of that sync, run on the thread pool. Were a power
 * loss to take frames the server already stored, reopening would give their sequence numbers to
 * new documents, and the server would skip those as retries.
 *
 * Recovery (queue-recovery.ts) cuts a torn tail and reports it; an explicit repair
 * (queue-repair.ts) cuts the log at damage; queue.json is handled by queue-meta.ts.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { randomUUID } from "node:crypto";
import { BsonWriter } from "../encode/bson-writer.js";
import {
  AsymgenError,
  DocumentTooLargeError,
  QueueDiskFullError,
  QueueFailedError,
  QueueFullError,
  TransactionStateError,
} from "../errors.js";
import { writeAckCursor } from "./ack-cursor.js";
import { createSegment, type Segment } from "./create-segment.js";
import { FrameHeadBuilder, checkDocumentLengths, decodeFramePayload } from "./frame-codec.js";
import {
  DEFAULT_SEGMENT_BYTES,
  FRAME_HEADER_BYTES,
  MAX_DOCUMENT_BYTES,
  MAX_FRAME_PAYLOAD_BYTES,
  SEGMENT_HEADER_BYTES,
  segmentFileName,
} from "./queue-format.js";
import { QueueLock } from "./queue-lock.js";
import { writeQueueMeta, type QueueMeta } from "./queue-meta.js";
import { recoverQueue, type RecoveryReport } from "./queue-recovery.js";
import { FrameLocator, type FramePosition } from "./frame-locator.js";
import type { QueuedDocument, UploadRead, UploadSource } from "./upload-source.js";
import { syncDirectory } from "../node/write-file-atomically.js";

/** How a commit reaches the disk: "full" fdatasyncs each commit, "os" leaves it to the OS. */
export type Durability = "full" | "os";

/** Options of `DurableQueue.open`. */
export interface DurableQueueOptions {
  /** The queue directory (created if missing). */
  path: string;
  /** Default "full". */
  durability?: Durability;
  /** Most pending (unacknowledged) bytes on disk; default unlimited. */
  maxQueueBytes?: number;
  /** Segment size that triggers a rollover; default 64 MiB (small values are for tests). */
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
   * Test-only: called before each fdatasync/fsync of segment data with what it is for; a throw
   * makes that sync fail as a failing disk would.
   */
  syncHook?: (purpose: SyncPurpose) => void;
}

/** Why segment data is being synced (see `DurableQueueOptions.syncHook`). */
export type SyncPurpose = "commit" | "group" | "upload" | "seal" | "open" | "close";

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

/** What the queue counts, for tests and benchmarks (`DurableQueue.counters`). */
export interface QueueCounters {
  /** fdatasync/fsync calls made for commits (sync commits, group flushes, sealing a segment). */
  commitSyncs: number;
  /** fdatasync calls `readBatch` and `readBatchToUpload` made so as to upload only what is on stable storage. */
  uploadSyncs: number;
  /** Group flushes (each one fdatasync shared by the transactions committed meanwhile). */
  groupFlushes: number;
  /** Frames written. */
  frames: number;
}

/** Closes a descriptor whose last background sync just ended, inside that sync's callback. */
function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // Nothing to undo, and a throw here would skip the sync's own outcome, which callers wait for.
  }
}

/** What `readDocuments` found: the documents, and the end of the last frame they came from. */
interface DocumentsRead {
  documents: QueuedDocument[];
  lastSegment: Segment | null;
  lastEnd: number;
}

interface FlushWaiter {
  seq: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** After a transaction this large, the writer is replaced so its memory is returned. */
const WRITER_SHRINK_BYTES = 8 * 1024 * 1024;
const DISK_FULL_CODES = new Set(["ENOSPC", "EFBIG", "EDQUOT"]);
/**
 * Under durability "full", the active segment is extended with written zeros this far ahead of
 * the last frame. fdatasync after an append that grows the file must also commit the new size
 * and block map (on ext4 a journal commit); after an overwrite of already-written blocks it only
 * flushes the data, which measured 1.5–2× the commits per second for small transactions.
 * (Node exposes no fallocate, and a sparse ftruncate leaves unwritten extents that cost the
 * same journal commit.) Recovery cuts the zero tail; rollover and close trim it.
 */
const PREALLOCATE_BYTES = 1024 * 1024;
/** Frames at least this large append without preallocating: the zeros would cost more than they save. */
const PREALLOCATE_MAX_FRAME_BYTES = 256 * 1024;
/**
 * Each transaction's documents start this far into the writer; the frame head (whose size
 * depends on the document count, known only at commit) is written into the end of the gap, so
 * the frame is one range of one buffer: one write(2) (a plain write of 0.5–500 KB measured 4–20%
 * faster than a writev of the same bytes in two pieces), one checksum call over the payload, and
 * no views or copies. A head larger than the gap (over ~4,000 documents) falls back to writev.
 */
const HEAD_GAP_BYTES = 8 * 1024;
let zeros: Uint8Array | null = null;

/** An open queue directory; one process at a time (see queue-lock.ts). */
export class DurableQueue implements UploadSource {
  /** Counters for tests and benchmarks. */
  readonly counters: QueueCounters = { commitSyncs: 0, uploadSyncs: 0, groupFlushes: 0, frames: 0 };

  private writer = new BsonWriter();
  private readonly head = new FrameHeadBuilder();
  private inTransaction = false;
  private txnDocs = 0;
  private txnTables: string[] = [];
  private txnLastTable = "";
  private txnLastTableIndex = 0;
  private docTable = new Uint16Array(1024);

  /** Next sequence number to commit. */
  private nextSeq: number;
  /** Highest sequence number known durable per the configured durability (what uploads see). */
  private durableSeq: number;
  private ackedSeq: number;
  private ackPos: FramePosition | null = null;
  private readHint: FramePosition | null = null;
  /** Finds frames across the segments (and keeps their readers). */
  private readonly frames: FrameLocator;
  private readonly listeners = new Set<(lastSeq: number) => void>();

  private waiters: FlushWaiter[] = [];
  private flushScheduled = false;
  private flushInFlight = false;
  /** fdatasyncs running on the thread pool (group flushes, upload syncs, a sealed segment's), by descriptor. */
  private readonly backgroundSyncs = new Map<number, number>();
  /** Descriptors to close once the background syncs on them end (see closeWhenSyncsEnd). */
  private readonly closeAfterSyncs = new Set<number>();
  /** The upload sync running on the active segment, shared by later reads it covers. */
  private uploadSync: { segment: Segment; size: number; cuts: number; done: Promise<void> } | null = null;
  /** Counts discardUnsynced's cuts, so that a sync started before one does not vouch for bytes written after it. */
  private unsyncedCuts = 0;
  private closed = false;
  /** Bytes in the active segment's file: its frames, then (durability "full") written zeros. */
  private allocatedEnd: number;
  /** Whether to preallocate in the active segment (off after the disk refused the zeros). */
  private preallocate = true;
  /** Set when a failed sync left the queue unable to tell what is on disk: writes and reads throw until reopen. */
  private failure: Error | null = null;
  /** What opening cut (recovery or repair), last report. */
  private lastRecovery: RecoveryReport | null = null;
  private readonly syncHook: ((purpose: SyncPurpose) => void) | undefined;

  private constructor(
    /** The queue directory. */
    readonly dir: string,
    private meta: QueueMeta,
    /** How commits reach the disk. */
    readonly durability: Durability,
    private readonly maxQueueBytes: number,
    private readonly segmentBytes: number,
    private readonly lock: QueueLock,
    private readonly segments: Segment[],
    private fd: number,
    lastSeq: number,
    ackedSeq: number,
    syncHook: ((purpose: SyncPurpose) => void) | undefined,
  ) {
    this.syncHook = syncHook;
    this.frames = new FrameLocator(segments);
    this.nextSeq = lastSeq + 1;
    this.durableSeq = lastSeq;
    this.ackedSeq = ackedSeq;
    // Recovery leaves the active segment's file exactly as long as its frames.
    this.allocatedEnd = segments.at(-1)!.size;
  }

  /** Opens (creating if needed) the queue at `options.path`, recovering a torn tail. */
  static open(options: DurableQueueOptions): DurableQueue {
    const dir = path.resolve(options.path);
    const durability = options.durability ?? "full";
    if (durability !== "full" && durability !== "os") throw new AsymgenError(`durability must be "full" or "os", not ${String(durability)}`);
    const maxQueueBytes = options.maxQueueBytes ?? Number.POSITIVE_INFINITY;
    if (!(maxQueueBytes > 0)) throw new AsymgenError(`maxQueueBytes must be a positive number, not ${maxQueueBytes}`);
    const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    fs.mkdirSync(dir, { recursive: true });
    const lock = QueueLock.acquire(dir);
    try {
      return DurableQueue.recover(dir, durability, maxQueueBytes, segmentBytes, lock, options);
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  private static recover(dir: string, durability: Durability, maxQueueBytes: number, segmentBytes: number, lock: QueueLock, options: DurableQueueOptions): DurableQueue {
    if (options.repair !== undefined && options.repair !== "truncate-at-damage") {
      throw new AsymgenError(`repair must be "truncate-at-damage", not ${String(options.repair)}`);
    }
    const { meta, segments, lastSeq, ackedSeq, reports } = recoverQueue(dir, options.repair);
    const writeSegment = segments.at(-1)!;
    const fd = fs.openSync(writeSegment.file, "r+");
    const queue = new DurableQueue(dir, meta, durability, maxQueueBytes, segmentBytes, lock, segments, fd, lastSeq, ackedSeq, options.syncHook);
    try {
      if (durability === "full") {
        // What recovery found may be only in the page cache (a crash before a group flush):
        // under "full" it is made durable now, so that everything below `durableSeq` is synced
        // and a failed flush can cut back to `syncedSize` (see discardUnsynced).
        queue.syncFile(fd, "open", false);
        writeSegment.syncedSize = writeSegment.size;
      }
      queue.deleteAcknowledgedSegments();
      queue.ackPos = queue.findFrameHolding(ackedSeq + 1);
    } catch (error) {
      queue.closeFiles();
      throw error;
    }
    for (const report of reports) queue.reportRecovery(report, options.onRecovery);
    return queue;
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
    const queueId = randomUUID();
    const stillNamed = new Set(this.segments.map((s) => s.queueId));
    stillNamed.delete(queueId);
    const next: QueueMeta = { queueId, previousQueueIds: [...stillNamed].filter((id) => id !== "") };
    writeQueueMeta(this.dir, next);
    this.meta = next;
    return queueId;
  }

  // ---- transactions (the Realm drives these) ----

  /** Whether a transaction is open. */
  get isInTransaction(): boolean {
    return this.inTransaction;
  }

  /** Starts a transaction. */
  begin(): void {
    this.assertUsable();
    if (this.inTransaction) throw new TransactionStateError("a write transaction is already open; transactions cannot be nested");
    this.inTransaction = true;
    this.txnDocs = 0;
    this.txnTables.length = 0;
    this.txnLastTable = "";
    this.writer.truncate(0);
    this.writer.reserve(HEAD_GAP_BYTES);
  }

  /**
   * Encodes one document of `table` into the open transaction with `encode` and returns its
   * sequence number. If `encode` throws, or the document is too large, or it alone would overflow
   * the queue, the document is dropped (the transaction stays usable) and the error propagates.
   */
  append<T>(table: string, encode: (writer: BsonWriter, value: T) => void, value: T): number {
    if (!this.inTransaction) throw new TransactionStateError("ingest must be called inside realm.write()");
    const writer = this.writer;
    const start = writer.length;
    try {
      encode(writer, value);
    } catch (error) {
      writer.truncate(start);
      throw error;
    }
    const size = writer.length - start;
    if (size > MAX_DOCUMENT_BYTES) {
      writer.truncate(start);
      throw new DocumentTooLargeError(table, size, MAX_DOCUMENT_BYTES);
    }
    if (size < 5) {
      writer.truncate(start);
      throw new AsymgenError(`the encoder of "${table}" did not write a BSON document (${size} bytes written)`);
    }
    // Fail early when the transaction can no longer fit (the commit checks exactly).
    if (this.maxQueueBytes !== Number.POSITIVE_INFINITY) {
      const pending = this.pendingBytes();
      const frameBytes = writer.length - HEAD_GAP_BYTES + FRAME_HEADER_BYTES;
      if (pending + frameBytes > this.maxQueueBytes) {
        writer.truncate(start);
        throw new QueueFullError(this.maxQueueBytes, pending, frameBytes);
      }
    }
    let tableIndex: number;
    if (table === this.txnLastTable) {
      tableIndex = this.txnLastTableIndex;
    } else {
      tableIndex = this.txnTables.indexOf(table);
      if (tableIndex < 0) tableIndex = this.txnTables.push(table) - 1;
      this.txnLastTable = table;
      this.txnLastTableIndex = tableIndex;
    }
    if (this.txnDocs === this.docTable.length) {
      const grown = new Uint16Array(this.docTable.length * 2);
      grown.set(this.docTable);
      this.docTable = grown;
    }
    this.docTable[this.txnDocs] = tableIndex;
    return this.nextSeq + this.txnDocs++;
  }

  /** Discards the open transaction. */
  rollback(): void {
    if (!this.inTransaction) return;
    this.endTransaction();
  }

  /**
   * Writes the open transaction as one frame and returns its last sequence number (0 for an
   * empty transaction). `sync`: true fdatasyncs now (durability "full" and write()); false
   * leaves the flush to a later group flush (`whenDurable`). On any error nothing of the
   * transaction stays on disk and the error propagates. When the fdatasync itself fails under
   * "full", the transactions still waiting for a group flush go too (see `discardUnsynced`).
   */
  commit(sync: boolean): number {
    if (!this.inTransaction) throw new TransactionStateError("no write transaction is open");
    const docCount = this.txnDocs;
    if (docCount === 0) {
      this.endTransaction();
      return 0;
    }
    try {
      const writer = this.writer;
      const docsEnd = writer.length;
      checkDocumentLengths(writer.bytes, HEAD_GAP_BYTES, docsEnd, docCount);
      const headLength = FrameHeadBuilder.measure(this.txnTables, docCount);
      const frameBytes = headLength + docsEnd - HEAD_GAP_BYTES;
      if (frameBytes - FRAME_HEADER_BYTES > MAX_FRAME_PAYLOAD_BYTES) {
        throw new AsymgenError(`a transaction of ${frameBytes} bytes is too large for one frame; split it`);
      }
      if (this.maxQueueBytes !== Number.POSITIVE_INFINITY) {
        const pending = this.pendingBytes();
        if (pending + frameBytes > this.maxQueueBytes) throw new QueueFullError(this.maxQueueBytes, pending, frameBytes);
      }
      let segment = this.segments.at(-1)!;
      if (segment.size > SEGMENT_HEADER_BYTES && segment.size + frameBytes > this.segmentBytes) {
        try {
          segment = this.rollOver();
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code !== undefined && DISK_FULL_CODES.has(code)) throw new QueueDiskFullError(path.join(this.dir, segmentFileName(this.nextSeq)), code);
          throw error;
        }
      }
      const firstSeq = this.nextSeq;
      const commitTime = Date.now();
      const frameStart = segment.size;
      const frameEnd = frameStart + frameBytes;
      // The frame: `length` bytes of `source` from `offset`, then `more` (zeros or documents).
      let source: Uint8Array;
      let offset: number;
      let length: number;
      let more: Uint8Array | null = null;
      let preallocating = false;
      if (headLength <= HEAD_GAP_BYTES) {
        source = writer.bytes;
        offset = HEAD_GAP_BYTES - headLength;
        length = frameBytes;
        this.head.buildInPlace(source, offset, docsEnd, this.txnTables, this.docTable, docCount, firstSeq, commitTime);
        if (this.durability === "full" && this.preallocate && frameEnd > this.allocatedEnd && frameBytes < PREALLOCATE_MAX_FRAME_BYTES) {
          const zeroBytes = Math.min(frameEnd + PREALLOCATE_BYTES, this.segmentBytes) - frameEnd;
          if (zeroBytes > 0) {
            if (zeros === null) zeros = new Uint8Array(PREALLOCATE_BYTES);
            more = zeros.subarray(0, zeroBytes);
            preallocating = true;
          }
        }
      } else {
        more = writer.subarray(HEAD_GAP_BYTES, docsEnd);
        source = this.head.build(this.txnTables, this.docTable, docCount, more, firstSeq, commitTime);
        offset = 0;
        length = headLength;
      }
      try {
        this.writeFrame(segment, source, offset, length, more, frameStart);
      } catch (error) {
        if (!preallocating || !(error instanceof QueueDiskFullError)) throw error;
        // The disk has room for the frame but not for the zeros ahead of it: write the frame
        // alone (writeFrame cut the file back), and stop preallocating in this segment.
        this.preallocate = false;
        this.writeFrame(segment, source, offset, length, null, frameStart);
      }
      segment.size = frameStart + frameBytes;
      this.nextSeq = firstSeq + docCount;
      this.counters.frames++;
      if (this.ackPos === null) this.ackPos = { baseSeq: segment.baseSeq, offset: frameStart, firstSeq, docCount, commitTime, end: segment.size };
      if (sync) {
        try {
          this.syncFile(this.fd, "commit", true);
        } catch (error) {
          // Under "os" the frames before this one were already reported durable: only this one goes.
          this.discardUnsynced(error as Error, this.durability === "full" ? segment.syncedSize : frameStart);
          const code = (error as NodeJS.ErrnoException).code;
          if (code !== undefined && DISK_FULL_CODES.has(code)) throw new QueueDiskFullError(segment.file, code);
          throw error;
        }
        segment.syncedSize = segment.size;
      }
    } finally {
      this.endTransaction();
    }
    const lastSeq = this.nextSeq - 1;
    if (sync || this.durability === "os") this.markDurable(lastSeq);
    return lastSeq;
  }

  /**
   * Resolves once everything committed so far is durable (group commit: one fdatasync for all
   * waiting). Rejects when that flush fails, and then those transactions are gone from the
   * queue (see `discardUnsynced`), or the queue failed (`QueueFailedError`).
   */
  whenDurable(): Promise<void> {
    const seq = this.lastWrittenSeq();
    if (seq <= this.durableSeq) return Promise.resolve();
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ seq, resolve, reject });
      this.scheduleFlush();
    });
  }

  // ---- UploadSource ----

  /** The highest durable sequence number (what an uploader may send). */
  lastCommittedSeq(): number {
    return this.durableSeq;
  }

  /** The highest committed sequence number, durable or not. */
  lastWrittenSeq(): number {
    return this.nextSeq - 1;
  }

  /** The highest acknowledged sequence number. */
  acknowledgedSeq(): number {
    return this.ackedSeq;
  }

  /** Reads committed documents after `afterSeq` from disk, in order, bounded by count and bytes. */
  readBatch(afterSeq: number, maxCount: number, maxBytes: number): QueuedDocument[] {
    const read = this.readDocuments(afterSeq, maxCount, maxBytes);
    if (read.lastSegment !== null) this.syncForUpload(read.lastSegment, read.lastEnd);
    return read.documents;
  }

  /**
   * Like `readBatch`, but the active segment's fdatasync (the one paid per batch under "os")
   * runs on the thread pool instead of blocking the event loop: the batch comes with a promise
   * that settles once it is on stable storage, and must not be sent before.
   */
  readBatchToUpload(afterSeq: number, maxCount: number, maxBytes: number): UploadRead {
    const read = this.readDocuments(afterSeq, maxCount, maxBytes);
    if (read.lastSegment === null) return { documents: read.documents, onStableStorage: null };
    return { documents: read.documents, onStableStorage: this.syncForUploadInBackground(read.lastSegment, read.lastEnd) };
  }

  /** The documents `readBatch` returns, and where the last of them ends on disk. */
  private readDocuments(afterSeq: number, maxCount: number, maxBytes: number): DocumentsRead {
    this.assertUsable();
    const out: QueuedDocument[] = [];
    const fromSeq = Math.max(afterSeq, this.ackedSeq) + 1;
    if (fromSeq > this.durableSeq || maxCount < 1) return { documents: out, lastSegment: null, lastEnd: 0 };
    let position = this.findFrameHolding(fromSeq);
    let count = 0;
    let bytes = 0;
    const accept = (length: number): boolean => {
      if (count >= maxCount) return false;
      if (count > 0 && bytes + length > maxBytes) return false;
      count++;
      bytes += length;
      return true;
    };
    let seq = fromSeq;
    let lastSegment: Segment | null = null;
    let lastEnd = 0;
    while (position !== null && position.firstSeq <= this.durableSeq) {
      const segment = this.frames.segmentByBase(position.baseSeq);
      const reader = this.frames.readerFor(segment);
      const frame = reader.readFrameOrThrow(position.offset, segment.size, true);
      this.readHint = position;
      // A repair may leave a gap in the numbers between segments: resume at the frame's first.
      seq = Math.max(seq, frame.header.firstSeq);
      const added = decodeFramePayload(frame.payload, frame.header.docCount, frame.header.tableCount, frame.header.firstSeq, seq, out, accept, {
        file: segment.file,
        offset: position.offset,
      });
      if (added > 0) {
        lastSegment = segment;
        lastEnd = frame.end;
      }
      seq += added;
      if (seq < frame.header.firstSeq + frame.header.docCount) break; // a limit stopped us inside this frame
      position = this.frames.next(position);
    }
    return { documents: out, lastSegment, lastEnd };
  }

  /**
   * Makes sure every byte up to `end` of `upTo` (and all of every segment before it) is on
   * stable storage before documents from there are uploaded: one fdatasync per segment that has
   * unsynced bytes, none when they are synced already. A failure fails the queue (writes and
   * reads throw until reopen): once an fdatasync has failed, a later one may succeed without
   * the lost pages ever reaching the disk, so nothing read from here could be trusted.
   */
  private syncForUpload(upTo: Segment, end: number): void {
    for (const segment of this.segments) {
      const active = segment === this.segments.at(-1);
      const needed = segment === upTo ? end : segment.size;
      if (segment.syncedSize < needed) {
        try {
          if (active) {
            this.syncFile(this.fd, "upload", false);
          } else {
            const fd = fs.openSync(segment.file, "r");
            try {
              this.syncFile(fd, "upload", false);
            } finally {
              fs.closeSync(fd);
            }
          }
        } catch (error) {
          this.fail(error as Error);
          throw this.failure!;
        }
        this.counters.uploadSyncs++;
        segment.syncedSize = segment.size;
      }
      if (segment === upTo) return;
    }
  }

  /**
   * `syncForUpload` with the active segment's fdatasync on the thread pool; null when nothing up
   * to `end` of `upTo` needs it. Sealed segments (unsynced only after a reopen, or just after a
   * rollover under "os": once per segment) are synced at once, as `syncForUpload` does. A sync
   * already running that covers `end` is shared. A failure fails the queue, as there.
   */
  private syncForUploadInBackground(upTo: Segment, end: number): Promise<void> | null {
    const active = this.segments.at(-1)!;
    if (upTo !== active) {
      this.syncForUpload(upTo, end);
      return null;
    }
    if (this.segments.length > 1) this.syncForUpload(this.segments.at(-2)!, this.segments.at(-2)!.size);
    if (active.syncedSize >= end) return null;
    const running = this.uploadSync;
    if (running !== null && running.segment === active && running.size >= end && running.cuts === this.unsyncedCuts) return running.done;
    // Everything written so far: a later batch finds it synced, or shares this sync.
    const size = active.size;
    const cuts = this.unsyncedCuts;
    this.counters.uploadSyncs++;
    const done = new Promise<void>((resolve, reject) => {
      this.syncInBackground(this.fd, "upload", (error) => {
        if (this.uploadSync?.done === done) this.uploadSync = null;
        if (error !== null) {
          this.fail(error);
          reject(this.failure ?? error);
          return;
        }
        // After a cut (discardUnsynced) the bytes past it are new and were not part of this sync.
        if (cuts === this.unsyncedCuts) active.syncedSize = Math.max(active.syncedSize, size);
        resolve();
      });
    });
    // A caller may drop the batch unsent (the session's read-ahead that turned out not to
    // follow on): the failure is latched in the queue (`fail`), so an unobserved rejection is
    // not an error of its own and must not crash the app as an unhandled one.
    done.catch(() => undefined);
    this.uploadSync = { segment: active, size, cuts, done };
    return done;
  }

  /** Durably moves the acknowledgement cursor to `seq` and deletes fully acknowledged segments. */
  acknowledge(seq: number): void {
    this.assertUsable();
    if (seq <= this.ackedSeq) return;
    if (seq > this.durableSeq) throw new AsymgenError(`cannot acknowledge ${seq}: only ${this.durableSeq} are committed`);
    writeAckCursor(this.dir, seq);
    this.ackedSeq = seq;
    this.ackPos = this.findFrameHolding(seq + 1);
    this.deleteAcknowledgedSegments();
  }

  /** Calls `listener` with the last durable sequence number after each durable commit. */
  onCommit(listener: (lastSeq: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- stats and lifecycle ----

  /** The backlog on disk, and what opening it cut. */
  stats(): QueueStats {
    return {
      pendingDocuments: this.lastWrittenSeq() - this.ackedSeq,
      pendingBytes: this.pendingBytes(),
      oldestPendingTime: this.ackPos === null ? null : new Date(this.ackPos.commitTime),
      lastRecovery: this.lastRecovery,
    };
  }

  /** The segment files, oldest first (for tests). */
  segmentFiles(): string[] {
    return this.segments.map((s) => s.file);
  }

  /** Whether `close` was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Flushes what is committed, closes the files and releases the lock. Idempotent. */
  close(): void {
    if (this.closed) return;
    if (this.inTransaction) throw new TransactionStateError("cannot close inside a write transaction");
    let flushError: Error | null = null;
    let trimmed = false;
    try {
      // Leaves the file as long as its frames, as recovery would (and tools reading it expect).
      trimmed = this.trimPreallocation(this.segments.at(-1)!);
    } catch {
      // Harmless: the next open cuts the zero tail.
    }
    if (this.failure === null && (this.durableSeq < this.nextSeq - 1 || (trimmed && this.durability === "full"))) {
      const active = this.segments.at(-1)!;
      try {
        // fsync, not fdatasync: after a trim the new size is what must reach the disk.
        this.syncFile(this.fd, "close", true, true);
        active.syncedSize = active.size;
        this.markDurable(this.nextSeq - 1);
      } catch (error) {
        flushError = error as Error;
        // The transactions still waiting for their flush are rejected below: cut them off so
        // that the next open does not find them (see whenDurable).
        this.discardUnsynced(flushError, this.durability === "full" ? active.syncedSize : active.size);
      }
    }
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) waiter.reject(flushError ?? new TransactionStateError("the queue was closed"));
    this.closeFiles();
    this.listeners.clear();
    if (flushError) throw flushError;
  }

  // ---- internals ----

  private closeFiles(): void {
    this.frames.close();
    this.closeWhenSyncsEnd(this.fd);
    this.lock.release();
  }

  private endTransaction(): void {
    this.inTransaction = false;
    this.txnDocs = 0;
    if (this.writer.length > WRITER_SHRINK_BYTES) this.writer = new BsonWriter();
    this.writer.truncate(0);
  }

  private assertOpen(): void {
    if (this.closed) throw new TransactionStateError("the queue is closed");
  }

  private assertUsable(): void {
    this.assertOpen();
    if (this.failure !== null) throw this.failure;
  }

  /**
   * Writes bytes `[offset, offset + length)` of `source`, then `more` if given (preallocation
   * zeros, or the documents after a separately built head), at `at` in one system call. On
   * failure the file is cut back to `at`.
   */
  private writeFrame(segment: Segment, source: Uint8Array, offset: number, length: number, more: Uint8Array | null, at: number): void {
    const total = length + (more === null ? 0 : more.length);
    try {
      let written = more === null ? fs.writeSync(this.fd, source, offset, length, at) : fs.writevSync(this.fd, [source.subarray(offset, offset + length), more], at);
      // A short write on a regular file means the disk filled up mid-frame; writing the rest
      // either succeeds or fails with the real reason (ENOSPC, EFBIG…).
      while (written < total) {
        const rest: Uint8Array[] = written < length ? [source.subarray(offset + written, offset + length)] : [];
        if (more !== null) rest.push(written <= length ? more : more.subarray(written - length));
        const n = fs.writevSync(this.fd, rest, at + written);
        if (n === 0) throw Object.assign(new Error(`short write: ${written} of ${total} bytes`), { code: "ENOSPC" });
        written += n;
      }
      if (at + total > this.allocatedEnd) this.allocatedEnd = at + total;
    } catch (error) {
      // Leave the segment exactly as it was: nothing of the frame may stay behind (the
      // preallocated zeros after `at` go too; they are only an optimisation).
      try {
        fs.ftruncateSync(this.fd, at);
        this.allocatedEnd = at;
      } catch {
        // The frame stays a torn tail, which the next open cuts off.
      }
      this.frames.invalidate(segment.baseSeq);
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== undefined && DISK_FULL_CODES.has(code)) throw new QueueDiskFullError(segment.file, code);
      throw error;
    }
  }

  /**
   * Seals the active segment and starts the next. Under "full" the sealed segment is flushed
   * first if a group flush is still owed. Under "os" it is flushed in the background (a
   * blocking fdatasync of 64 MiB would stall ingest for a long moment) so that, soon after, a
   * power loss cannot leave a torn sealed segment either.
   */
  private rollOver(): Segment {
    const oldFd = this.fd;
    const old = this.segments.at(-1)!;
    // A sealed segment must end with its last frame (readers treat every byte up to its size as
    // frames), so the zero tail is cut, durably, before the next segment exists.
    const trimmed = this.trimPreallocation(old);
    if (this.durability === "full" && (trimmed || this.durableSeq < this.nextSeq - 1)) {
      try {
        // fsync, not fdatasync: the new (smaller) size is what must reach the disk.
        this.syncFile(oldFd, "seal", true, true);
      } catch (error) {
        this.discardUnsynced(error as Error, old.syncedSize);
        throw error;
      }
      old.syncedSize = old.size;
      this.markDurable(this.nextSeq - 1);
    }
    const segment = createSegment(this.dir, this.queueId, this.nextSeq);
    this.fd = fs.openSync(segment.file, "r+");
    this.allocatedEnd = segment.size;
    this.preallocate = true;
    this.segments.push(segment);
    if (this.durability === "os") {
      const sealedSize = old.size;
      this.syncInBackground(oldFd, null, (error) => {
        if (error) this.fail(error);
        else old.syncedSize = Math.max(old.syncedSize, sealedSize);
      });
    }
    this.closeWhenSyncsEnd(oldFd);
    return segment;
  }

  /** Cuts the active segment's preallocated zeros; returns whether there were any. */
  private trimPreallocation(segment: Segment): boolean {
    if (this.allocatedEnd <= segment.size) return false;
    fs.ftruncateSync(this.fd, segment.size);
    this.allocatedEnd = segment.size;
    return true;
  }

  private markDurable(seq: number): void {
    if (seq <= this.durableSeq) return;
    this.durableSeq = seq;
    if (this.waiters.length > 0) {
      const still: FlushWaiter[] = [];
      for (const waiter of this.waiters) {
        if (waiter.seq <= seq) waiter.resolve();
        else still.push(waiter);
      }
      this.waiters = still;
    }
    for (const listener of this.listeners) {
      try {
        listener(seq);
      } catch {
        // A listener's failure must not fail a commit that is already on disk.
      }
    }
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.flushInFlight) return;
    this.flushScheduled = true;
    // setImmediate lets every transaction committed in this turn of the event loop join the flush.
    setImmediate(() => this.runFlush());
  }

  private runFlush(): void {
    this.flushScheduled = false;
    if (this.closed || this.waiters.length === 0) return;
    const target = this.nextSeq - 1;
    const segment = this.segments.at(-1)!;
    const flushedSize = segment.size;
    const cuts = this.unsyncedCuts;
    this.flushInFlight = true;
    this.counters.groupFlushes++;
    this.counters.commitSyncs++;
    this.syncInBackground(this.fd, "group", (error) => {
      this.flushInFlight = false;
      if (this.closed) return;
      if (error) {
        if (this.durableSeq >= target || this.inTransaction) {
          // A sync that started later (a rollover's) reported these bytes durable (after a failed
          // fdatasync that cannot be trusted, and they cannot be taken back either); or a
          // transaction driven without Realm is open, and its sequence numbers cannot move.
          this.fail(error);
        } else {
          this.discardUnsynced(error, segment === this.segments.at(-1) ? segment.syncedSize : -1);
        }
      } else if (cuts === this.unsyncedCuts) {
        if (segment === this.segments.at(-1)) segment.syncedSize = Math.max(segment.syncedSize, flushedSize);
        this.markDurable(target);
      }
      // After a cut meanwhile (another sync failed, discardUnsynced rewound the sequence numbers
      // and rejected these waiters), this flush vouches for nothing: the bytes it covered past
      // the cut are gone, and what was written there since is not covered. Waiters left get a
      // flush of their own.
      if (!this.closed && this.failure === null && this.waiters.length > 0) this.scheduleFlush();
    });
  }

  /**
   * fdatasyncs `fd` on the thread pool, then calls `done`; with a `purpose`, through the test
   * hook, whose throw `done` gets as the sync's error. A descriptor stays open until the syncs on
   * it have ended (closeWhenSyncsEnd): a closed descriptor's number is reused, and the sync
   * would then flush, or fail on, some other file.
   */
  private syncInBackground(fd: number, purpose: SyncPurpose | null, done: (error: Error | null) => void): void {
    let injected: Error | null = null;
    try {
      if (purpose !== null) this.syncHook?.(purpose);
    } catch (error) {
      injected = error as Error;
    }
    this.backgroundSyncs.set(fd, (this.backgroundSyncs.get(fd) ?? 0) + 1);
    fs.fdatasync(fd, (ioError) => {
      const left = this.backgroundSyncs.get(fd)! - 1;
      if (left > 0) {
        this.backgroundSyncs.set(fd, left);
      } else {
        this.backgroundSyncs.delete(fd);
        if (this.closeAfterSyncs.delete(fd)) closeQuietly(fd);
      }
      done(injected ?? ioError);
    });
  }

  /** Closes `fd` now, or once the background syncs on it have ended (other descriptors' syncs do not hold it open). */
  private closeWhenSyncsEnd(fd: number): void {
    if (this.backgroundSyncs.has(fd)) this.closeAfterSyncs.add(fd);
    else fs.closeSync(fd);
  }

  /**
   * fdatasyncs (`full`: fsyncs) `fd` for `purpose`, through the test hook; `countAsCommit`
   * counts it in `counters.commitSyncs`.
   */
  private syncFile(fd: number, purpose: SyncPurpose, countAsCommit: boolean, full = false): void {
    this.syncHook?.(purpose);
    if (full) fs.fsyncSync(fd);
    else fs.fdatasyncSync(fd);
    if (countAsCommit) this.counters.commitSyncs++;
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
    const active = this.segments.at(-1)!;
    if (cutTo < SEGMENT_HEADER_BYTES) {
      this.fail(error);
    } else {
      try {
        fs.ftruncateSync(this.fd, cutTo);
        fs.fsyncSync(this.fd);
        active.size = cutTo;
        active.syncedSize = Math.min(active.syncedSize, cutTo);
        this.unsyncedCuts++;
        this.allocatedEnd = cutTo;
        this.nextSeq = this.durableSeq + 1;
        this.frames.invalidate(active.baseSeq);
        if (this.ackPos !== null && this.ackPos.firstSeq >= this.nextSeq) this.ackPos = null;
        if (this.readHint !== null && this.readHint.firstSeq >= this.nextSeq) this.readHint = null;
      } catch {
        this.fail(error);
      }
    }
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }

  /** Marks the queue failed: writes, reads and acknowledgements throw `QueueFailedError` until it is reopened. */
  private fail(cause: Error): void {
    if (this.failure !== null) return;
    this.failure = new QueueFailedError(this.dir, cause);
    for (const waiter of this.waiters.splice(0)) waiter.reject(this.failure);
  }

  /** Keeps `report` as `lastRecovery`, hands it to `onRecovery` and warns when data was cut. */
  private reportRecovery(report: RecoveryReport, onRecovery: ((report: RecoveryReport) => void) | undefined): void {
    this.lastRecovery = report;
    if (report.kind !== "zero-tail") {
      // A structured warning (code and detail), so that logs show it even without a handler.
      process.emitWarning(`asymgen queue ${report.kind === "repair" ? "repair" : "recovery"} cut ${report.bytesCut} bytes of ${report.file} at offset ${report.offset}: ${report.reason}`, {
        type: "AsymgenQueueRecoveryWarning",
        code: report.kind === "repair" ? "ASYMGEN_QUEUE_REPAIRED" : "ASYMGEN_QUEUE_TORN_TAIL",
        detail: JSON.stringify(report),
      });
    }
    onRecovery?.(report);
  }

  private pendingBytes(): number {
    const pos = this.ackPos;
    if (pos === null) return 0;
    let total = 0;
    for (const segment of this.segments) {
      if (segment.baseSeq < pos.baseSeq) continue;
      total += segment.baseSeq === pos.baseSeq ? segment.size - pos.offset : segment.size - SEGMENT_HEADER_BYTES;
    }
    return total;
  }

  /** The frame holding `seq` (or the first after it), starting from the closest known position. */
  private findFrameHolding(seq: number): FramePosition | null {
    if (seq >= this.nextSeq) return null;
    return this.frames.findFrameHolding(seq, [this.readHint, this.ackPos]);
  }

  private deleteAcknowledgedSegments(): void {
    let deleted = false;
    while (this.segments.length > 1 && this.segments[1]!.baseSeq - 1 <= this.ackedSeq) {
      const segment = this.segments.shift()!;
      this.frames.forget(segment.baseSeq);
      if (this.readHint?.baseSeq === segment.baseSeq) this.readHint = null;
      fs.rmSync(segment.file, { force: true });
      deleted = true;
    }
    // Not strictly needed for correctness (a resurrected segment is deleted again at open),
    // but it keeps the disk usage the app sees honest after a crash.
    if (deleted) syncDirectory(this.dir);
  }
}
