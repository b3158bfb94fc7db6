/**
 * Reads frames from one segment file through a reusable read-ahead buffer, so scanning a
 * segment costs a few large reads and memory stays bounded by the buffer (and the largest
 * frame) whatever the backlog.
 */
import { QueueCorruptedError } from "../errors.js";
import { crc32, crc32Small } from "./crc32.js";
import type { LogFile, LogStore } from "./log-store.js";
import {
  FRAME_HEADER_BYTES,
  FRAME_MAGIC,
  SEGMENT_HEADER_BYTES,
  SEGMENT_MAGIC,
  bytesToUuid,
  readU64,
  type FrameHeader,
  type SegmentHeader,
} from "./queue-format.js";

const READ_AHEAD_BYTES = 256 * 1024;

/** What is found at a frame position. */
export type FrameInspection =
  | { kind: "frame"; header: FrameHeader; payload: Uint8Array; end: number }
  | { kind: "end" }
  | { kind: "incomplete"; reason: string }
  | { kind: "bad-header"; reason: string; /** Whether the frame magic is there (only the checksum failed). */ magic: boolean }
  | { kind: "bad-payload"; reason: string; header: FrameHeader; end: number };

/** Reads a segment file's frames; `close` when done. */
export class SegmentReader {
  private buf: Uint8Array;
  private view: DataView;
  private bufStart = 0;
  private bufLength = 0;

  /** Reads `handle` (closed by `close`); `file` names it in errors. */
  constructor(
    private readonly handle: LogFile,
    readonly file: string,
  ) {
    this.buf = new Uint8Array(READ_AHEAD_BYTES);
    this.view = new DataView(this.buf.buffer);
  }

  /** Opens file `name` of `store` for reading. */
  static open(store: LogStore, name: string): SegmentReader {
    return new SegmentReader(store.open(name), store.pathOf(name));
  }

  /** Closes the file. */
  close(): void {
    this.handle.close();
  }

  /** Forgets buffered bytes (the file changed underneath, e.g. it was truncated). */
  invalidate(): void {
    this.bufLength = 0;
  }

  /** Reads and checks the segment header; throws `QueueCorruptedError` when it is bad. */
  readHeader(): SegmentHeader {
    const bytes = this.range(0, SEGMENT_HEADER_BYTES, Number.MAX_SAFE_INTEGER);
    if (bytes === null) throw new QueueCorruptedError(this.file, 0, "segment header is incomplete");
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (view.getUint32(0, true) !== SEGMENT_MAGIC) throw new QueueCorruptedError(this.file, 0, "not a queue segment");
    if (crc32(bytes.subarray(0, 44)) !== view.getUint32(44, true)) {
      throw new QueueCorruptedError(this.file, 0, "segment header checksum mismatch");
    }
    return {
      version: view.getUint32(4, true),
      baseSeq: readU64(view, 8),
      queueId: bytesToUuid(bytes.slice(16, 32)),
      createdAt: view.getFloat64(32, true),
    };
  }

  /**
   * Inspects the frame at `offset` of a file whose committed bytes end at `end`. With
   * `checkPayload` false only the header is verified (a fast skip over the payload).
   * The returned payload is a view valid until the next call.
   */
  inspect(offset: number, end: number, checkPayload: boolean): FrameInspection {
    if (offset >= end) return { kind: "end" };
    const headerBytes = this.range(offset, FRAME_HEADER_BYTES, end);
    if (headerBytes === null) return { kind: "incomplete", reason: "frame header is incomplete" };
    const at = headerBytes.byteOffset - this.buf.byteOffset;
    const view = this.view;
    if (view.getUint32(at, true) !== FRAME_MAGIC) return { kind: "bad-header", reason: "bad frame magic", magic: false };
    if (crc32Small(headerBytes.subarray(8)) !== view.getUint32(at + 4, true)) {
      return { kind: "bad-header", reason: "frame header checksum mismatch", magic: true };
    }
    const header: FrameHeader = {
      payloadLength: view.getUint32(at + 8, true),
      payloadCrc: view.getUint32(at + 12, true),
      docCount: view.getUint32(at + 16, true),
      tableCount: view.getUint32(at + 20, true),
      firstSeq: readU64(view, at + 24),
      commitTime: view.getFloat64(at + 32, true),
    };
    const frameEnd = offset + FRAME_HEADER_BYTES + header.payloadLength;
    if (frameEnd > end) return { kind: "incomplete", reason: "frame payload is incomplete" };
    if (!checkPayload) return { kind: "frame", header, payload: new Uint8Array(0), end: frameEnd };
    const payload = this.range(offset + FRAME_HEADER_BYTES, header.payloadLength, end);
    if (payload === null) return { kind: "incomplete", reason: "frame payload is incomplete" };
    if (crc32(payload) !== header.payloadCrc) return { kind: "bad-payload", reason: "frame checksum mismatch", header, end: frameEnd };
    return { kind: "frame", header, payload, end: frameEnd };
  }

  /**
   * Like `inspect`, for committed data only: anything but a whole, valid frame throws a
   * `QueueCorruptedError` naming the file and offset.
   */
  readFrameOrThrow(offset: number, end: number, checkPayload: boolean): { header: FrameHeader; payload: Uint8Array; end: number } {
    const found = this.inspect(offset, end, checkPayload);
    if (found.kind === "frame") return found;
    throw new QueueCorruptedError(this.file, offset, found.kind === "end" ? "expected a frame past the end of the segment" : found.reason);
  }

  /** Whether a frame with a valid header starts anywhere in `[from, end)`. */
  findValidFrameAfter(from: number, end: number): number | null {
    for (let offset = from; offset + FRAME_HEADER_BYTES <= end; offset++) {
      const bytes = this.range(offset, FRAME_HEADER_BYTES, end);
      if (bytes === null) return null;
      const at = bytes.byteOffset - this.buf.byteOffset;
      if (this.view.getUint32(at, true) === FRAME_MAGIC && crc32Small(bytes.subarray(8)) === this.view.getUint32(at + 4, true)) {
        return offset;
      }
    }
    return null;
  }

  /** Whether every byte in `[from, end)` is zero (true for an empty range). */
  isZeroFrom(from: number, end: number): boolean {
    for (let offset = from; offset < end; ) {
      const length = Math.min(this.buf.length, end - offset);
      const bytes = this.range(offset, length, end);
      if (bytes === null) return false;
      for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
      offset += length;
    }
    return true;
  }

  /**
   * Whether a 512-byte sector of the file, aligned on a multiple of 512, reads as all zeros over
   * its part inside `[from, to)`: a sector wholly inside, or the last one when it starts inside
   * and the range ends in it. A sector that starts before `from` does not count (its first bytes
   * are outside the range, so whether it was written cannot be told from the range alone).
   */
  hasZeroSector(from: number, to: number): boolean {
    const sector = 512;
    for (let start = Math.ceil(from / sector) * sector; start < to; start += sector) {
      const bytes = this.range(start, Math.min(start + sector, to) - start, to);
      if (bytes === null) return false;
      let zero = true;
      for (let i = 0; i < bytes.length && zero; i++) if (bytes[i] !== 0) zero = false;
      if (zero) return true;
    }
    return false;
  }

  /** Bytes `[offset, offset + length)` as a view into the buffer, or null past `end`/EOF. */
  private range(offset: number, length: number, end: number): Uint8Array | null {
    if (offset + length > end) return null;
    if (offset >= this.bufStart && offset + length <= this.bufStart + this.bufLength) {
      const from = offset - this.bufStart;
      return this.buf.subarray(from, from + length);
    }
    if (length > this.buf.length) {
      let capacity = this.buf.length * 2;
      while (capacity < length) capacity *= 2;
      this.buf = new Uint8Array(capacity);
      this.view = new DataView(this.buf.buffer);
    }
    const want = Math.min(this.buf.length, end - offset);
    let got = 0;
    while (got < want) {
      const n = this.handle.read(this.buf, got, want - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    this.bufStart = offset;
    this.bufLength = got;
    return got >= length ? this.buf.subarray(0, length) : null;
  }
}
