/**
 * The parts of the browser Realm that need no browser, on Node: the owner's append of
 * pre-encoded transactions (each once, whoever re-sends it; a malformed one refused whole),
 * typed errors across a message channel, and the localStorage user store.
 */
import { describe, expect, it } from "@jest/globals";
import { BsonWriter } from "../../runtime/encode/bson-writer.js";
import { AsymgenError, QueueFullError } from "../../runtime/errors.js";
import { DurableQueue } from "../../runtime/queue/durable-queue.js";
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
