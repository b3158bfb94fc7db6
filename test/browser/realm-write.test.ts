/**
 * The browser Realm from one page, in real Chromium: `writeAsync` resolves once the owner's
 * queue holds the transaction, `write` hands it over and returns, an invalid document throws
 * synchronously with nothing sent, the queue's typed errors reach the page as their classes, and
 * the page's Realm reports its role and closes. The queue is the in-memory store behind
 * runtime/browser/open-browser-log-store.ts (until the durable stores are merged), so everything
 * here happens within one browser life.
 */
import os from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { call, startRealmFixture, startSameOriginProxy, type RealmFixture } from "./realm-fixture.js";

/** This machine's first non-loopback IPv4 address: a page served from it is not a secure context. */
function nonLoopbackAddress(): string | null {
  for (const addresses of Object.values(os.networkInterfaces())) {
    for (const address of addresses ?? []) if (address.family === "IPv4" && !address.internal) return address.address;
  }
  return null;
}

interface Stats {
  owner: string;
  appendedTransactions: number;
  pendingDocuments: number;
  pendingBytes: number;
}

describe("the browser Realm in one page (real Chromium)", () => {
  let fixture: RealmFixture;

  beforeAll(async () => {
    fixture = await startRealmFixture();
  });

  afterAll(async () => {
    await fixture.close();
  });

  it("queues writeAsync and write transactions in the worker, and refuses bad ones before sending anything", async () => {
    const browser = await fixture.startBrowser();
    const page = await fixture.openPage(browser);
    const opened = await call<{ role: string; persisted: boolean }>(page, "open", { path: "one-page" });
    expect(opened.role).toBe("owner");
    expect(typeof opened.persisted).toBe("boolean");

    // writeAsync resolves with the callback's result: positions in the transaction, not seqs.
    expect(await call(page, "writeAsync", "tab", 0, 3)).toEqual([1, 2, 3]);
    let stats = await call<Stats>(page, "stats");
    expect(stats.pendingDocuments).toBe(3);
    expect(stats.appendedTransactions).toBe(1);

    // write returns at once; its transaction reaches the queue shortly after.
    expect(await call(page, "write", "tab", 3, 2)).toBe(2);
    await page.waitForFunction(async () => {
      const s = await (window as unknown as { realmTest: { stats(): Promise<Stats> } }).realmTest.stats();
      return s.pendingDocuments === 5;
    });

    // Bad input throws synchronously, as its class, and nothing is sent.
    const invalid = await call<{ name: string; isClass: Record<string, boolean>; fields: Record<string, unknown> }>(page, "tryWrite", "invalid");
    expect(invalid.name).toBe("IngestValidationError");
    expect(invalid.isClass["IngestValidationError"]).toBe(true);
    expect(invalid.fields["path"]).toBe("value");
    expect((await call<{ name: string }>(page, "tryWrite", "async")).name).toBe("TransactionStateError");
    expect((await call<{ name: string }>(page, "tryWrite", "nested")).name).toBe("TransactionStateError");
    expect((await call<{ name: string }>(page, "tryWrite", "outside")).name).toBe("TransactionStateError");
    stats = await call<Stats>(page, "stats");
    expect(stats.pendingDocuments).toBe(5);
    expect(stats.appendedTransactions).toBe(2);

    // A transaction that fails in the worker leaves the page usable.
    expect(await call(page, "writeAsync", "tab", 5, 1)).toEqual([1]);
    expect(await call(page, "close")).toBe(true);
  }, 60_000);

  it("rejects a writeAsync over maxQueueBytes with QueueFullError (its class and fields), queueing nothing of it", async () => {
    const browser = await fixture.startBrowser();
    const page = await fixture.openPage(browser);
    await call(page, "open", { path: "small", maxQueueBytes: 600 });
    expect(await call(page, "writeAsync", "tab", 0, 2)).toEqual([1, 2]);
    const before = await call<Stats>(page, "stats");
    const error = await call<{ name: string; isClass: Record<string, boolean>; fields: Record<string, unknown> } | null>(page, "writeAsyncError", "tab", 10, 40);
    expect(error?.name).toBe("QueueFullError");
    expect(error?.isClass["QueueFullError"]).toBe(true);
    expect(error?.fields["maxQueueBytes"]).toBe(600);
    const after = await call<Stats>(page, "stats");
    expect(after.pendingDocuments).toBe(before.pendingDocuments);
    // write() cannot throw it (it returned already): onWriteError gets it.
    await call(page, "write", "tab", 100, 40);
    await page.waitForFunction(() => (window as unknown as { realmTest: { writeErrors(): unknown[] } }).realmTest.writeErrors().length === 1);
    const writeErrors = await call<{ name: string }[]>(page, "writeErrors");
    expect(writeErrors[0]?.name).toBe("QueueFullError");
    expect((await call<Stats>(page, "stats")).pendingDocuments).toBe(before.pendingDocuments);
    await call(page, "close");
  }, 60_000);

  it("lends a transaction filling half its buffer or more to the worker, which hands the buffer back with the answer (durable or refused) for the next one; a smaller one is copied", async () => {
    const browser = await fixture.startBrowser();
    const page = await fixture.openPage(browser);
    // Room for two transactions of 1000 documents (about 51 KB each), not three.
    await call(page, "open", { path: "buffers", maxQueueBytes: 120_000 });
    expect(await call<number[]>(page, "writeAsync", "tab", 0, 1000)).toHaveLength(1000);
    expect(await call<number[]>(page, "writeAsync", "tab", 1000, 1000)).toHaveLength(1000);
    expect((await call<{ name: string } | null>(page, "writeAsyncError", "tab", 2000, 1000))?.name).toBe("QueueFullError");
    // Two documents in a 64 KiB buffer: copied out, the buffer stays on the page.
    expect(await call(page, "writeAsync", "tab", 3000, 2)).toEqual([1, 2]);
    const sent = await call<{ reusedBuffer: boolean }[]>(page, "sentTxns");
    expect(sent.map((t) => t.reusedBuffer)).toEqual([false, true, true, false]);
    const messages = await call<{ type: string; returnedBuffer: boolean }[]>(page, "messages");
    const answers = messages.filter((m) => m.type === "durable" || m.type === "txn-failed").map((m) => [m.type, m.returnedBuffer]);
    expect(answers).toEqual([
      ["durable", true],
      ["durable", true],
      ["txn-failed", true],
      ["durable", true],
    ]);
    expect((await call<Stats>(page, "stats")).pendingDocuments).toBe(2002);
    await call(page, "close");
  }, 60_000);

  it("refuses to open, with QueueUnsupportedError naming the reason: an insecure context, a worker that cannot start, an unknown storage", async () => {
    const browser = await fixture.startBrowser();
    const page = await fixture.openPage(browser);
    type Refusal = { name: string; message: string; isClass: Record<string, boolean> } | null;
    const missingWorker = await call<Refusal>(page, "openError", { path: "p", workerUrl: "/no-such-worker.js" });
    expect(missingWorker?.isClass["QueueUnsupportedError"]).toBe(true);
    expect(missingWorker?.message).toMatch(/queue worker failed to start/);
    const badStorage = await call<Refusal>(page, "openError", { path: "p", storage: "cookies" });
    expect(badStorage?.isClass["QueueUnsupportedError"]).toBe(true);
    expect(badStorage?.message).toMatch(/storage must be/);

    const address = nonLoopbackAddress();
    if (address === null) {
      console.log("no non-loopback IPv4 address on this machine: the insecure-context case is not run");
      return;
    }
    // The same page over plain http from a non-loopback address: not a secure context, no Web Locks.
    const insecure = await startSameOriginProxy(fixture.server.origin, fixture.server.origin, address);
    try {
      const plain = await fixture.openPage(browser, "/realm.html", insecure.origin);
      expect(await call(plain, "context")).toEqual({ secure: false, locks: "undefined" });
      const refused = await call<Refusal>(plain, "openError", { path: "p" });
      expect(refused?.isClass["QueueUnsupportedError"]).toBe(true);
      expect(refused?.message).toMatch(/secure context/);
    } finally {
      await insecure.close();
    }
  }, 60_000);
});
