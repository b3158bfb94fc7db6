/**
 * The parts of the browser Realm that need no browser, on Node: the owner's append of
 * pre-encoded transactions (each once, whoever re-sends it; a malformed one refused whole),
 * typed errors across a message channel, and the localStorage user store.
 */
import zlib from "node:zlib";
import { describe, expect, it } from "@jest/globals";
import { BsonWriter } from "../../runtime/encode/bson-writer.js";
import { AsymgenError, QueueCorruptedError, QueueFullError } from "../../runtime/errors.js";
import { DurableQueue } from "../../runtime/queue/durable-queue.js";
import { HEAD_GAP_BYTES } from "../../runtime/queue/transaction-buffer.js";
import { createMemoryLogStore } from "../support/memory-log-store.js";
import { QueueOwner } from "../../runtime/browser/queue-owner.js";
import type { EncodedTransaction } from "../../runtime/browser/queue-worker-protocol.js";
import { fromTransferableError, toTransferableError } from "../../runtime/browser/transferable-error.js";
import { openLocalStorageUserStore } from "../../runtime/browser/local-storage-user-store.js";

function transaction(id: string, values: number[]): EncodedTransaction {
  const writer = new BsonWriter();
  for (const value of values) {
    const start = writer.startDocument();
    writer.int64("_id", value);
    writer.endDocument(start);
  }
  return { id, tables: ["t"], docTables: new Uint16Array(values.length), bytes: writer.copy() };
}

/** The same, encoded as the page does: after room for the frame head, a view into the (transferable) buffer. */
function inPlaceTransaction(id: string, values: number[]): EncodedTransaction {
  const writer = new BsonWriter();
  writer.reserve(HEAD_GAP_BYTES);
  for (const value of values) encodeId(writer, value);
  return { id, tables: ["t"], docTables: new Uint16Array(values.length), bytes: writer.subarray(HEAD_GAP_BYTES) };
}

/** A document that is only its `_id`. */
function encodeId(writer: BsonWriter, value: number): void {
  const start = writer.startDocument();
  writer.int64("_id", value);
  writer.endDocument(start);
}

/** Whether a transaction of `count` such documents (ids from `firstId`) would roll the queue's segment over; nothing is kept. */
function commitWouldRollOver(queue: DurableQueue, count: number, firstId: number): boolean {
  queue.begin();
  for (let i = 0; i < count; i++) queue.append("t", encodeId, firstId + i);
  const rolls = queue.commitRollsOver();
  queue.rollback();
  return rolls;
}

function openOwner(maxQueueBytes?: number): { owner: QueueOwner; queue: DurableQueue } {
  const queue = DurableQueue.open({ store: createMemoryLogStore("memory:test"), ...(maxQueueBytes !== undefined && { maxQueueBytes }) });
  return { owner: new QueueOwner("owner-1", queue), queue };
}

describe("QueueOwner", () => {
  it("appends a transaction's documents byte for byte, once, however often it is sent", async () => {
    const { owner, queue } = openOwner();
    const txn = transaction("page:1", [1, 2, 3]);
    const [first, again] = await Promise.all([owner.commit(txn), owner.commit(transaction("page:1", [1, 2, 3]))]);
    expect(first).toEqual({ owner: "owner-1", firstSeq: 1, lastSeq: 3 });
    expect(again).toEqual(first);
    expect(await owner.commit(transaction("page:1", [1, 2, 3]))).toEqual(first);
    expect(await owner.commit(transaction("page:2", [4]))).toEqual({ owner: "owner-1", firstSeq: 4, lastSeq: 4 });
    const read = queue.readBatch(0, 10, 1 << 20);
    expect(read.map((d) => d.seq)).toEqual([1, 2, 3, 4]);
    expect(Buffer.concat(read.slice(0, 3).map((d) => d.bson))).toEqual(Buffer.from(txn.bytes));
    expect(await owner.answer({ kind: "stats" })).toMatchObject({ owner: "owner-1", appendedTransactions: 2, pendingDocuments: 4 });
    owner.close();
  });

  it("appends only between flushes when asked (IndexedDB): arrivals wait and go as one group; one that would roll over opens the next group; one still queued after a refused flush is answered once a later flush succeeds", async () => {
    // segmentBytes small: a few of these transactions fill a segment.
    const queue = DurableQueue.open({ store: createMemoryLogStore("memory:test"), segmentBytes: 4096 });
    const flushes: { resolve: () => void; reject: (error: Error) => void }[] = [];
    const durableAfter = () => new Promise<void>((resolve, reject) => flushes.push({ resolve, reject }));
    const owner = new QueueOwner("owner-1", queue, durableAfter, { appendBetweenFlushes: true });
    const settled: string[] = [];
    const track = (id: string, answer: Promise<unknown>) => answer.then(() => settled.push(`${id} ok`), (error: Error) => settled.push(`${id} ${error.name}`));
    // A timer turn, then a check turn: past anything the queue scheduled before it with
    // setImmediate (its group flush) whichever phase the loop reaches first. A bare setTimeout(0)
    // can fire before a pending setImmediate (its 1 ms elapsed on a loaded machine).
    const tick = () => new Promise((resolve) => setTimeout(() => setImmediate(resolve), 0));
    const values = (from: number) => Array.from({ length: 20 }, (_, i) => from + i);
    const appended = async () => ((await owner.answer({ kind: "stats" })) as { appendedTransactions: number }).appendedTransactions;

    const a = track("a", owner.commit(transaction("a", values(0))));
    await tick();
    expect(flushes).toHaveLength(1);
    const b = track("b", owner.commit(transaction("b", values(100))));
    const c = track("c", owner.commit(transaction("c", values(200))));
    await tick();
    // b and c wait for a's flush: not appended yet.
    expect(await appended()).toBe(1);
    flushes[0]!.resolve();
    await a;
    await tick();
    expect(await appended()).toBe(3);
    expect(flushes).toHaveLength(2);
    expect(settled).toEqual(["a ok"]);

    // The store refuses the flush, but the memory queue holds b and c (nothing was cut): they are
    // neither refused nor answered durable until a flush succeeds.
    flushes[1]!.reject(Object.assign(new Error("refused"), { code: "ENOSPC" }));
    await tick();
    expect(settled).toEqual(["a ok"]);
    const d = track("d", owner.commit(transaction("d", values(300))));
    await tick();
    expect(flushes).toHaveLength(3);
    flushes[2]!.resolve();
    await Promise.all([b, c, d]);
    expect(settled).toEqual(["a ok", "b ok", "c ok", "d ok"]);

    // Fill the active segment until 30 more documents would roll it over (a few single ones still fit).
    const wouldRollOver = (count: number) => commitWouldRollOver(queue, count, 5000);
    let next = 400;
    while (!wouldRollOver(30)) {
      queue.begin();
      queue.append("t", encodeId, next++);
      queue.commit(false);
      await queue.whenDurable();
    }
    expect(wouldRollOver(1)).toBe(false);
    const segments = queue.segmentFiles().length;
    const h = track("h", owner.commit(transaction("h", [next++])));
    await tick();
    // While h's flush runs: e fits, f (30 documents) would roll over after it.
    const e = track("e", owner.commit(transaction("e", [next++])));
    const f = track("f", owner.commit(transaction("f", Array.from({ length: 30 }, (_, i) => 2000 + i))));
    await tick();
    const before = await appended();
    flushes[3]!.resolve();
    await h;
    await tick();
    // e went alone: f waits for e's flush, so no rollover vouches for e before its flush.
    expect(await appended()).toBe(before + 1);
    expect(queue.segmentFiles().length).toBe(segments);
    flushes[4]!.resolve();
    await e;
    await tick();
    expect(await appended()).toBe(before + 2);
    expect(queue.segmentFiles().length).toBe(segments + 1);
    flushes[5]!.resolve();
    await f;
    expect(settled.slice(-3)).toEqual(["h ok", "e ok", "f ok"]);
    owner.close();
  });

  it("waits for the store before a commit that rolls over (OPFS: no spare file ready yet): the transactions behind it wait too and keep their order; one that fits goes at once", async () => {
    const queue = DurableQueue.open({ store: createMemoryLogStore("memory:test"), segmentBytes: 4096 });
    // The store's readiness: open (null) or a promise the test resolves, as whenSpareReady gives.
    let gate: { promise: Promise<void>; open: () => void } | null = null;
    const closeGate = () => {
      let open!: () => void;
      const promise = new Promise<void>((resolve) => (open = resolve));
      gate = {
        promise,
        open: () => {
          gate = null;
          open();
        },
      };
    };
    let asked = 0;
    const owner = new QueueOwner("owner-1", queue, undefined, {
      whenReadyToRollOver: () => {
        asked++;
        return gate?.promise ?? null;
      },
    });
    // A timer turn, then a check turn: past anything the queue scheduled before it with
    // setImmediate (its group flush) whichever phase the loop reaches first. A bare setTimeout(0)
    // can fire before a pending setImmediate (its 1 ms elapsed on a loaded machine).
    const tick = () => new Promise((resolve) => setTimeout(() => setImmediate(resolve), 0));
    const appended = async () => ((await owner.answer({ kind: "stats" })) as { appendedTransactions: number }).appendedTransactions;
    const wouldRollOver = (count: number) => commitWouldRollOver(queue, count, 9000);
    let next = 1;
    while (!wouldRollOver(30)) await owner.commit(transaction(`fill:${next}`, [next++]));
    expect(wouldRollOver(1)).toBe(false);
    const segments = queue.segmentFiles().length;

    // Not ready: a transaction that fits still goes at once.
    closeGate();
    const fits = await owner.commit(transaction("fits", [next++]));
    expect(fits.lastSeq).toBe(next - 1);
    // One that would roll over waits; one behind it that would fit waits too (order kept).
    const filled = await appended();
    const big = owner.commit(transaction("big", Array.from({ length: 30 }, (_, i) => 1000 + i)));
    const small = owner.commit(transaction("small", [next++]));
    await tick();
    expect(await appended()).toBe(filled);
    expect(queue.segmentFiles().length).toBe(segments);
    gate!.open();
    const [bigSeqs, smallSeqs] = await Promise.all([big, small]);
    expect(await appended()).toBe(filled + 2);
    expect(queue.segmentFiles().length).toBe(segments + 1);
    expect(smallSeqs.firstSeq).toBe(bigSeqs.lastSeq + 1);
    expect(asked).toBeGreaterThan(0);
    // Ready again: nothing waits.
    expect((await owner.commit(transaction("after", [next++]))).firstSeq).toBe(smallSeqs.lastSeq + 1);
    owner.close();
  });

  it("writes a transaction encoded in the queue's layout from the page's own buffer, and gives back one the queue no longer uses", async () => {
    const { owner, queue } = openOwner();
    const first = inPlaceTransaction("page:1", [1, 2, 3]);
    const expected = Buffer.from(first.bytes);
    expect(await owner.commit(first)).toEqual({ owner: "owner-1", firstSeq: 1, lastSeq: 3 });
    const returned = owner.bufferToReturn(first);
    expect(returned).not.toBe(first.bytes.buffer);
    // A copied one (a small transaction, a follower's) goes the copying way, and keeps its buffer.
    const copied = transaction("page:2", [4]);
    expect(await owner.commit(copied)).toEqual({ owner: "owner-1", firstSeq: 4, lastSeq: 4 });
    expect(owner.bufferToReturn(copied)).toBe(copied.bytes.buffer);
    const second = inPlaceTransaction("page:3", [5, 6]);
    await owner.commit(second);
    // The queue held the first page buffer until now: that one goes back with the second answer.
    expect(owner.bufferToReturn(second)).toBe(first.bytes.buffer);
    // What the page gets back may be overwritten: the queue keeps no view of it.
    new Uint8Array(owner.bufferToReturn(second)).fill(0xff);
    new Uint8Array(returned).fill(0xff);
    const read = queue.readBatch(0, 10, 1 << 20);
    expect(read.map((d) => d.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Buffer.concat(read.slice(0, 3).map((d) => d.bson))).toEqual(expected);
    expect(read.map((d) => d.table)).toEqual(["t", "t", "t", "t", "t", "t"]);
    owner.close();
  });

  it("takes the documents' checksum from the page when it sends one (docsCrc: the frame's checksum combines it with the table section's); a wrong one makes a frame that fails its check", async () => {
    const right = openOwner();
    const txn = inPlaceTransaction("page:1", [1, 2, 3]);
    const expected = Buffer.from(txn.bytes);
    txn.docsCrc = zlib.crc32(txn.bytes);
    await right.owner.commit(txn);
    // Read back from the store, each frame's payload checked against its checksum.
    expect(Buffer.concat(right.queue.readBatch(0, 10, 1 << 20).map((d) => d.bson))).toEqual(expected);
    right.owner.close();

    const wrong = openOwner();
    const bad = inPlaceTransaction("page:1", [1, 2, 3]);
    bad.docsCrc = (zlib.crc32(bad.bytes) ^ 1) >>> 0;
    await wrong.owner.commit(bad);
    expect(() => wrong.queue.readBatch(0, 10, 1 << 20)).toThrow(QueueCorruptedError);
    wrong.owner.close();
  });

  it("flushes a page's lone writeAsync in the task that appends it; others wait for the group flush", async () => {
    const { owner, queue } = openOwner();
    const grouped = owner.commit(transaction("page:1", [1]));
    expect(queue.lastWrittenSeq()).toBe(1);
    expect(queue.lastCommittedSeq()).toBe(0);
    await grouped;
    expect(queue.lastCommittedSeq()).toBe(1);
    const alone = owner.commit({ ...inPlaceTransaction("page:2", [2, 3]), alone: true });
    // Durable before any other task ran: no group flush to wait for.
    expect(queue.lastCommittedSeq()).toBe(3);
    expect(await alone).toEqual({ owner: "owner-1", firstSeq: 2, lastSeq: 3 });
    owner.close();
  });

  it("refuses a malformed transaction in the queue's layout whole, and keeps the page's buffer for its answer", async () => {
    const { owner, queue } = openOwner();
    const good = inPlaceTransaction("page:1", [1, 2]);
    const noTable = { ...good, id: "page:2", docTables: new Uint16Array([0, 5]) };
    await expect(owner.commit(noTable)).rejects.toThrow(/names no table/);
    const cut = { ...good, id: "page:3", bytes: good.bytes.subarray(0, good.bytes.length - 3) };
    await expect(owner.commit(cut)).rejects.toThrow(/not a BSON document/);
    expect(owner.bufferToReturn(noTable)).toBe(good.bytes.buffer);
    expect(queue.lastWrittenSeq()).toBe(0);
    expect(await owner.commit(good)).toMatchObject({ firstSeq: 1, lastSeq: 2 });
    owner.close();
  });

  it("refuses a malformed transaction whole: nothing of it is queued", async () => {
    const { owner, queue } = openOwner();
    const good = transaction("page:1", [1, 2]);
    const cut = { ...good, id: "page:2", bytes: good.bytes.subarray(0, good.bytes.length - 3) };
    await expect(owner.commit(cut)).rejects.toThrow(/not a BSON document/);
    const trailing = { ...good, id: "page:3", bytes: new Uint8Array([...good.bytes, 0]) };
    await expect(owner.commit(trailing)).rejects.toThrow(/bytes after its last document/);
    const noTable = { ...good, id: "page:4", docTables: new Uint16Array([0, 5]) };
    await expect(owner.commit(noTable)).rejects.toThrow(/names no table/);
    expect(queue.lastWrittenSeq()).toBe(0);
    // The refused id is forgotten: a corrected transaction under it is appended.
    expect(await owner.commit({ ...good, id: "page:2" })).toMatchObject({ firstSeq: 1, lastSeq: 2 });
    owner.close();
  });

  it("rejects with the queue's typed error when the queue is full", async () => {
    const { owner } = openOwner(200);
    const error = await owner.commit(transaction("page:1", Array.from({ length: 40 }, (_, i) => i))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueueFullError);
    // Across postMessage it stays a QueueFullError with its fields.
    const crossed = fromTransferableError(structuredClone(toTransferableError(error)));
    expect(crossed).toBeInstanceOf(QueueFullError);
    expect(crossed).toBeInstanceOf(AsymgenError);
    expect((crossed as QueueFullError).maxQueueBytes).toBe(200);
    expect(crossed.message).toBe((error as Error).message);
    owner.close();
  });

  it("answers session requests with an error when opened without sync", async () => {
    const { owner } = openOwner();
    await expect(owner.answer({ kind: "upload-all" })).rejects.toThrow(/without sync/);
    owner.close();
  });
});

describe("openLocalStorageUserStore", () => {
  it("keeps an app's users in localStorage, and falls back to memory where there is none", () => {
    const items = new Map<string, string>();
    const storage = { getItem: (k: string) => items.get(k) ?? null, setItem: (k: string, v: string) => void items.set(k, v), removeItem: (k: string) => void items.delete(k) };
    const global = globalThis as { localStorage?: unknown };
    global.localStorage = storage;
    try {
      const users = { currentUserId: "u1", users: [{ id: "u1", deviceId: "d", providerType: "anon-user" as const, accessToken: "a", refreshToken: "r" }] };
      openLocalStorageUserStore("app").write(users);
      expect(openLocalStorageUserStore("app").read()).toEqual(users);
      expect(openLocalStorageUserStore("other").read()).toEqual({ currentUserId: null, users: [] });
      items.set("asymgen:users:app", "{not json");
      expect(openLocalStorageUserStore("app").read()).toEqual({ currentUserId: null, users: [] });
    } finally {
      delete global.localStorage;
    }
    const memory = openLocalStorageUserStore("app");
    expect(memory.location).toBe("memory:app-app");
  });
});
