/**
 * Finds frames across a queue's segments by reading headers only, and checks that their
 * sequence numbers follow on. Keeps at most two segment readers open.
 */
import { AsymgenError, QueueCorruptedError } from "../errors.js";
import type { Segment } from "./create-segment.js";
import type { LogStore } from "./log-store.js";
import { SEGMENT_HEADER_BYTES } from "./queue-format.js";
import { SegmentReader } from "./segment-reader.js";

/** Where a frame is, with its header's numbers. */
export interface FramePosition {
  baseSeq: number;
  offset: number;
  firstSeq: number;
  docCount: number;
  commitTime: number;
  /** Where the frame ends (the next frame's offset). */
  end: number;
}

/** Locates frames in `segments` (the queue's own list, which it keeps up to date). */
export class FrameLocator {
  private readonly readers = new Map<number, SegmentReader>();

  constructor(
    private readonly store: LogStore,
    private readonly segments: readonly Segment[],
  ) {}

  /** The segment whose base is `baseSeq`. */
  segmentByBase(baseSeq: number): Segment {
    const segment = this.segments.find((s) => s.baseSeq === baseSeq);
    if (segment === undefined) throw new AsymgenError(`internal: no segment ${baseSeq}`);
    return segment;
  }

  /** A reader of `segment`, opened on first use. */
  readerFor(segment: Segment): SegmentReader {
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
      reader = SegmentReader.open(this.store, segment.name);
      this.readers.set(segment.baseSeq, reader);
    }
    return reader;
  }

  /** Forgets buffered bytes of a segment that changed underneath (it was cut back). */
  invalidate(baseSeq: number): void {
    this.readers.get(baseSeq)?.invalidate();
  }

  /** Closes the reader of a segment about to be deleted. */
  forget(baseSeq: number): void {
    const reader = this.readers.get(baseSeq);
    if (reader === undefined) return;
    reader.close();
    this.readers.delete(baseSeq);
  }

  /** Closes every reader. */
  close(): void {
    for (const reader of this.readers.values()) reader.close();
    this.readers.clear();
  }

  /** The frame after `position` (null past the last), checked to follow it in sequence. */
  next(position: FramePosition): FramePosition | null {
    const next = this.frameAt(this.segmentByBase(position.baseSeq), position.end);
    const expected = position.firstSeq + position.docCount;
    if (next === null) return null;
    // In one segment the numbers run on; a segment may start later than the previous one ended
    // (numbers lost to a power loss or a repair are never reused) but starts with its own base.
    const ok = next.baseSeq === position.baseSeq ? next.firstSeq === expected : next.firstSeq === next.baseSeq && next.firstSeq >= expected;
    if (!ok) throw new QueueCorruptedError(this.segmentByBase(next.baseSeq).file, next.offset, `frame sequence ${next.firstSeq} where ${expected} was expected`);
    return next;
  }

  /**
   * The frame holding `seq` (or the first frame after it), scanning headers only from the
   * closest of `hints` at or before it in its segment; null if none.
   */
  findFrameHolding(seq: number, hints: readonly (FramePosition | null)[]): FramePosition | null {
    let index = 0;
    for (let i = 0; i < this.segments.length; i++) if (this.segments[i]!.baseSeq <= seq) index = i;
    const segment = this.segments[index]!;
    let position: FramePosition | null = null;
    for (const hint of hints) {
      if (hint !== null && hint.baseSeq === segment.baseSeq && hint.firstSeq <= seq && (position === null || hint.firstSeq > position.firstSeq)) {
        position = hint;
      }
    }
    if (position === null) position = this.frameAt(segment, SEGMENT_HEADER_BYTES);
    while (position !== null && position.firstSeq + position.docCount <= seq) position = this.next(position);
    return position;
  }

  /** The frame at `offset` of `segment`, or the first of a later segment when `offset` is past its end. */
  private frameAt(segment: Segment, offset: number): FramePosition | null {
    let index = this.segments.indexOf(segment);
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
}
