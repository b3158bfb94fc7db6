/**
 * The browser Realm from one page, in real Chromium: `writeAsync` resolves once the owner's
 * queue holds the transaction, `write` hands it over and returns, an invalid document throws
 * synchronously with nothing sent, the queue's typed errors reach the page as their classes, and
 * the page's Realm reports its role and closes. The cases that queue run on both stores ("auto",
 * which picks OPFS in Chromium, and the IndexedDB fallback); the refusals need no store.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { call, startRealmFixture, type RealmFixture } from "./realm-fixture.js";

/** The storage options the queueing cases run on: "auto" is OPFS in this Chromium. */
const storages = ["auto", "indexeddb"] as const;

/** A host name that is neither localhost nor an IP literal, so a page served from it is not a secure context. */
const INSECURE_HOST = "insecure.test";

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

  it.each(storages)("on %s: queues writeAsync and write transactions in the worker, and refuses bad ones before sending anything", async (storage) => {
    const browser = await fixture.startBrowser();
    const page = await fixture.openPage(browser);
    const opened = await call<{ role: string; persisted: boolean }>(page, "open", { path: "one-page", storage });
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

  it("reports which store the queue is in: \"auto\" is OPFS in Chromium's worker, \"indexeddb\" when forced, for the owner and a follower alike", async () => {
    const browser = await fixture.startBrowser();
    const cases = [
      { storage: undefined, expected: "opfs" },
      { storage: "auto", expected: "opfs" },
      { storage: "opfs", expected: "opfs" },
      // Last: before it, no queue of this browser may have made IndexedDB's database.
      { storage: "indexeddb", expected: "indexeddb" },
    ];
    for (const { storage, expected } of cases) {
      const path = `kind-${storage ?? "default"}`;
      const options = storage === undefined ? { path } : { path, storage };
      const owner = await fixture.openPage(browser);
      const follower = await fixture.openPage(browser);
      const first = await call<{ role: string }>(owner, "open", options);
      const second = await call<{ role: string }>(follower, "open", options);
      expect([first.role, second.role]).toEqual(["owner", "follower"]);
      const kinds = [await call(owner, "storageKind"), await call(follower, "storageKind")];
      expect({ storage, kinds }).toEqual({ storage, kinds: [expected, expected] });
      // And the queue is where it says: IndexedDB's database exists once an IndexedDB queue wrote, not before.
      expect(await call(follower, "writeAsync", "tab", 0, 2)).toEqual([1, 2]);
      const databases = await owner.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
      expect(databases.includes("asymgen-queues")).toBe(expected === "indexeddb");
      await call(follower, "close");
      await call(owner, "close");
      await follower.close();
      await owner.close();
    }
    // A follower on "auto" under an owner that forced IndexedDB: its documents go to the owner's store, and it says so.
    const owner = await fixture.openPage(browser);
    const follower = await fixture.openPage(browser);
    await call(owner, "open", { path: "kind-mixed", storage: "indexeddb" });
    expect(await call<{ role: string }>(follower, "open", { path: "kind-mixed", storage: "auto" })).toMatchObject({ role: "follower" });
    expect([await call(owner, "storageKind"), await call(follower, "storageKind")]).toEqual(["indexeddb", "indexeddb"]);
  }, 60_000);

  it.each(storages)("on %s: rejects a writeAsync over maxQueueBytes with QueueFullError (its class and fields), queueing nothing of it", async (storage) => {
    const browser = await fixture.startBrowser();
    const page = await fixture.openPage(browser);
    await call(page, "open", { path: "small", storage, maxQueueBytes: 600 });
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
    const writeErrors = await call<{ name: string; isClass: Record<string, boolean> }[]>(page, "writeErrors");
    expect(writeErrors[0]).toMatchObject({ name: "QueueFullError", isClass: { QueueFullError: true } });
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
    // insecure.test resolves to the page server's loopback address, but by its name the page is
    // not a secure context (only localhost and loopback IP literals are): no navigator.locks.
    const browser = await fixture.startBrowser([`--host-resolver-rules=MAP ${INSECURE_HOST} 127.0.0.1`]);
    const page = await fixture.openPage(browser);
    type Refusal = { name: string; message: string; isClass: Record<string, boolean> } | null;
    const missingWorker = await call<Refusal>(page, "openError", { path: "p", workerUrl: "/no-such-worker.js" });
    expect(missingWorker?.isClass["QueueUnsupportedError"]).toBe(true);
    expect(missingWorker?.message).toMatch(/queue worker failed to start/);
    const badStorage = await call<Refusal>(page, "openError", { path: "p", storage: "cookies" });
    expect(badStorage?.isClass["QueueUnsupportedError"]).toBe(true);
    expect(badStorage?.message).toMatch(/storage must be/);

    const insecureOrigin = fixture.server.origin.replace("127.0.0.1", INSECURE_HOST);
    expect(insecureOrigin).toMatch(/^http:\/\/insecure\.test:\d+$/);
    const plain = await fixture.openPage(browser, "/realm.html", insecureOrigin);
    expect(await call(plain, "context")).toEqual({ secure: false, locks: "undefined" });
    const refused = await call<Refusal>(plain, "openError", { path: "p" });
    expect(refused?.isClass["QueueUnsupportedError"]).toBe(true);
    expect(refused?.message).toMatch(/secure context/);
    expect(refused?.message).toMatch(/navigator\.locks|Web Locks/);
  }, 60_000);
});
