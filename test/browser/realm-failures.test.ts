/**
 * How the browser Realm ends when something goes wrong, in real Chromium (a real `asymgen serve`
 * for the sync cases): every call settles, `close()` resolves. A takeover that fails rejects the
 * follower's pending transactions and fails the Realm; an uncaught error in the queue worker
 * fails the Realm and ends the worker; `close()` with an upload-all still waiting (offline)
 * resolves; `uploadAllLocalChanges(timeoutMs)` keeps its deadline while no tab owns the queue;
 * a tab asking for another storage kind than the owner's is refused at open.
 *
 * "No tab owns the queue" is made by the test page holding the queue's Web Lock itself
 * (`holdQueueLock`): every Realm is then a follower waiting for it, until `releaseQueueLock`.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { Page } from "playwright-core";
import { startFaultServer, type FaultServer } from "./realm-faults-support.js";
import { call, startRealmFixture, type RealmFixture, type SameOriginProxy } from "./realm-fixture.js";

const fastSync = { initialBackoffMs: 20, maxBackoffMs: 300, requestTimeoutMs: 5_000 };

interface ErrorDescription {
  name: string;
  message: string;
  fields: Record<string, unknown>;
}

/** Takes the Web Lock of queue `queuePath` in the page (not in a Realm) and keeps it until `releaseQueueLock`. */
async function holdQueueLock(page: Page, queuePath: string): Promise<void> {
  await page.evaluate(
    (name) =>
      new Promise<void>((granted) => {
        void navigator.locks.request(name, () => {
          granted();
          return new Promise<void>((release) => ((window as unknown as { releaseQueueLock: () => void }).releaseQueueLock = release));
        });
      }),
    `asymgen:queue:${queuePath}`,
  );
}

async function releaseQueueLock(page: Page): Promise<void> {
  await page.evaluate(() => (window as unknown as { releaseQueueLock: () => void }).releaseQueueLock());
}

/** `promise`, or "timed out" after `ms`: a hang fails the expectation instead of the whole test's timeout. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | "timed out"> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<"timed out">((resolve) => (timer = setTimeout(() => resolve("timed out"), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

describe("the browser Realm when things fail (real Chromium)", () => {
  let fixture: RealmFixture;
  let api: FaultServer;
  let proxy: SameOriginProxy;

  beforeAll(async () => {
    fixture = await startRealmFixture();
    api = await startFaultServer(fixture.server.origin);
    proxy = api.proxy;
  }, 60_000);

  afterAll(async () => {
    await fixture?.close();
    await api?.close();
  });

  it("a takeover that fails rejects the follower's pending transaction and request with its error, and every later call at once; close resolves", async () => {
    const browser = await fixture.startBrowser();
    const tab = await fixture.openPage(browser);
    await holdQueueLock(tab, "bad-takeover");
    // maxQueueBytes is checked by the queue when it opens: in a follower, only at its takeover.
    expect(await call(tab, "open", { path: "bad-takeover", maxQueueBytes: -1 })).toMatchObject({ role: "follower" });
    const pendingWrite = call<ErrorDescription | null>(tab, "writeAsyncError", "tab", 0, 2);
    const pendingStats = tab.evaluate(() =>
      (window as unknown as { realmTest: { stats(): Promise<unknown> } }).realmTest.stats().then(
        () => null,
        (error: Error) => error.message,
      ),
    );
    await releaseQueueLock(tab);
    const failed = await within(pendingWrite, 10_000);
    expect(failed).toMatchObject({ name: "AsymgenError", message: expect.stringContaining("maxQueueBytes must be a positive number") });
    expect(await within(pendingStats, 5_000)).toContain("maxQueueBytes must be a positive number");
    const started = Date.now();
    expect(await call(tab, "writeAsyncError", "tab", 2, 1)).toMatchObject({ name: "AsymgenError", message: expect.stringContaining("maxQueueBytes") });
    // At once, not after a wait: 5 s only leaves a loaded machine room (a hang waits forever).
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await within(call(tab, "close"), 10_000)).toBe(true);
  }, 60_000);

  it("an uncaught error in the queue worker fails the Realm at once and ends the worker (another tab then owns the queue); close resolves", async () => {
    const browser = await fixture.startBrowser();
    const tab = await fixture.openPage(browser);
    expect(await call(tab, "open", { path: "worker-error" })).toMatchObject({ role: "owner" });
    expect(await call(tab, "writeAsync", "tab", 0, 1)).toEqual([1]);
    const worker = tab.workers().find((w) => w.url().endsWith("/queue-worker.js"));
    expect(worker).toBeDefined();
    await worker!.evaluate(() => {
      setTimeout(() => {
        throw new Error("a bug in the queue worker");
      }, 0);
    });
    // The error event reaches the page in a moment; until then writes still go through.
    const deadline = Date.now() + 5_000;
    let first = 1;
    while ((await call(tab, "writeAsyncError", "tab", first, 1)) === null && Date.now() < deadline) first += 1;
    const error = await within(call<ErrorDescription | null>(tab, "writeAsyncError", "tab", 2, 1), 2_000);
    expect(error).toMatchObject({ name: "TransactionStateError", message: expect.stringContaining("the queue worker failed") });
    expect(error).toMatchObject({ message: expect.stringContaining("a bug in the queue worker") });
    expect(await within(call(tab, "close"), 10_000)).toBe(true);
    // The worker was ended, so its lock went with it: a new tab owns the queue.
    const next = await fixture.openPage(browser);
    expect(await call(next, "open", { path: "worker-error" })).toMatchObject({ role: "owner" });
    await call(next, "close");
  }, 60_000);

  it("close() with an upload-all waiting on a server it cannot reach resolves, and the upload-all rejects as closed", async () => {
    const browser = await fixture.startBrowser();
    const tab = await fixture.openPage(browser, "/realm.html", proxy.origin);
    const sync = { appId: "e2e", baseUrl: proxy.origin };
    expect(await call(tab, "open", { path: "close-offline", sync, syncOptions: fastSync })).toMatchObject({ role: "owner" });
    proxy.setApiDown(true);
    try {
      expect(await call(tab, "writeAsync", "tab", 0, 2)).toEqual([1, 2]);
      const upload = call<{ pending: number; error: ErrorDescription | null }>(tab, "uploadAllOrError", undefined);
      // A write, and close in the same turn: close finds the transaction unanswered and waits for it.
      const closing = tab.evaluate(() => {
        const api = (window as unknown as { realmTest: { write(t: string, f: number, c: number): number; close(): Promise<boolean> } }).realmTest;
        api.write("tab", 2, 1);
        return api.close();
      });
      expect(await within(closing, 15_000)).toBe(true);
      const outcome = await within(upload, 5_000);
      expect(outcome).toMatchObject({ error: { name: "SyncError", fields: expect.objectContaining({ code: "session_closed" }) } });
    } finally {
      proxy.setApiDown(false);
    }
  }, 60_000);

  it("uploadAllLocalChanges(timeoutMs) keeps its deadline while no tab owns the queue (the transactions before it unanswered)", async () => {
    const browser = await fixture.startBrowser();
    const tab = await fixture.openPage(browser, "/realm.html", proxy.origin);
    await holdQueueLock(tab, "no-owner");
    const sync = { appId: "e2e", baseUrl: proxy.origin };
    expect(await call(tab, "open", { path: "no-owner", sync, syncOptions: fastSync })).toMatchObject({ role: "follower" });
    expect(await call(tab, "write", "tab", 0, 1)).toBe(1);
    const started = Date.now();
    const outcome = await within(call<{ pending: number; error: ErrorDescription | null }>(tab, "uploadAllOrError", 500), 10_000);
    const took = Date.now() - started;
    expect(outcome).toMatchObject({ error: { name: "SyncError", message: expect.stringContaining("timed out after 500 ms"), fields: expect.objectContaining({ code: "timeout" }) } });
    expect(took).toBeGreaterThanOrEqual(450);
    expect(took).toBeLessThan(5_000);
    // The lock goes: the tab's worker owns the queue, appends what it kept, and closes.
    await releaseQueueLock(tab);
    await tab.waitForFunction(() => (window as unknown as { realmTest: { role(): string } }).realmTest.role() === "owner");
    expect(await within(call(tab, "close"), 15_000)).toBe(true);
  }, 60_000);

  it("a tab asking for another storage kind than the owner's is refused at open with QueueStorageMismatchError; 'auto' follows the owner", async () => {
    const browser = await fixture.startBrowser();
    const owner = await fixture.openPage(browser);
    const other = await fixture.openPage(browser);
    const auto = await fixture.openPage(browser);
    expect(await call(owner, "open", { path: "kinds", storage: "opfs" })).toMatchObject({ role: "owner" });
    const refused = await call<ErrorDescription | null>(other, "openError", { path: "kinds", storage: "indexeddb" });
    expect(refused).toMatchObject({
      name: "QueueStorageMismatchError",
      message: expect.stringContaining('keeps it in opfs, but this Realm asked for storage "indexeddb"'),
      fields: expect.objectContaining({ path: "kinds", requested: "indexeddb", ownerStorage: "opfs" }),
    });
    expect(await call(auto, "open", { path: "kinds" })).toMatchObject({ role: "follower" });
    expect(await call(auto, "writeAsync", "auto", 0, 1)).toEqual([1]);
    // The refused tab holds nothing: it opens again once it asks for what the owner has.
    expect(await call(other, "open", { path: "kinds", storage: "opfs" })).toMatchObject({ role: "follower" });
    for (const tab of [other, auto, owner]) await call(tab, "close");
  }, 60_000);
});
