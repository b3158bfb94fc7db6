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
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { randomUUID } from "node:crypto";
import { BsonWriter } from "../encode/bson-writer.js";
import {
  AsymgenError,
  DocumentTooLargeError,
  QueueCorruptedError,
  QueueDiskFullError,
  QueueFullError,
  TransactionStateError,
} from "../errors.js";
import { readAckCursor, writeAckCursor } from "./ack-cursor.js";
import { crc32 } from "./crc32.js";
import { FrameHeadBuilder, decodeFramePayload } from "./frame-codec.js";
import {
  DEFAULT_SEGMENT_BYTES,
  FORMAT_VERSION,
  FRAME_HEADER_BYTES,
  MAX_DOCUMENT_BYTES,
  MAX_FRAME_PAYLOAD_BYTES,
  SEGMENT_HEADER_BYTES,
  SEGMENT_MAGIC,
  parseSegmentFileName,
  segmentFileName,
  uuidToBytes,
  writeU64,
} from "./queue-format.js";
import { QueueLock } from "./queue-lock.js";
import { SegmentReader } from "./segment-reader.js";
import type { QueuedDocument, UploadSource } from "./upload-source.js";
import { syncDirectory, writeFileAtomically } from "./write-file-atomically.js";

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
}

/** The backlog, as `realm.queueStats()` reports it. */
export interface QueueStats {
  /** Committed documents not yet acknowledged by the server. */
  pendingDocuments: number;
  /** Bytes on disk those documents' frames take. */
  pendingBytes: number;
  /** When the oldest pending transaction was committed; null when nothing is pending. */
  oldestPendingTime: Date | null;
}

/** What `flushCount` and friends expose for tests and benchmarks. */
export interface QueueCounters {
  /** fdatasync calls made for commits (sync commits and group flushes). */
  commitSyncs: number;
  /** Group flushes (each one fdatasync shared by the transactions committed meanwhile). */
  groupFlushes: number;
  /** Frames written. */
  frames: number;
}

interface Segment {
  baseSeq: number;
  file: string;
  /** Bytes of complete frames (plus the header): where the next frame goes. */
  size: number;
}

/** The first frame holding an unacknowledged document. */
interface FramePosition {
  baseSeq: number;
  offset: number;
  firstSeq: number;
  docCount: number;
  commitTime: number;
  /** Where the frame ends (the next frame's offset). */
  end: number;
}

interface FlushWaiter {
  seq: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

const META_FILE = "queue.json";
const META_FORMAT = "asymgen-queue";
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
  readonly counters: QueueCounters = { commitSyncs: 0, groupFlushes: 0, frames: 0 };

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
  private readonly readers = new Map<number, SegmentReader>();
  private readonly listeners = new Set<(lastSeq: number) => void>();

  private waiters: FlushWaiter[] = [];
  private flushScheduled = false;
  private flushInFlight = false;
  private readonly closeAfterFlush: number[] = [];
  private closed = false;
  /** Bytes in the active segment's file: its frames, then (durability "full") written zeros. */
  private allocatedEnd: number;
  /** Whether to preallocate in the active segment (off after the disk refused the zeros). */
  private preallocate = true;

  private constructor(
    /** The queue directory. */
    readonly dir: string,
    /** The queue's stable id. */
    readonly queueId: string,
    /** How commits reach the disk. */
    readonly durability: Durability,
    private readonly maxQueueBytes: number,
    private readonly segmentBytes: number,
    private readonly lock: QueueLock,
    private readonly segments: Segment[],
    private fd: number,
    lastSeq: number,
    ackedSeq: number,
  ) {
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
      return DurableQueue.recover(dir, durability, maxQueueBytes, segmentBytes, lock);
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  private static recover(dir: string, durability: Durability, maxQueueBytes: number, segmentBytes: number, lock: QueueLock): DurableQueue {
    const names = fs.readdirSync(dir);
    // Temporary files are the unfinished half of an atomic replace: the old file still stands.
    for (const name of names) if (name.endsWith(".tmp")) fs.rmSync(path.join(dir, name), { force: true });
    const segments: Segment[] = [];
    for (const name of names) {
      const baseSeq = parseSegmentFileName(name);
      if (baseSeq !== null) segments.push({ baseSeq, file: path.join(dir, name), size: 0 });
    }
    segments.sort((a, b) => a.baseSeq - b.baseSeq);
    const queueId = readOrCreateMeta(dir, segments.length > 0);
    const ackedSeq = readAckCursor(dir);

    for (const segment of segments) {
      const reader = new SegmentReader(segment.file);
      try {
        const header = reader.readHeader();
        if (header.baseSeq !== segment.baseSeq) throw new QueueCorruptedError(segment.file, 0, `header says base ${header.baseSeq}`);
        if (header.queueId !== queueId) throw new QueueCorruptedError(segment.file, 0, `segment of another queue (${header.queueId})`);
      } finally {
        reader.close();
      }
      segment.size = fs.statSync(segment.file).size;
    }

    let lastSeq: number;
    const active = segments.at(-1);
    if (active === undefined) {
      lastSeq = ackedSeq;
      segments.push(createSegment(dir, queueId, ackedSeq + 1));
    } else {
      lastSeq = recoverActiveSegment(active);
      if (ackedSeq > lastSeq) {
        // The server acknowledged documents this disk no longer has (durability "os" and a power
        // loss). Reusing their sequence numbers would make the server skip new documents as
        // retries, so numbering resumes after the acknowledged ones.
        lastSeq = ackedSeq;
        segments.push(createSegment(dir, queueId, ackedSeq + 1));
      }
    }
    const writeSegment = segments.at(-1)!;
    const fd = fs.openSync(writeSegment.file, "r+");
    const queue = new DurableQueue(dir, queueId, durability, maxQueueBytes, segmentBytes, lock, segments, fd, lastSeq, ackedSeq);
    try {
      queue.deleteAcknowledgedSegments();
      queue.ackPos = queue.findFrameHolding(ackedSeq + 1);
    } catch (error) {
      queue.closeFiles();
      throw error;
    }
    return queue;
  }

  // ---- transactions (the Realm drives these) ----

  /** Whether a transaction is open. */
  get isInTransaction(): boolean {
    return this.inTransaction;
  }

  /** Starts a transaction. */
  begin(): void {
    this.assertOpen();
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
   * transaction stays on disk and the error propagates.
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
        this.writeFrame(segment, source, offset, length, more, frameStart, sync);
      } catch (error) {
        if (!preallocating || !(error instanceof QueueDiskFullError)) throw error;
        // The disk has room for the frame but not for the zeros ahead of it: write the frame
        // alone (writeFrame cut the file back), and stop preallocating in this segment.
        this.preallocate = false;
        this.writeFrame(segment, source, offset, length, null, frameStart, sync);
      }
      segment.size = frameStart + frameBytes;
      this.nextSeq = firstSeq + docCount;
      this.counters.frames++;
      if (this.ackPos === null) this.ackPos = { baseSeq: segment.baseSeq, offset: frameStart, firstSeq, docCount, commitTime, end: segment.size };
    } finally {
      this.endTransaction();
    }
    const lastSeq = this.nextSeq - 1;
    if (sync || this.durability === "os") this.markDurable(lastSeq);
    return lastSeq;
  }

  /** Resolves once everything committed so far is durable (group commit: one fdatasync for all waiting). */
  whenDurable(): Promise<void> {
    const seq = this.nextSeq - 1;
    if (seq <= this.durableSeq) return Promise.resolve();
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

  /** The highest acknowledged sequence number. */
  acknowledgedSeq(): number {
    return this.ackedSeq;
  }

  /** Reads committed documents after `afterSeq` from disk, in order, bounded by count and bytes. */
  readBatch(afterSeq: number, maxCount: number, maxBytes: number): QueuedDocument[] {
    this.assertOpen();
    const out: QueuedDocument[] = [];
    const fromSeq = Math.max(afterSeq, this.ackedSeq) + 1;
    if (fromSeq > this.durableSeq || maxCount < 1) return out;
    let position = this.findFrameHolding(fromSeq);
    let bytes = 0;
    const accept = (length: number): boolean => {
      if (out.length >= maxCount) return false;
      if (out.length > 0 && bytes + length > maxBytes) return false;
      bytes += length;
      return true;
    };
    let seq = fromSeq;
    while (position !== null && position.firstSeq <= this.durableSeq) {
      const segment = this.segmentByBase(position.baseSeq);
      const reader = this.readerFor(segment);
      const frame = reader.readFrameOrThrow(position.offset, segment.size, true);
      this.readHint = position;
      const added = decodeFramePayload(frame.payload, frame.header.docCount, frame.header.tableCount, frame.header.firstSeq, seq, out, accept, {
        file: segment.file,
        offset: position.offset,
      });
      seq += added;
      if (seq < frame.header.firstSeq + frame.header.docCount) break; // a limit stopped us inside this frame
      const next = this.nextFramePosition(segment, frame.end);
      const expected = frame.header.firstSeq + frame.header.docCount;
      if (next !== null && next.firstSeq !== expected) {
        throw new QueueCorruptedError(this.segmentByBase(next.baseSeq).file, next.offset, `frame sequence ${next.firstSeq} where ${expected} was expected`);
      }
      position = next;
    }
    return out;
  }

  /** Durably moves the acknowledgement cursor to `seq` and deletes fully acknowledged segments. */
  acknowledge(seq: number): void {
    this.assertOpen();
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

  /** The backlog on disk. */
  stats(): QueueStats {
    return {
      pendingDocuments: this.nextSeq - 1 - this.ackedSeq,
      pendingBytes: this.pendingBytes(),
      oldestPendingTime: this.ackPos === null ? null : new Date(this.ackPos.commitTime),
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
    if (this.durableSeq < this.nextSeq - 1 || (trimmed && this.durability === "full")) {
      try {
        fs.fsyncSync(this.fd);
        this.counters.commitSyncs++;
        this.markDurable(this.nextSeq - 1);
      } catch (error) {
        flushError = error as Error;
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
    for (const reader of this.readers.values()) reader.close();
    this.readers.clear();
    if (this.flushInFlight) this.closeAfterFlush.push(this.fd);
    else fs.closeSync(this.fd);
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

  /**
   * Writes bytes `[offset, offset + length)` of `source`, then `more` if given (preallocation
   * zeros, or the documents after a separately built head), at `at` in one system call and,
   * with `sync`, fdatasyncs. On failure the file is cut back to `at`.
   */
  private writeFrame(segment: Segment, source: Uint8Array, offset: number, length: number, more: Uint8Array | null, at: number, sync: boolean): void {
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
      if (sync) {
        fs.fdatasyncSync(this.fd);
        this.counters.commitSyncs++;
      }
    } catch (error) {
      // Leave the segment exactly as it was: nothing of the frame may stay behind (the
      // preallocated zeros after `at` go too; they are only an optimisation).
      try {
        fs.ftruncateSync(this.fd, at);
        this.allocatedEnd = at;
      } catch {
        // The frame stays a torn tail, which the next open cuts off.
      }
      this.readers.get(segment.baseSeq)?.invalidate();
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
      // fsync, not fdatasync: the new (smaller) size is what must reach the disk.
      fs.fsyncSync(oldFd);
      this.counters.commitSyncs++;
      this.markDurable(this.nextSeq - 1);
    }
    const segment = createSegment(this.dir, this.queueId, this.nextSeq);
    this.fd = fs.openSync(segment.file, "r+");
    this.allocatedEnd = segment.size;
    this.preallocate = true;
    this.segments.push(segment);
    if (this.durability === "os") {
      fs.fdatasync(oldFd, () => fs.close(oldFd, () => undefined));
    } else if (this.flushInFlight) {
      this.closeAfterFlush.push(oldFd);
    } else {
      fs.closeSync(oldFd);
    }
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
    this.flushInFlight = true;
    this.counters.groupFlushes++;
    this.counters.commitSyncs++;
    fs.fdatasync(this.fd, (error) => {
      this.flushInFlight = false;
      for (const fd of this.closeAfterFlush.splice(0)) fs.closeSync(fd);
      if (error) {
        const failed = this.waiters.filter((w) => w.seq <= target);
        this.waiters = this.waiters.filter((w) => w.seq > target);
        for (const waiter of failed) waiter.reject(error);
      } else if (!this.closed) {
        this.markDurable(target);
      }
      if (!this.closed && this.waiters.length > 0) this.scheduleFlush();
    });
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

  private segmentByBase(baseSeq: number): Segment {
    const segment = this.segments.find((s) => s.baseSeq === baseSeq);
    if (segment === undefined) throw new AsymgenError(`internal: no segment ${baseSeq}`);
    return segment;
  }

  private readerFor(segment: Segment): SegmentReader {
    let reader = this.readers.get(segment.baseSeq);
    if (reader === undefined) {
      // Two readers at most: the acknowledgement scan and the upload read rarely need more.
      if (this.readers.size >= 2) {
        for (const [base, old] of this.readers) {
          old.close();
          this.readers.delete(base);
          break;
        }
      }
      reader = new SegmentReader(segment.file);
      this.readers.set(segment.baseSeq, reader);
    }
    return reader;
  }

  /** The position of the frame after one ending at `end` in `segment`, or null past the last. */
  private nextFramePosition(segment: Segment, end: number): FramePosition | null {
    let index = this.segments.indexOf(segment);
    let offset = end;
    let current = segment;
    for (;;) {
      if (offset < current.size) {
        const frame = this.readerFor(current).readFrameOrThrow(offset, current.size, false);
        const { firstSeq, docCount, commitTime } = frame.header;
        return { baseSeq: current.baseSeq, offset, firstSeq, docCount, commitTime, end: frame.end };
      }
      index++;
      const next = this.segments[index];
      if (next === undefined) return null;
      current = next;
      offset = SEGMENT_HEADER_BYTES;
    }
  }

  /** The frame holding `seq` (or the first frame after it), scanning headers only; null if none. */
  private findFrameHolding(seq: number): FramePosition | null {
    if (seq >= this.nextSeq) return null;
    let index = 0;
    for (let i = 0; i < this.segments.length; i++) if (this.segments[i]!.baseSeq <= seq) index = i;
    const segment = this.segments[index]!;
    // Start from the closest known frame at or before `seq` in that segment.
    let position: FramePosition | null = null;
    for (const hint of [this.readHint, this.ackPos]) {
      if (hint !== null && hint.baseSeq === segment.baseSeq && hint.firstSeq <= seq && (position === null || hint.firstSeq > position.firstSeq)) {
        position = hint;
      }
    }
    if (position === null) position = this.nextFramePosition(segment, SEGMENT_HEADER_BYTES);
    while (position !== null && position.firstSeq + position.docCount <= seq) {
      const current = this.segmentByBase(position.baseSeq);
      const next = this.nextFramePosition(current, position.end);
      if (next !== null && next.firstSeq !== position.firstSeq + position.docCount) {
        const file = this.segmentByBase(next.baseSeq).file;
        throw new QueueCorruptedError(file, next.offset, `frame sequence ${next.firstSeq} where ${position.firstSeq + position.docCount} was expected`);
      }
      position = next;
    }
    return position;
  }

  private deleteAcknowledgedSegments(): void {
    let deleted = false;
    while (this.segments.length > 1 && this.segments[1]!.baseSeq - 1 <= this.ackedSeq) {
      const segment = this.segments.shift()!;
      const reader = this.readers.get(segment.baseSeq);
      if (reader !== undefined) {
        reader.close();
        this.readers.delete(segment.baseSeq);
      }
      if (this.readHint?.baseSeq === segment.baseSeq) this.readHint = null;
      fs.rmSync(segment.file, { force: true });
      deleted = true;
    }
    // Not strictly needed for correctness (a resurrected segment is deleted again at open),
    // but it keeps the disk usage the app sees honest after a crash.
    if (deleted) syncDirectory(this.dir);
  }
}

/**
 * Checks that bytes `[start, end)` of `buf` are exactly `count` BSON documents back to back, as
 * the frame format needs: a generated encoder that wrote anything else would make the frame
 * unreadable, so it is refused here rather than found by the uploader.
 */
function checkDocumentLengths(buf: Uint8Array, start: number, end: number, count: number): void {
  let p = start;
  let n = 0;
  while (p + 4 <= end) {
    const length = buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24);
    if (length < 5) break;
    p += length;
    n++;
  }
  if (p !== end || n !== count) {
    throw new AsymgenError(`a model encoder did not write exactly one BSON document per ingest (${n} documents in ${end - start} bytes for ${count} ingests)`);
  }
}

/** Reads queue.json, or creates it (with a new queue id) for a new queue. */
function readOrCreateMeta(dir: string, hasSegments: boolean): string {
  const file = path.join(dir, META_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    if (hasSegments) throw new QueueCorruptedError(file, 0, "queue.json is missing but segments exist");
    const queueId = randomUUID();
    writeFileAtomically(file, `${JSON.stringify({ format: META_FORMAT, version: FORMAT_VERSION, queueId })}\n`);
    return queueId;
  }
  let meta: { format?: unknown; version?: unknown; queueId?: unknown };
  try {
    meta = JSON.parse(text) as typeof meta;
  } catch {
    throw new QueueCorruptedError(file, 0, "queue.json is not valid JSON");
  }
  if (meta.format !== META_FORMAT || typeof meta.queueId !== "string") throw new QueueCorruptedError(file, 0, "not an asymgen queue");
  if (meta.version !== FORMAT_VERSION) throw new QueueCorruptedError(file, 0, `unsupported queue format version ${String(meta.version)}`);
  return meta.queueId;
}

/** Creates an empty segment durably: header written to a temp file, fsynced, renamed, dir fsynced. */
function createSegment(dir: string, queueId: string, baseSeq: number): Segment {
  const header = new Uint8Array(SEGMENT_HEADER_BYTES);
  const view = new DataView(header.buffer);
  view.setUint32(0, SEGMENT_MAGIC, true);
  view.setUint32(4, FORMAT_VERSION, true);
  writeU64(view, 8, baseSeq);
  header.set(uuidToBytes(queueId), 16);
  view.setFloat64(32, Date.now(), true);
  view.setUint32(44, crc32(header.subarray(0, 44)), true);
  const file = path.join(dir, segmentFileName(baseSeq));
  writeFileAtomically(file, header);
  return { baseSeq, file, size: SEGMENT_HEADER_BYTES };
}

/**
 * Scans the last segment, verifying every frame, cuts a torn tail off and returns the last
 * committed sequence number. A torn tail is what an interrupted append leaves: an incomplete
 * last frame; a last frame that fails its checksum and is followed by nothing or by zeros only
 * (the preallocated tail under durability "full"); or bytes after the last good frame in which
 * no valid frame header starts (zeros included). Anything else that fails is damage to
 * committed data: `QueueCorruptedError`.
 */
function recoverActiveSegment(segment: Segment): number {
  const reader = new SegmentReader(segment.file);
  try {
    const end = segment.size;
    let offset = SEGMENT_HEADER_BYTES;
    let expected = segment.baseSeq;
    let cutAt: number | null = null;
    for (;;) {
      const found = reader.inspect(offset, end, true);
      if (found.kind === "end") break;
      if (found.kind === "frame") {
        if (found.header.firstSeq !== expected) {
          throw new QueueCorruptedError(segment.file, offset, `frame sequence ${found.header.firstSeq} where ${expected} was expected`);
        }
        expected += found.header.docCount;
        offset = found.end;
        continue;
      }
      if (found.kind === "incomplete") cutAt = offset;
      else if (found.kind === "bad-payload") {
        // Torn: the frame ends at end-of-file, or only zeros (preallocation) follow it.
        if (found.end !== end && !reader.isZeroFrom(found.end, end)) throw new QueueCorruptedError(segment.file, offset, found.reason);
        cutAt = offset;
      } else if (reader.isZeroFrom(offset, end)) {
        // The preallocated zero tail of durability "full" (or a crash's unwritten blocks).
        cutAt = offset;
      } else {
        const next = reader.findValidFrameAfter(offset + 1, end);
        if (next !== null) throw new QueueCorruptedError(segment.file, offset, found.reason);
        cutAt = offset;
      }
      break;
    }
    if (cutAt !== null) {
      const fd = fs.openSync(segment.file, "r+");
      try {
        fs.ftruncateSync(fd, cutAt);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      segment.size = cutAt;
    }
    return expected - 1;
  } finally {
    reader.close();
  }
}
