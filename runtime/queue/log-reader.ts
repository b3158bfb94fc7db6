/**
 * Reads committed documents for upload, streaming frames from the segments (nothing is kept in
 * memory between reads), and makes sure that only bytes on stable storage are ever uploaded:
 * what is about to be returned is synced first when it is not yet (durability "os", or data
 * recovered after a crash), at once (`syncForUpload`) or on the thread pool
 * (`syncForUploadInBackground`). Were a power loss to take frames the server already stored,
 * reopening would give their sequence numbers to new documents, and the server would skip
 * those as retries.
 */
import type { Segment } from "./create-segment.js";
import { decodeFramePayload } from "./frame-codec.js";
import type { FrameLocator, FramePosition } from "./frame-locator.js";
import type { LogStore } from "./log-store.js";
import { ReusedDocumentBytes } from "./reused-document-bytes.js";
import type { SegmentAppender } from "./segment-appender.js";
import type { QueuedDocument } from "./upload-source.js";

/** What `read` found: the documents, and the end of the last frame they came from. */
export interface DocumentsRead {
  documents: QueuedDocument[];
  lastSegment: Segment | null;
  lastEnd: number;
}

/** Reads the log for the uploader. */
export class LogReader {
  /** Where the last read ended: the next read usually starts there. */
  private hint: FramePosition | null = null;
  /** The upload sync running on the active segment, shared by later reads it covers. */
  private uploadSync: { segment: Segment; size: number; cuts: number; done: Promise<void> } | null = null;
  /** Where transient reads copy their documents' bytes (see `read`). */
  private readonly reused = new ReusedDocumentBytes();

  /**
   * `segments` is the queue's own list (oldest first, the last one `appender`'s). A failed sync
   * goes to `onSyncFailed`, which fails the queue and returns the error to throw.
   */
  constructor(
    private readonly store: LogStore,
    private readonly segments: readonly Segment[],
    private readonly frames: FrameLocator,
    private readonly appender: SegmentAppender,
    private readonly onSyncFailed: (error: Error) => Error,
  ) {}

  /** The position the last read reached, a starting point for finding frames. */
  get readHint(): FramePosition | null {
    return this.hint;
  }

  /** Forgets the read position when it is at `seq` or after (those frames were cut). */
  forgetFrom(seq: number): void {
    if (this.hint !== null && this.hint.firstSeq >= seq) this.hint = null;
  }

  /** Forgets the read position inside a segment about to be deleted. */
  forgetSegment(baseSeq: number): void {
    if (this.hint?.baseSeq === baseSeq) this.hint = null;
  }

  /**
   * The documents from `fromSeq` on, starting at `position` (the frame holding `fromSeq`), up to
   * `durableSeq`, bounded by count and bytes (at least one document when one is there). With
   * `transient`, the documents' bytes are valid only until the next transient read (they share
   * one reused buffer): for a caller that copies them out at once.
   */
  read(position: FramePosition | null, fromSeq: number, durableSeq: number, maxCount: number, maxBytes: number, transient = false): DocumentsRead {
    const out: QueuedDocument[] = [];
    let count = 0;
    let bytes = 0;
    const accept = (length: number): boolean => {
      if (count >= maxCount) return false;
      if (count > 0 && bytes + length > maxBytes) return false;
      count++;
      bytes += length;
      return true;
    };
    const reused = transient ? this.reused : undefined;
    reused?.reset();
    let seq = fromSeq;
    let lastSegment: Segment | null = null;
    let lastEnd = 0;
    while (position !== null && position.firstSeq <= durableSeq) {
      const segment = this.frames.segmentByBase(position.baseSeq);
      const reader = this.frames.readerFor(segment);
      const frame = reader.readFrameOrThrow(position.offset, segment.size, true);
      this.hint = position;
      // A repair may leave a gap in the numbers between segments: resume at the frame's first.
      seq = Math.max(seq, frame.header.firstSeq);
      const added = decodeFramePayload(
        frame.payload,
        frame.header.docCount,
        frame.header.tableCount,
        frame.header.firstSeq,
        seq,
        out,
        accept,
        { file: segment.file, offset: position.offset },
        reused,
      );
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
   * stable storage before documents from there are uploaded: one sync per segment that has
   * unsynced bytes, none when they are synced already. A failure fails the queue (writes and
   * reads throw until reopen): once an fdatasync has failed, a later one may succeed without
   * the lost pages ever reaching the disk, so nothing read from here could be trusted.
   */
  syncForUpload(upTo: Segment, end: number): void {
    const active = this.appender.segment;
    for (const segment of this.segments) {
      const needed = segment === upTo ? end : segment.size;
      if (segment.syncedSize < needed) {
        try {
          if (segment === active) {
            this.appender.file.syncData();
          } else {
            const file = this.store.open(segment.name);
            try {
              file.syncData();
            } finally {
              file.close();
            }
          }
        } catch (error) {
          throw this.onSyncFailed(error as Error);
        }
        segment.syncedSize = segment.size;
      }
      if (segment === upTo) return;
    }
  }

  /**
   * `syncForUpload` with the active segment's sync on the thread pool; null when nothing up to
   * `end` of `upTo` needs it. Sealed segments (unsynced only after a reopen, or just after a
   * rollover under "os": once per segment) are synced at once, as `syncForUpload` does. A sync
   * already running that covers `end` is shared. A failure fails the queue, as there.
   */
  syncForUploadInBackground(upTo: Segment, end: number): Promise<void> | null {
    const active = this.appender.segment;
    if (upTo !== active) {
      this.syncForUpload(upTo, end);
      return null;
    }
    if (this.segments.length > 1) this.syncForUpload(this.segments.at(-2)!, this.segments.at(-2)!.size);
    if (active.syncedSize >= end) return null;
    const running = this.uploadSync;
    if (running !== null && running.segment === active && running.size >= end && running.cuts === this.appender.cuts) return running.done;
    // Everything written so far: a later batch finds it synced, or shares this sync.
    const size = active.size;
    const cuts = this.appender.cuts;
    const done: Promise<void> = this.appender.file.syncInBackground().then(
      () => {
        if (this.uploadSync?.done === done) this.uploadSync = null;
        // After a cut (the queue's discardUnsynced) the bytes past it are new and were not part of this sync.
        if (cuts === this.appender.cuts) active.syncedSize = Math.max(active.syncedSize, size);
      },
      (error: unknown) => {
        if (this.uploadSync?.done === done) this.uploadSync = null;
        throw this.onSyncFailed(error as Error);
      },
    );
    // A caller may drop the batch unsent (the session's read-ahead that turned out not to
    // follow on): the failure is latched in the queue, so an unobserved rejection is not an
    // error of its own and must not crash the app as an unhandled one.
    done.catch(() => undefined);
    this.uploadSync = { segment: active, size, cuts, done };
    return done;
  }
}
