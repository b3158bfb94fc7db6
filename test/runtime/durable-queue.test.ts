import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { pbkdf2 } from "node:crypto";
import * as zlib from "node:zlib";
import { promisify } from "node:util";
import { deserialize } from "bson";
import { DurableQueue, type DurableQueueOptions } from "../../runtime/queue/durable-queue.js";
import { openNodeLogStore } from "../../runtime/node/node-log-store.js";
import { InstrumentedLogStore, openInstrumentedLogStore } from "../support/instrumented-log-store.js";
import { computeCrc32Slice16, computeCrc32Slice16Range, crc32, crc32Combine, crc32Small } from "../../runtime/queue/crc32.js";
import { FRAME_HEADER_BYTES, SEGMENT_HEADER_BYTES } from "../../runtime/queue/queue-format.js";
import { QueueCorruptedError, QueueFailedError, QueueLockedError } from "../../runtime/errors.js";
import type { HostWarning } from "../../runtime/platform/platform.js";
import type { RecoveryReport } from "../../runtime/queue/queue-recovery.js";
import { encodeSymbol } from "../../runtime/codegen/model-class.js";
import { LogLine, Measurement, type MeasurementInit } from "../support/queue-models.js";

const encodeMeasurement = Measurement[encodeSymbol];
const encodeLogLine = LogLine[encodeSymbol];

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-queue-"));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function measurement(id: number): MeasurementInit {
  return { id, deviceId: `dev-${id % 7}`, value: id / 2 };
}

/** Commits `count` transactions of `perTxn` measurements; returns the last seq. */
function fill(queue: DurableQueue, count: number, perTxn: number, sync = true): number {
  let last = 0;
  for (let t = 0; t < count; t++) {
    queue.begin();
    for (let i = 0; i < perTxn; i++) queue.append("measurement", encodeMeasurement, measurement(queue.lastCommittedSeq() + i + 1));
    last = queue.commit(sync);
  }
  return last;
}

/**
 * Keeps every thread-pool thread busy for a while (~0.1 s), so that an fdatasync started now
 * waits in the pool's queue: a test can then act while the sync is still running.
 */
function occupyThreadPool(): Promise<unknown>[] {
  return Array.from({ length: Number(process.env.UV_THREADPOOL_SIZE ?? 4) }, () => promisify(pbkdf2)("x", "y", 200_000, 32, "sha256"));
}

/**
 * Holds every thread of libuv's pool until `release()`: each is blocked opening a FIFO for
 * reading, which returns only once the FIFO is opened for writing. Unlike busy work, nothing
 * queued behind it can run early however slow this process is scheduled.
 */
function holdThreadPool(): { release(): Promise<void> } {
  // A directory of its own: the FIFOs must not sit among a queue's files.
  const fifoDir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-hold-"));
  const fifos = Array.from({ length: Number(process.env.UV_THREADPOOL_SIZE ?? 4) }, (_, i) => path.join(fifoDir, `hold-${i}.fifo`));
  for (const fifo of fifos) execFileSync("mkfifo", [fifo]);
  const opened = fifos.map((fifo) => fs.promises.open(fifo, "r"));
  return {
    async release() {
      for (const fifo of fifos) {
        // Non-blocking: ENXIO until the pool's open for reading is under way.
        for (;;) {
          try {
            fs.closeSync(fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK));
            break;
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== "ENXIO") throw error;
            await new Promise((resolve) => setTimeout(resolve, 1));
          }
        }
      }
      for (const handle of await Promise.all(opened)) await handle.close();
      fs.rmSync(fifoDir, { recursive: true, force: true });
    },
  };
}

/** Opens the queue in `dir` through the Node log store. */
function openQueue(options: Omit<DurableQueueOptions, "store"> = {}): DurableQueue {
  return DurableQueue.open({ store: openNodeLogStore(dir), ...options });
}

/**
 * Opens the queue in `dir` through an instrumented Node store, which records the syncs and
 * writes the queue asks for (from after opening) and fails the syncs a test picks.
 */
function openObserved(options: Omit<DurableQueueOptions, "store"> = {}): { queue: DurableQueue; store: InstrumentedLogStore } {
  const store = openInstrumentedLogStore(dir);
  const queue = DurableQueue.open({ store, ...options });
  store.reset();
  return { queue, store };
}

/** A `warn` for `DurableQueue.open` that collects the warnings. */
function collectWarnings(): { warn: (warning: HostWarning) => void; seen: HostWarning[] } {
  const seen: HostWarning[] = [];
  return { warn: (warning) => seen.push(warning), seen };
}

function readAll(queue: DurableQueue): { seq: number; table: string; doc: Record<string, unknown> }[] {
  return queue.readBatch(0, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER).map((d) => ({ seq: d.seq, table: d.table, doc: deserialize(d.bson) }));
}

describe("crc32", () => {
  it("the table-driven fallback agrees with node:zlib's crc32 and the check value", () => {
    const native = zlib.crc32;
    expect(computeCrc32Slice16(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
    const data = new Uint8Array(10_007).map((_, i) => (i * 31 + 7) & 0xff);
    expect(computeCrc32Slice16(data)).toBe(native(data));
    expect(computeCrc32Slice16(data.subarray(5000), computeCrc32Slice16(data.subarray(0, 5000)))).toBe(native(data));
    // By offset, as frame headers are checked in place; and the small-range helper.
    for (const [start, end] of [[3, 35], [8, 40], [100, 9_001], [17, 17], [0, 15], [0, 16], [1, 18], [5, 5_000]] as const) {
      expect(computeCrc32Slice16Range(data, start, end)).toBe(native(data.subarray(start, end)));
    }
    expect(crc32Small(data.subarray(8, 40))).toBe(native(data.subarray(8, 40)));
    expect(crc32Small(data.subarray(0, 500))).toBe(native(data.subarray(0, 500)));
  });

  it("crc32Combine gives the checksum of two ranges end to end from theirs (the browser page checksums the documents, the worker the table section in front)", () => {
    const data = new Uint8Array(300_011).map((_, i) => (i * 2_654_435_761) >>> 24);
    for (const [split, end] of [[0, 0], [0, 100], [100, 100], [1, 2], [40, 2_040], [2_040, 250_000], [123, 65_537], [7, data.length]] as const) {
      const a = data.subarray(0, split);
      const b = data.subarray(split, end);
      expect(crc32Combine(zlib.crc32(a), zlib.crc32(b), b.length)).toBe(zlib.crc32(data.subarray(0, end)));
    }
    // Not a plain XOR or a continuation: the length of the second range counts.
    expect(crc32Combine(zlib.crc32(data.subarray(0, 10)), zlib.crc32(data.subarray(10, 20)), 11)).not.toBe(zlib.crc32(data.subarray(0, 20)));
  });

  it("the Node log store installs node:zlib's native crc32 for the queue (the core imports no node:* module)", () => {
    openNodeLogStore(dir).close();
    expect(crc32).toBe(zlib.crc32);
  });
});

describe("DurableQueue", () => {
  it("assigns sequence numbers in commit order and reads documents back from disk in order", () => {
    const queue = openQueue();
    queue.begin();
    expect(queue.append("measurement", encodeMeasurement, measurement(1))).toBe(1);
    expect(queue.append("log_line", encodeLogLine, { id: "a", text: "hello" })).toBe(2);
    expect(queue.append("measurement", encodeMeasurement, measurement(3))).toBe(3);
    expect(queue.commit(true)).toBe(3);
    expect(queue.lastCommittedSeq()).toBe(3);
    const docs = readAll(queue);
    expect(docs.map((d) => [d.seq, d.table])).toEqual([
      [1, "measurement"],
      [2, "log_line"],
      [3, "measurement"],
    ]);
    expect(docs[1]!.doc).toEqual({ _id: "a", text: "hello" });
    expect(docs[0]!.doc).toMatchObject({ deviceId: "dev-1", value: 0.5 });
    queue.close();
  });

  it("writes a transaction whose frame head outgrows the writer's head gap (5,000 documents) and reads it back", () => {
    const queue = openQueue();
    fill(queue, 1, 2, true);
    expect(fill(queue, 1, 5000, true)).toBe(5002);
    fill(queue, 1, 3, true);
    const all = readAll(queue);
    expect(all.map((d) => d.seq)).toEqual(Array.from({ length: 5005 }, (_, i) => i + 1));
    expect(all[4000]!.doc).toEqual({ _id: 4001, deviceId: `dev-${4001 % 7}`, value: 2000.5 });
    queue.close();
    const reopened = openQueue();
    expect(reopened.lastCommittedSeq()).toBe(5005);
    reopened.close();
  });

  it("bounds batches by count and bytes, always returning at least one document", () => {
    const queue = openQueue();
    fill(queue, 10, 10);
    const size = queue.readBatch(0, 1, 1)[0]!.bson.length;
    expect(queue.readBatch(0, 7, 1 << 30).map((d) => d.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(queue.readBatch(15, 3, 1 << 30).map((d) => d.seq)).toEqual([16, 17, 18]);
    expect(queue.readBatch(0, 100, 1).map((d) => d.seq)).toEqual([1]);
    expect(queue.readBatch(40, 100, size * 3).map((d) => d.seq)).toEqual([41, 42, 43]);
    expect(queue.readBatch(95, 100, 1 << 30).map((d) => d.seq)).toEqual([96, 97, 98, 99, 100]);
    expect(queue.readBatch(100, 100, 1 << 30)).toEqual([]);
    queue.close();
  });

  it("keeps its queue id and everything committed across reopen", () => {
    const first = openQueue();
    const id = first.queueId;
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    fill(first, 5, 3, true);
    first.close();
    const second = openQueue();
    expect(second.queueId).toBe(id);
    expect(second.lastCommittedSeq()).toBe(15);
    expect(readAll(second).map((d) => d.seq)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    expect(fill(second, 1, 2, true)).toBe(17);
    second.close();
  });

  it("rotateQueueId writes a new id durably, keeps sequence numbers and the cursor, and survives reopen", () => {
    const queue = openQueue({ segmentBytes: 4096 });
    const original = queue.queueId;
    fill(queue, 30, 3, true);
    queue.acknowledge(20);
    const rotated = queue.rotateQueueId();
    expect(rotated).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(rotated).not.toBe(original);
    expect(queue.queueId).toBe(rotated);
    expect(JSON.parse(fs.readFileSync(path.join(dir, "queue.json"), "utf8")).queueId).toBe(rotated);
    expect(fs.readdirSync(dir).filter((n) => n.endsWith(".tmp"))).toEqual([]);
    // Nothing else moved: the unacknowledged documents are re-read under the new id.
    expect(queue.acknowledgedSeq()).toBe(20);
    expect(queue.readBatch(0, 3, 1 << 20).map((d) => d.seq)).toEqual([21, 22, 23]);
    expect(fill(queue, 30, 3, true)).toBe(180); // rolls over into segments named by the new id
    queue.close();

    const reopened = openQueue({ segmentBytes: 4096 });
    expect(reopened.queueId).toBe(rotated);
    expect(reopened.acknowledgedSeq()).toBe(20);
    expect(readAll(reopened).map((d) => d.seq)).toEqual(Array.from({ length: 160 }, (_, i) => i + 21));
    const again = reopened.rotateQueueId();
    expect(again).not.toBe(rotated);
    reopened.close();
    const third = openQueue({ segmentBytes: 4096 });
    expect(third.queueId).toBe(again);
    expect(third.lastCommittedSeq()).toBe(180);
    third.close();
  });

  it("acknowledges durably, never backwards, and deletes fully acknowledged segments", () => {
    const queue = openQueue({ segmentBytes: 4096 });
    fill(queue, 60, 5);
    const segments = queue.segmentFiles();
    expect(segments.length).toBeGreaterThan(4);
    const stats = queue.stats();
    expect(stats.pendingDocuments).toBe(300);
    expect(stats.oldestPendingTime).toBeInstanceOf(Date);
    queue.acknowledge(123);
    queue.acknowledge(50); // backwards: ignored
    expect(queue.acknowledgedSeq()).toBe(123);
    expect(queue.stats().pendingDocuments).toBe(177);
    expect(queue.stats().pendingBytes).toBeLessThan(stats.pendingBytes);
    const remaining = queue.segmentFiles();
    expect(remaining.length).toBeLessThan(segments.length);
    for (const gone of segments.filter((s) => !remaining.includes(s))) expect(fs.existsSync(gone)).toBe(false);
    // Reads start after the cursor even when asked for earlier documents.
    expect(queue.readBatch(0, 2, 1 << 30).map((d) => d.seq)).toEqual([124, 125]);
    expect(() => queue.acknowledge(301)).toThrow(/only 300 are committed/);
    queue.close();

    const reopened = openQueue({ segmentBytes: 4096 });
    expect(reopened.acknowledgedSeq()).toBe(123);
    expect(reopened.readBatch(123, 1, 1)[0]!.seq).toBe(124);
    expect(reopened.stats().pendingDocuments).toBe(177);
    reopened.acknowledge(300);
    expect(reopened.stats()).toEqual({ pendingDocuments: 0, pendingBytes: 0, oldestPendingTime: null, lastRecovery: null });
    expect(reopened.segmentFiles()).toHaveLength(1); // the active segment is kept
    expect(fill(reopened, 1, 1)).toBe(301);
    reopened.close();
  });

  it("resumes numbering after the cursor when acknowledged documents are missing from disk", () => {
    const queue = openQueue();
    fill(queue, 2, 5, true);
    queue.acknowledge(10);
    queue.close();
    // Simulate a power loss under durability "os": the segment lost its frames, the ack did not.
    const segment = fs.readdirSync(dir).find((n) => n.startsWith("seg-"))!;
    fs.truncateSync(path.join(dir, segment), SEGMENT_HEADER_BYTES);
    const reopened = openQueue();
    expect(reopened.lastCommittedSeq()).toBe(10);
    expect(fill(reopened, 1, 1, true)).toBe(11);
    reopened.close();
  });

  it("fdatasyncs once per commit under durability full and never under os, one write per frame", () => {
    const full = openObserved();
    fill(full.queue, 10, 3, true);
    expect(full.store.syncs).toEqual(Array(10).fill({ name: "seg-00000000000000000001.log", kind: "data" }));
    expect(full.store.writes).toBe(10);
    full.queue.close();
    const osQueue = openObserved({ durability: "os" });
    fill(osQueue.queue, 10, 3, false);
    expect(osQueue.store.syncs).toEqual([]);
    expect(osQueue.store.writes).toBe(10);
    expect(osQueue.queue.lastCommittedSeq()).toBe(60); // handed to the OS: visible to the uploader at once
    osQueue.queue.close();
  });

  it("shares one fdatasync among the transactions committed meanwhile (group commit)", async () => {
    const { queue, store } = openObserved();
    const waits: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) {
      fill(queue, 1, 2, false);
      waits.push(queue.whenDurable());
    }
    expect(queue.lastCommittedSeq()).toBe(0); // not durable yet: not visible to the uploader
    await Promise.all(waits);
    expect(queue.lastCommittedSeq()).toBe(100);
    expect(store.syncs).toEqual([{ name: "seg-00000000000000000001.log", kind: "background" }]);
    queue.close();
  });

  it("group commit across segment rollovers: every waiter resolves, every document is read back", async () => {
    const queue = openQueue({ segmentBytes: 4096 });
    const waits: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) {
      fill(queue, 1, 3, false);
      waits.push(queue.whenDurable());
      if (i % 50 === 0) await new Promise((r) => setImmediate(r)); // let a flush start mid-way
    }
    await Promise.all(waits);
    expect(queue.segmentFiles().length).toBeGreaterThan(5);
    expect(queue.lastCommittedSeq()).toBe(600);
    queue.close();
    const reopened = openQueue({ segmentBytes: 4096 });
    expect(readAll(reopened).map((d) => d.seq)).toEqual(Array.from({ length: 600 }, (_, i) => i + 1));
    reopened.close();
  });

  it("notifies commit listeners with the last durable sequence", () => {
    const queue = openQueue();
    const seen: number[] = [];
    const off = queue.onCommit((seq) => seen.push(seq));
    fill(queue, 2, 3, true);
    off();
    fill(queue, 1, 1, true);
    expect(seen).toEqual([3, 6]);
    queue.close();
  });

  it("locks the queue against a second open in the same process and releases it on close", () => {
    const queue = openQueue();
    expect(() => openQueue()).toThrow(QueueLockedError);
    queue.close();
    openQueue().close();
  });

  it("takes over a lock left by a dead process", () => {
    fs.writeFileSync(path.join(dir, "lock"), JSON.stringify({ pid: 2 ** 22 + 12345, host: os.hostname(), start: "1", token: "x" }));
    const queue = openQueue();
    expect(JSON.parse(fs.readFileSync(path.join(dir, "lock"), "utf8")).pid).toBe(process.pid);
    queue.close();
    expect(fs.existsSync(path.join(dir, "lock"))).toBe(false);
  });

  describe("recovery", () => {
    function lastSegment(): string {
      return path.join(dir, fs.readdirSync(dir).filter((n) => n.startsWith("seg-")).sort().at(-1)!);
    }

    /**
     * Commits `count` transactions of `perTxn` documents in a freshly opened queue and closes it
     * (closed, a segment ends with its last frame: an open "full" queue preallocates zeros after
     * it); returns the last segment's size, where the next frame will start.
     */
    function commitAndClose(count: number, perTxn: number): number {
      const queue = openQueue();
      fill(queue, count, perTxn, true);
      queue.close();
      return fs.statSync(lastSegment()).size;
    }

    it("cuts a torn tail at every byte offset of the last frame and keeps every earlier transaction", () => {
      const frameStart = commitAndClose(3, 4);
      commitAndClose(1, 3);
      const file = lastSegment();
      const full = fs.readFileSync(file);
      expect(full.length).toBeGreaterThan(frameStart + FRAME_HEADER_BYTES);
      for (let cut = frameStart; cut < full.length; cut++) {
        fs.writeFileSync(file, full.subarray(0, cut));
        const reopened = openQueue();
        expect(reopened.lastCommittedSeq()).toBe(12);
        expect(fs.statSync(file).size).toBe(frameStart);
        reopened.close();
      }
      fs.writeFileSync(file, full);
      const whole = openQueue();
      expect(whole.lastCommittedSeq()).toBe(15);
      whole.close();
    });

    it("cuts zeros after the last committed frame and reports the cut (no warning: no data)", () => {
      const queue = openQueue();
      fill(queue, 2, 2, true);
      queue.close();
      const file = lastSegment();
      const good = fs.readFileSync(file);
      fs.appendFileSync(file, Buffer.alloc(4096));
      const warnings = collectWarnings();
      const reports: RecoveryReport[] = [];
      const reopened = openQueue({ onRecovery: (r) => reports.push(r), warn: warnings.warn });
      expect(reopened.lastCommittedSeq()).toBe(4);
      expect(fs.statSync(file).size).toBe(good.length);
      const expected = { kind: "zero-tail", file, offset: good.length, bytesCut: 4096, lostSeqs: null, droppedSegments: [] };
      expect(reports).toEqual([expect.objectContaining(expected)]);
      expect(reopened.stats().lastRecovery).toEqual(reports[0]);
      reopened.close();
      expect(warnings.seen).toEqual([]);
    });

    it("cuts a torn last frame (a sector of it unwritten) and reports it with a structured warning", () => {
      const frameStart = commitAndClose(1, 2);
      const again = openQueue();
      again.begin();
      // A frame spanning several sectors, so that one of them can be left unwritten.
      for (let i = 0; i < 40; i++) again.append("log_line", encodeLogLine, { id: `l${i}`, text: "x".repeat(60) });
      again.commit(true);
      again.close();
      const file = lastSegment();
      const bytes = fs.readFileSync(file);
      const sector = Math.ceil((frameStart + FRAME_HEADER_BYTES) / 512) * 512 + 512;
      expect(sector + 512).toBeLessThan(bytes.length);
      bytes.fill(0, sector, sector + 512); // one sector in the middle never reached the disk
      fs.writeFileSync(file, bytes);
      const warnings = collectWarnings();
      const reports: RecoveryReport[] = [];
      const reopened = openQueue({ onRecovery: (r) => reports.push(r), warn: warnings.warn });
      expect(reopened.lastCommittedSeq()).toBe(2);
      expect(fs.statSync(file).size).toBe(frameStart);
      expect(reports).toEqual([
        expect.objectContaining({ kind: "torn-tail", file, offset: frameStart, bytesCut: bytes.length - frameStart, lostSeqs: { from: 3, to: 42 } }),
      ]);
      expect(reports[0]!.reason).toMatch(/checksum mismatch/);
      expect(reopened.stats().lastRecovery).toEqual(reports[0]);
      reopened.close();
      const seen = warnings.seen;
      expect(seen).toHaveLength(1);
      expect(seen[0]!.message).toContain(`cut ${bytes.length - frameStart} bytes of ${file} at offset ${frameStart}`);
      expect(seen[0]!.code).toBe("ASYMGEN_QUEUE_TORN_TAIL");
      expect(seen[0]!.type).toBe("AsymgenQueueRecoveryWarning");
      expect(JSON.parse(seen[0]!.detail!)).toEqual(JSON.parse(JSON.stringify(reports[0])));
    });

    it("throws QueueCorruptedError for a complete last frame that fails its checksum with every sector written (bit rot)", () => {
      const frameStart = commitAndClose(2, 2);
      commitAndClose(1, 1);
      const file = lastSegment();
      // The last frame ends at EOF (or before zeros) and fails its checksum, but no sector of it
      // is unwritten: damage after the fact, even of a frame that was fsynced and acknowledged.
      const withLast = fs.readFileSync(file);
      withLast[withLast.length - 3] = withLast[withLast.length - 3]! ^ 0xff;
      // Likewise a flipped bit in its header (magic intact, checksum wrong).
      const headerFlip = fs.readFileSync(file);
      headerFlip[frameStart + 24] = headerFlip[frameStart + 24]! ^ 0x01;
      for (const [damaged, tail] of [
        [withLast, Buffer.alloc(0)],
        [withLast, Buffer.alloc(8192)],
        [headerFlip, Buffer.alloc(0)],
        [headerFlip, Buffer.alloc(8192)],
      ] as const) {
        fs.writeFileSync(file, Buffer.concat([damaged, tail]));
        let error: unknown;
        try {
          openQueue().close();
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(QueueCorruptedError);
        expect(error).toMatchObject({ file, offset: frameStart });
        expect((error as Error).message).toMatch(/not a torn write/);
      }
    });

    it("cuts a last frame header whose second sector was never written (torn), though its magic is there", () => {
      // One log line sized so that the next frame's header straddles the sector boundary at 512.
      const probe = openQueue();
      probe.begin();
      probe.append("log_line", encodeLogLine, { id: "a", text: "" });
      probe.commit(true);
      probe.close();
      const emptyEnd = fs.statSync(lastSegment()).size;
      fs.rmSync(dir, { recursive: true, force: true });
      fs.mkdirSync(dir);
      const queue = openQueue();
      queue.begin();
      queue.append("log_line", encodeLogLine, { id: "a", text: "x".repeat(490 - emptyEnd) });
      queue.commit(true);
      queue.close();
      const frameStart = fs.statSync(lastSegment()).size;
      expect(frameStart).toBe(490);
      commitAndClose(1, 2);
      const file = lastSegment();
      // Written up to the boundary (magic and the header's first 22 bytes), zeros after it.
      const torn = Buffer.concat([fs.readFileSync(file).subarray(0, 512), Buffer.alloc(4096)]);
      fs.writeFileSync(file, torn);
      const reports: RecoveryReport[] = [];
      const reopened = openQueue({ onRecovery: (r) => reports.push(r), warn: () => undefined });
      expect(reopened.lastCommittedSeq()).toBe(1);
      expect(reports).toEqual([expect.objectContaining({ kind: "torn-tail", offset: 490, reason: "frame header checksum mismatch, and no valid frame after it" })]);
      reopened.close();
    });

    it("reports a flipped byte inside committed data as QueueCorruptedError naming file and offset", () => {
      const secondFrame = commitAndClose(1, 3);
      commitAndClose(2, 3);
      const file = lastSegment();
      const original = fs.readFileSync(file);
      // Every byte of the first two frames: header or payload, the error names the frame.
      for (let at = SEGMENT_HEADER_BYTES; at < secondFrame + 60; at += 7) {
        const damaged = Buffer.from(original);
        damaged[at] = damaged[at]! ^ 0x5a;
        fs.writeFileSync(file, damaged);
        let error: unknown;
        try {
          openQueue().close();
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(QueueCorruptedError);
        const corrupted = error as QueueCorruptedError;
        expect(corrupted.file).toBe(file);
        expect(corrupted.offset).toBe(at < secondFrame ? SEGMENT_HEADER_BYTES : secondFrame);
        expect(corrupted.message).toContain(file);
      }
      fs.writeFileSync(file, original);
      const healed = openQueue();
      expect(healed.lastCommittedSeq()).toBe(9);
      healed.close();
    });

    it("preallocates zeros after the last frame under full, and recovers from a kill in that state", () => {
      const queue = openQueue();
      fill(queue, 5, 3, true);
      const open = fs.readFileSync(lastSegment());
      queue.close();
      const closed = fs.readFileSync(lastSegment());
      // While open the file runs on past the frames with zeros; close trims them.
      expect(open.length).toBeGreaterThan(closed.length);
      expect(open.subarray(0, closed.length).equals(closed)).toBe(true);
      expect(open.subarray(closed.length).every((b) => b === 0)).toBe(true);
      // The file as a SIGKILL would leave it: the zero tail is cut, every transaction kept.
      fs.writeFileSync(lastSegment(), open);
      let reopened = openQueue({ durability: "os" });
      expect(reopened.lastCommittedSeq()).toBe(15);
      expect(fs.statSync(lastSegment()).size).toBe(closed.length);
      reopened.close();
      // A torn last frame (its last sector never written: it still holds the preallocated
      // zeros) followed by preallocated zeros: torn, not corrupt.
      const lastSector = Math.floor((closed.length - 1) / 512) * 512;
      expect(lastSector).toBeGreaterThan(closed.length - 200); // inside the last frame's payload
      const torn = Buffer.concat([open.subarray(0, lastSector), Buffer.alloc(open.length - lastSector)]);
      fs.writeFileSync(lastSegment(), torn);
      reopened = openQueue();
      expect(reopened.lastCommittedSeq()).toBe(12);
      expect(readAll(reopened).map((d) => d.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
      reopened.close();
    });

    it("trims the zero tail of a segment when it is sealed, so sealed segments end with their last frame", () => {
      const queue = openQueue({ segmentBytes: 4096 });
      fill(queue, 80, 2, true);
      const files = queue.segmentFiles();
      expect(files.length).toBeGreaterThan(2);
      for (const file of files.slice(0, -1)) {
        const bytes = fs.readFileSync(file);
        expect(bytes.length).toBeLessThanOrEqual(4096);
        expect(bytes[bytes.length - 1]).toBe(0); // a BSON document's terminator…
        expect(bytes.subarray(-41).some((b) => b !== 0)).toBe(true); // …not a zero tail
      }
      expect(readAll(queue).map((d) => d.seq)).toEqual(Array.from({ length: 160 }, (_, i) => i + 1));
      queue.close();
    });

    it("reports damage in a sealed segment when the uploader reads it", () => {
      const queue = openQueue({ segmentBytes: 2048 });
      fill(queue, 40, 2, true);
      queue.close();
      const first = path.join(dir, fs.readdirSync(dir).filter((n) => n.startsWith("seg-")).sort()[0]!);
      const bytes = fs.readFileSync(first);
      bytes[SEGMENT_HEADER_BYTES + FRAME_HEADER_BYTES + 30] = bytes[SEGMENT_HEADER_BYTES + FRAME_HEADER_BYTES + 30]! ^ 0x01;
      fs.writeFileSync(first, bytes);
      const reopened = openQueue({ segmentBytes: 2048 });
      expect(() => reopened.readBatch(0, 10, 1 << 20)).toThrow(QueueCorruptedError);
      expect(() => reopened.readBatch(0, 10, 1 << 20)).toThrow(new RegExp(`${first.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} at offset ${SEGMENT_HEADER_BYTES}`));
      reopened.close();
    });
  });
});

describe("DurableQueue: what reaches stable storage", () => {
  const eio = (): Error => Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" });

  /** A queue under "os" whose every sync fails as a failing disk would (under "os" with no rollover, only uploads sync). */
  const openFailingUploadSyncs = (): DurableQueue => {
    const { queue, store } = openObserved({ durability: "os" });
    store.failSync = () => eio();
    return queue;
  };

  it("under os, readBatch fdatasyncs unsynced frames before returning them, and not again once synced", () => {
    const { queue, store } = openObserved({ durability: "os" });
    fill(queue, 5, 2, false);
    expect(store.syncs).toEqual([]); // under "os" a commit does not sync
    expect(queue.readBatch(0, 4, 1 << 20).map((d) => d.seq)).toEqual([1, 2, 3, 4]);
    expect(store.syncs.length).toBe(1);
    // Everything written so far was synced by that one call: re-reads and later reads cost nothing.
    expect(queue.readBatch(4, 100, 1 << 20).map((d) => d.seq)).toEqual([5, 6, 7, 8, 9, 10]);
    expect(queue.readBatch(0, 100, 1 << 20)).toHaveLength(10);
    expect(queue.readBatch(10, 100, 1 << 20)).toEqual([]);
    expect(store.syncs.length).toBe(1);
    // A new commit is unsynced again: the next read that returns it syncs once more.
    fill(queue, 1, 1, false);
    expect(queue.readBatch(0, 3, 1 << 20).map((d) => d.seq)).toEqual([1, 2, 3]); // synced part only: no sync
    expect(store.syncs.length).toBe(1);
    expect(queue.readBatch(10, 100, 1 << 20).map((d) => d.seq)).toEqual([11]);
    expect(store.syncs.length).toBe(2);
    expect(store.syncs.map((c) => c.kind)).toEqual(["data", "data"]);
    queue.close();
  });

  it("under os, a failed upload fdatasync fails the queue rather than uploading what may not be on disk", () => {
    const queue = openFailingUploadSyncs();
    fill(queue, 2, 2, false);
    expect(() => queue.readBatch(0, 10, 1 << 20)).toThrow(QueueFailedError);
    expect(() => queue.readBatch(0, 10, 1 << 20)).toThrow(/EIO/);
    expect(() => queue.begin()).toThrow(QueueFailedError);
    queue.close();
    const reopened = openQueue({ durability: "os" });
    expect(readAll(reopened).map((d) => d.seq)).toEqual([1, 2, 3, 4]);
    reopened.close();
  });

  it("under os, readBatchToUpload syncs on the thread pool: a promise per unsynced read, shared while it covers the next", async () => {
    const { queue, store } = openObserved({ durability: "os" });
    fill(queue, 5, 2, false);
    const first = queue.readBatchToUpload(0, 4, 1 << 20);
    expect(first.documents.map((d) => d.seq)).toEqual([1, 2, 3, 4]);
    expect(first.onStableStorage).toBeInstanceOf(Promise);
    // Read before the sync ends, and covered by it (it took everything written so far): shared.
    const second = queue.readBatchToUpload(4, 100, 1 << 20);
    expect(second.documents.map((d) => d.seq)).toEqual([5, 6, 7, 8, 9, 10]);
    expect(second.onStableStorage).toBe(first.onStableStorage);
    await first.onStableStorage;
    expect(store.syncs.length).toBe(1);
    expect(queue.readBatchToUpload(0, 100, 1 << 20).onStableStorage).toBeNull();
    // A commit after that sync is not covered: its read gets a sync of its own.
    fill(queue, 1, 1, false);
    const third = queue.readBatchToUpload(10, 100, 1 << 20);
    expect(third.documents.map((d) => d.seq)).toEqual([11]);
    await third.onStableStorage;
    expect(store.syncs.length).toBe(2);
    expect(store.syncs.map((c) => c.kind)).toEqual(["background", "background"]);
    queue.close();
    const full = openQueue({ durability: "full" });
    fill(full, 1, 1, true);
    expect(full.readBatchToUpload(0, 100, 1 << 20).onStableStorage).toBeNull();
    full.close();
  });

  it("readBatchToUpload says which bytes of which segments a batch was read from (its extent)", () => {
    // "os": no preallocated zeros, so a segment's file is exactly its frames.
    const queue = openQueue({ durability: "os", segmentBytes: 4096 });
    fill(queue, 30, 5, false);
    const files = queue.segmentFiles();
    expect(files.length).toBeGreaterThanOrEqual(3);
    const names = files.map((file) => path.basename(file));
    const sizes = files.map((file) => fs.statSync(file).size);
    const whole = queue.readBatchToUpload(0, 1000, 1 << 20);
    expect(whole.documents).toHaveLength(150);
    expect(whole.extent).toEqual(names.map((name, i) => ({ name, end: sizes[i] })));
    // From the middle of the third segment, a few documents: that segment, up to the end of the last frame read.
    const second = Number(/\d+/.exec(names[2]!)![0]) + 1;
    const part = queue.readBatchToUpload(second - 1, 2, 1 << 20);
    expect(part.documents.map((d) => d.seq)).toEqual([second, second + 1]);
    expect(part.extent).toHaveLength(1);
    expect(part.extent![0]!.name).toBe(names[2]);
    expect(part.extent![0]!.end).toBeGreaterThan(0);
    expect(part.extent![0]!.end).toBeLessThan(sizes[2]!);
    // Nothing to read: an empty extent.
    expect(queue.readBatchToUpload(150, 10, 1 << 20).extent).toEqual([]);
    queue.close();
  });

  it("under os, a failed background upload sync rejects with QueueFailedError and fails the queue", async () => {
    const queue = openFailingUploadSyncs();
    fill(queue, 2, 2, false);
    const read = queue.readBatchToUpload(0, 10, 1 << 20);
    await expect(read.onStableStorage).rejects.toThrow(QueueFailedError);
    expect(() => queue.readBatchToUpload(0, 10, 1 << 20)).toThrow(/EIO/);
    expect(() => queue.begin()).toThrow(QueueFailedError);
    queue.close();
  });

  it("a segment sealed or a queue closed while a background sync runs keeps its descriptor open until the sync ends", async () => {
    const queue = openQueue({ durability: "os", segmentBytes: 2048 });
    fill(queue, 1, 2, false);
    const held = holdThreadPool();
    const read = queue.readBatchToUpload(0, 10, 1 << 20);
    // Roll over (the synced segment is sealed) and close while the sync waits for the held pool.
    fill(queue, 40, 2, false);
    expect(queue.segmentFiles().length).toBeGreaterThan(1);
    queue.close();
    await held.release();
    await expect(read.onStableStorage).resolves.toBeUndefined();
    const reopened = openQueue({ durability: "os", segmentBytes: 2048 });
    expect(readAll(reopened)).toHaveLength(82);
    reopened.close();
  });

  it("a sealed segment's descriptor closes once its own syncs end, while a sync on the next segment still runs", async () => {
    if (process.platform !== "linux") return; // reads /proc/self/fd
    const openDescriptorsOf = (file: string): number =>
      fs.readdirSync("/proc/self/fd").filter((fd) => {
        try {
          return fs.readlinkSync(`/proc/self/fd/${fd}`) === file;
        } catch {
          return false; // closed while listing
        }
      }).length;
    const queue = openQueue({ durability: "os", segmentBytes: 2048 });
    fill(queue, 1, 2, false);
    const first = queue.segmentFiles()[0]!;
    const busy = occupyThreadPool();
    // Queued behind the busy pool: an upload sync on the first segment, then (rollover) its seal sync.
    const onFirst = queue.readBatchToUpload(0, 10, 1 << 20).onStableStorage;
    fill(queue, 20, 2, false);
    expect(queue.segmentFiles().length).toBeGreaterThan(1);
    // Then the whole pool held, and behind it an upload sync on the active segment.
    const held = holdThreadPool();
    const onActive = queue.readBatchToUpload(2, 1000, 1 << 20).onStableStorage;
    expect(onActive).not.toBeNull();
    let activeSynced = false;
    void onActive!.then(() => (activeSynced = true));
    // The queue's own descriptor on the first segment (its reader has another, kept for reads).
    const before = openDescriptorsOf(first);
    await onFirst;
    const deadline = Date.now() + 5000;
    while (openDescriptorsOf(first) >= before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1));
    expect(openDescriptorsOf(first)).toBe(before - 1);
    expect(activeSynced).toBe(false);
    await held.release();
    await Promise.all([...busy, onActive]);
    expect(activeSynced).toBe(true);
    queue.close();
  });

  it("after a reopen (a crash may have left data in the page cache only), each segment is synced once before upload", () => {
    const first = openQueue({ durability: "os", segmentBytes: 2048 });
    fill(first, 40, 2, false);
    const segments = first.segmentFiles().length;
    expect(segments).toBeGreaterThan(3);
    first.close();
    const { queue, store } = openObserved({ durability: "os", segmentBytes: 2048 });
    expect(queue.readBatch(0, 2, 1 << 20).map((d) => d.seq)).toEqual([1, 2]);
    expect(store.syncs).toHaveLength(1);
    expect(queue.readBatch(0, 1000, 1 << 30)).toHaveLength(80);
    expect(store.syncs).toHaveLength(segments);
    expect(new Set(store.syncs.map((c) => c.name)).size).toBe(segments); // each segment once
    expect(queue.readBatch(0, 1000, 1 << 30)).toHaveLength(80);
    expect(store.syncs).toHaveLength(segments);
    queue.close();
  });

  it("a group flush that succeeds after another sync failed and cut the log marks nothing durable: the next commits get a flush of their own", async () => {
    let failCommit = false;
    const { queue, store } = openObserved({ durability: "full" });
    // A commit's own sync (write()) is a data sync; a group flush is a background one.
    store.failSync = (call) => (failCommit && call.kind === "data" ? eio() : null);
    fill(queue, 1, 1, true);
    fill(queue, 1, 2, false); // seqs 2–3 wait for a group flush, as writeAsync's do
    const waiting = queue.whenDurable();
    // Keep the thread pool busy so that the flush, once started, is still running below.
    const busy = occupyThreadPool();
    await new Promise((resolve) => setImmediate(resolve));
    const flushing = (): boolean => store.backgroundSyncsRunning > 0;
    expect(flushing()).toBe(true);
    // A write() whose own fdatasync fails cuts the log back to seq 1 and rejects the waiters.
    failCommit = true;
    expect(() => fill(queue, 1, 1, true)).toThrow(/EIO/);
    failCommit = false;
    await expect(waiting).rejects.toThrow(/EIO/);
    await Promise.all(busy);
    while (flushing()) await new Promise((resolve) => setTimeout(resolve, 5));
    // The flush succeeded, but for bytes that are gone: nothing past seq 1 is durable.
    expect(queue.lastCommittedSeq()).toBe(1);
    expect(queue.lastWrittenSeq()).toBe(1);
    fill(queue, 1, 1, false);
    expect(queue.lastCommittedSeq()).toBe(1);
    const flushes = store.countSyncs("background");
    await queue.whenDurable();
    expect(store.countSyncs("background")).toBe(flushes + 1);
    expect(queue.lastCommittedSeq()).toBe(2);
    queue.close();
  });

  it("a failed group flush rejects every waiting writeAsync and cuts their frames: never uploaded, not found after reopen", async () => {
    let failGroup = false;
    const { queue, store } = openObserved();
    // Under "full" the only background sync is the group flush.
    store.failSync = (call) => (failGroup && call.kind === "background" ? eio() : null);
    fill(queue, 2, 2, true);
    const durableBytes = queue.stats().pendingBytes;
    failGroup = true;
    const waits: Promise<void>[] = [];
    for (let i = 0; i < 5; i++) {
      fill(queue, 1, 3, false);
      waits.push(queue.whenDurable());
    }
    const settled = await Promise.allSettled(waits);
    expect(settled.map((r) => r.status)).toEqual(Array(5).fill("rejected"));
    expect((settled[0] as PromiseRejectedResult).reason).toMatchObject({ code: "EIO" });
    expect(queue.lastCommittedSeq()).toBe(4);
    expect(queue.stats()).toMatchObject({ pendingDocuments: 4, pendingBytes: durableBytes });
    expect(readAll(queue).map((d) => d.seq)).toEqual([1, 2, 3, 4]);
    // The app retries: numbering follows the durable documents, and a later flush works.
    failGroup = false;
    expect(fill(queue, 1, 3, false)).toBe(7);
    await queue.whenDurable();
    expect(queue.lastCommittedSeq()).toBe(7);
    queue.close();
    const reopened = openQueue();
    expect(readAll(reopened).map((d) => d.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    reopened.close();
  });

  it("a failed commit fdatasync under full takes the pending writeAsync transactions with it", async () => {
    let fail = false;
    const { queue, store } = openObserved();
    store.failSync = (call) => (fail && call.kind === "data" ? eio() : null);
    fill(queue, 1, 2, true);
    fill(queue, 1, 2, false);
    const pending = queue.whenDurable();
    fail = true;
    expect(() => fill(queue, 1, 2, true)).toThrow(/EIO/);
    await expect(pending).rejects.toThrow(/EIO/);
    fail = false;
    expect(queue.stats().pendingDocuments).toBe(2);
    expect(fill(queue, 1, 1, true)).toBe(3);
    queue.close();
    const reopened = openQueue();
    expect(readAll(reopened).map((d) => d.seq)).toEqual([1, 2, 3]);
    reopened.close();
  });

  it("when the cut is impossible, the queue fails: writes and reads throw QueueFailedError until reopen, data kept", async () => {
    let failGroup = true;
    const { queue, store } = openObserved();
    store.failSync = (call) => (failGroup && call.kind === "background" ? eio() : null);
    fill(queue, 1, 2, false);
    const pending = queue.whenDurable();
    queue.begin(); // a raw transaction open when the flush fails: its numbers cannot be moved
    await expect(pending).rejects.toThrow(/EIO/);
    queue.rollback();
    failGroup = false;
    expect(() => queue.begin()).toThrow(QueueFailedError);
    expect(() => queue.readBatch(0, 10, 1 << 20)).toThrow(QueueFailedError);
    expect(() => queue.acknowledge(1)).toThrow(QueueFailedError);
    queue.close();
    // Reopening recovers what the disk holds (here the page cache still had the frame).
    const reopened = openQueue();
    expect(reopened.lastCommittedSeq()).toBe(2);
    reopened.close();
  });
});

describe("DurableQueue: repair", () => {
  it("truncate-at-damage cuts the log at a damaged frame of a sealed segment, drops later segments, reports the loss and opens", () => {
    const queue = openQueue({ segmentBytes: 2048 });
    fill(queue, 40, 2, true);
    queue.acknowledge(2);
    const files = queue.segmentFiles();
    expect(files.length).toBeGreaterThanOrEqual(3);
    queue.close();
    const target = files[1]!;
    const baseSeq = Number(/seg-(\d+)\.log$/.exec(target)![1]);
    const bytes = fs.readFileSync(target);
    const secondFrame = SEGMENT_HEADER_BYTES + FRAME_HEADER_BYTES + bytes.readUInt32LE(SEGMENT_HEADER_BYTES + 8);
    bytes[secondFrame + FRAME_HEADER_BYTES + 10] = bytes[secondFrame + FRAME_HEADER_BYTES + 10]! ^ 0x04;
    fs.writeFileSync(target, bytes);
    const expectedCut = bytes.length - secondFrame + files.slice(2).reduce((n, f) => n + fs.statSync(f).size, 0);

    // Without repair the uploader can never get past the damage.
    const stuck = openQueue({ segmentBytes: 2048 });
    expect(() => stuck.readBatch(0, 1000, 1 << 30)).toThrow(QueueCorruptedError);
    stuck.close();

    const reports: RecoveryReport[] = [];
    const repaired = openQueue({ segmentBytes: 2048, repair: "truncate-at-damage", onRecovery: (r) => reports.push(r) });
    expect(reports).toEqual([
      {
        kind: "repair",
        file: target,
        offset: secondFrame,
        bytesCut: expectedCut,
        reason: "frame checksum mismatch",
        lostSeqs: { from: baseSeq + 2, to: 80 },
        droppedSegments: files.slice(2),
      },
    ]);
    expect(repaired.stats().lastRecovery).toEqual(reports[0]);
    for (const dropped of files.slice(2)) expect(fs.existsSync(dropped)).toBe(false);
    expect(fs.statSync(target).size).toBe(secondFrame);
    expect(readAll(repaired).map((d) => d.seq)).toEqual(Array.from({ length: baseSeq + 1 - 2 }, (_, i) => i + 3));
    // Lost numbers are never given again (the server may have stored them).
    expect(fill(repaired, 1, 1, true)).toBe(81);
    expect(readAll(repaired).at(-1)!.seq).toBe(81);
    repaired.close();

    const healthy = openQueue({ segmentBytes: 2048 });
    expect(healthy.stats().lastRecovery).toBeNull();
    expect(healthy.acknowledgedSeq()).toBe(2);
    expect(readAll(healthy).map((d) => d.seq)).toEqual([...Array.from({ length: baseSeq - 1 }, (_, i) => i + 3), 81]);
    healthy.acknowledge(81);
    expect(healthy.stats().pendingDocuments).toBe(0);
    healthy.close();
  });

  it("truncate-at-damage on a healthy queue changes nothing and reports nothing", () => {
    const queue = openQueue({ segmentBytes: 2048 });
    fill(queue, 20, 2, true);
    queue.close();
    const reports: RecoveryReport[] = [];
    const again = openQueue({ segmentBytes: 2048, repair: "truncate-at-damage", onRecovery: (r) => reports.push(r) });
    expect(reports).toEqual([]);
    expect(readAll(again)).toHaveLength(40);
    again.close();
  });
});
