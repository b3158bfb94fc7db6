/**
 * Writes frames at the end of the active segment, in one write each, and (durability "full")
 * keeps written zeros ahead of the last frame so that a commit's sync flushes data only; cuts the
 * segment back when a write or a sync fails. The queue decides when to sync and roll over; this
 * module owns the active segment's file and where its bytes end.
 */
import { QueueDiskFullError } from "../errors.js";
import type { Segment } from "./create-segment.js";
import type { FrameLocator } from "./frame-locator.js";
import { diskFullCodeOf, type LogFile } from "./log-store.js";

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
let zeros: Uint8Array | null = null;

/** Appends to the active segment. */
export class SegmentAppender {
  /** Counts `cutBack`s, so that a sync started before one does not vouch for bytes written after it. */
  cuts = 0;
  /** Bytes in the active segment's file: its frames, then (preallocating) written zeros. */
  private allocatedEnd: number;
  /** Whether to preallocate in this segment (off after the disk refused the zeros). */
  private preallocateHere = true;

  /**
   * `file` is `segment`'s, as recovery left it (exactly as long as its frames); `preallocate`
   * (durability "full") writes zeros ahead, up to `segmentBytes`.
   */
  constructor(
    private active: Segment,
    private activeFile: LogFile,
    private readonly segmentBytes: number,
    private readonly preallocate: boolean,
    private readonly frames: FrameLocator,
  ) {
    this.allocatedEnd = active.size;
  }

  /** The segment frames are appended to. */
  get segment(): Segment {
    return this.active;
  }

  /** Its open file (for syncs). */
  get file(): LogFile {
    return this.activeFile;
  }

  /**
   * Appends a frame, `length` bytes of `source` from `offset` then `rest` when not null, at the
   * end of the active segment, and returns where it starts. On failure nothing of it stays
   * (`QueueDiskFullError` when the disk is full).
   */
  append(source: Uint8Array, offset: number, length: number, rest: Uint8Array | null): number {
    const segment = this.active;
    const frameStart = segment.size;
    const frameEnd = frameStart + length + (rest === null ? 0 : rest.length);
    if (rest === null && this.preallocate && this.preallocateHere && frameEnd > this.allocatedEnd && length < PREALLOCATE_MAX_FRAME_BYTES) {
      const zeroBytes = Math.min(frameEnd + PREALLOCATE_BYTES, this.segmentBytes) - frameEnd;
      if (zeroBytes > 0) {
        if (zeros === null) zeros = new Uint8Array(PREALLOCATE_BYTES);
        try {
          this.writeAt(source, offset, length, zeros.subarray(0, zeroBytes), frameStart);
        } catch (error) {
          if (!(error instanceof QueueDiskFullError)) throw error;
          // The disk has room for the frame but not for the zeros ahead of it: write the frame
          // alone (writeAt cut the file back), and stop preallocating in this segment.
          this.preallocateHere = false;
          this.writeAt(source, offset, length, null, frameStart);
        }
        segment.size = frameEnd;
        return frameStart;
      }
    }
    this.writeAt(source, offset, length, rest, frameStart);
    segment.size = frameEnd;
    return frameStart;
  }

  /** Cuts the preallocated zeros; returns whether there were any. */
  trimPreallocation(): boolean {
    if (this.allocatedEnd <= this.active.size) return false;
    this.activeFile.truncate(this.active.size);
    this.allocatedEnd = this.active.size;
    return true;
  }

  /**
   * Cuts the active segment back to `size` bytes (the end of what is durable, after a failed
   * sync), durably; throws when the disk refuses, and then nothing else changed.
   */
  cutBack(size: number): void {
    const segment = this.active;
    this.activeFile.truncate(size);
    this.activeFile.syncAll();
    segment.size = size;
    segment.syncedSize = Math.min(segment.syncedSize, size);
    this.cuts++;
    this.allocatedEnd = size;
    this.frames.invalidate(segment.baseSeq);
  }

  /** Makes `segment` (new and empty, `file` open) the active one; returns the sealed segment's file, for the caller to sync and close. */
  switchTo(segment: Segment, file: LogFile): LogFile {
    const old = this.activeFile;
    this.active = segment;
    this.activeFile = file;
    this.allocatedEnd = segment.size;
    this.preallocateHere = true;
    return old;
  }

  /** Closes the active segment's file (once its background syncs end). */
  close(): void {
    this.activeFile.close();
  }

  /**
   * Writes bytes `[offset, offset + length)` of `source`, then `rest` if given, at `at`. On
   * failure the file is cut back to `at`: nothing of the frame may stay behind (the preallocated
   * zeros after `at` go too; they are only an optimisation).
   */
  private writeAt(source: Uint8Array, offset: number, length: number, rest: Uint8Array | null, at: number): void {
    try {
      this.activeFile.write(source, offset, length, rest, at);
      const end = at + length + (rest === null ? 0 : rest.length);
      if (end > this.allocatedEnd) this.allocatedEnd = end;
    } catch (error) {
      try {
        this.activeFile.truncate(at);
        this.allocatedEnd = at;
      } catch {
        // The frame stays a torn tail, which the next open cuts off.
      }
      this.frames.invalidate(this.active.baseSeq);
      const code = diskFullCodeOf(error);
      if (code !== null) throw new QueueDiskFullError(this.active.file, code);
      throw error;
    }
  }
}
