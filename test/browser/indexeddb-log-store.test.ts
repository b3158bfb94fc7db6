/**
 * The IndexedDB log store (runtime/browser/indexeddb-log-store.ts), the queue's fallback where
 * OPFS sync access handles are missing, in real Chromium: its LogStore contract in a dedicated
 * worker and in a window; the real DurableQueue over it (durable writes, a normal reopen); a
 * crash sweep (the browser SIGKILLed mid-burst at seeded moments, restarted on the same profile:
 * every transaction reported durable is there exactly once, whole, in order); and the origin's
 * quota reached (CDP Storage.overrideQuotaForOrigin): QueueDiskFullError, the refused transaction
 * not queued, the earlier ones intact; and `whenStored`, which the uploader awaits, at the quota.
 *
 * Seeded: the seed is printed; ASYMGEN_BROWSER_SEED replays a run, ASYMGEN_BROWSER_SWEEP=1 runs
 * the long sweep (40 kills instead of 4).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { Page } from "playwright-core";
import { createSeededRandom } from "../support/seeded-random.mjs";
import type { StoredDocument } from "./pages/indexeddb-harness.js";
import { startChromium, type RunningChromium } from "./support/chromium.js";
import { bundle, html, startPageServer, type PageServer } from "./support/page-server.js";

type Where = "worker" | "window";
type BrowserEvent = Record<string, unknown>;

/** Kills in the crash sweep: 10 in CI, 40 by hand. */
// 4 in CI: the Realm's crash sweep (realm-faults-crash.test.ts) kills this store 10 times end to end.
const SWEEP_ROUNDS = process.env["ASYMGEN_BROWSER_SWEEP"] === "1" ? 40 : 4;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Checks the documents a reopened queue holds: seqs 1, 2, … with no gap; transactions 0, 1, …
 * each whole (documents 0 … docs(t) − 1, bytes intact) and once, in order. Returns how many
 * transactions are stored and the last seq of each.
 */
function checkWholeTransactions(docs: readonly StoredDocument[], docsOf: (t: number) => number, context: string): Map<number, number> {
  const lastSeqOf = new Map<number, number>();
  let t = 0;
  let j = 0;
  docs.forEach((doc, i) => {
    const where = `${context}: document ${i} (seq ${doc.seq}, t ${doc.t}, j ${doc.j})`;
    if (doc.seq !== i + 1) throw new Error(`${where}: seq ${i + 1} expected`);
    if (!doc.padOk) throw new Error(`${where}: its bytes are not what was written`);
    if (doc.t !== t || doc.j !== j) throw new Error(`${where}: transaction ${t} document ${j} expected`);
    j++;
    if (j === docsOf(t)) {
      lastSeqOf.set(t, doc.seq);
      t++;
      j = 0;
    }
  });
  if (j !== 0) throw new Error(`${context}: transaction ${t} is partial (${j} of ${docsOf(t)} documents)`);
  return lastSeqOf;
}

describe("the IndexedDB log store (real Chromium)", () => {
  let server: PageServer;
  const dirs: string[] = [];
  const running: RunningChromium[] = [];
  /** Where the open page's events go (the current test sets it). */
  let onEvent: (event: BrowserEvent) => void = () => undefined;

  beforeAll(async () => {
    server = await startPageServer();
    server.put("/index.html", html(`<!doctype html><title>indexeddb log store</title><script type="module" src="/page.js"></script>`));
    server.put("/page.js", await bundle("test/browser/pages/indexeddb-page.ts"));
    server.put("/indexeddb-worker.js", await bundle("test/browser/pages/indexeddb-worker.ts"));
  }, 60_000);

  afterAll(async () => {
    for (const browser of running) await browser.close();
    await server?.close();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  function profileDir(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-idb-"));
    dirs.push(dir);
    return dir;
  }

  async function start(dir: string): Promise<RunningChromium> {
    const browser = await startChromium(dir);
    running.push(browser);
    return browser;
  }

  async function openPage(browser: RunningChromium): Promise<Page> {
    const page = await browser.context.newPage();
    await page.exposeFunction("reportEvent", (event: BrowserEvent) => onEvent(event));
    await page.goto(`${server.origin}/index.html`);
    await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
    return page;
  }

  function call<T>(page: Page, where: Where, command: string, args: unknown = {}): Promise<T> {
    return page.evaluate(
      ([w, c, a]) => {
        const target = window as unknown as Record<string, (command: string, args: unknown) => Promise<unknown>>;
        return target[w === "worker" ? "inWorker" : "inWindow"]!(c as string, a);
      },
      [where, command, args] as const,
    ) as Promise<T>;
  }

  it.each<Where>(["worker", "window"])("keeps the LogStore contract (in a %s)", async (where) => {
    const browser = await start(profileDir());
    const page = await openPage(browser);
    const obs = await call<Record<string, unknown>>(page, where, "contract", { path: `contract/${where}` });
    expect(obs).toMatchObject({
      emptyPath: { name: "TypeError" },
      location: `indexeddb:asymgen-queues/contract/${where}`,
      pathOf: `indexeddb:asymgen-queues/contract/${where}/seg`,
      initialList: [],
      sizeAfterCreate: 70_000,
      readAcrossCount: 1000,
      readAcrossOk: true,
      twoPieceWriteOk: true,
      readAtEnd: 0,
      sizeAfterGapWrite: 80_010,
      gapZeros: true,
      sizeAfterCut: 40_000,
      readAtCut: 50,
      grownZeros: true,
      secondHandleSize: 45_000,
      closedHandle: { name: "TransactionStateError" },
      meta: "v2",
      missingRead: null,
      openMissing: { code: "ENOENT" },
      listAfterRemove: ["meta", "seg"],
      secondOpen: { name: "QueueLockedError" },
      listAfterReopen: ["meta", "seg", "sparse"],
    });
    // What close left in memory (an unsynced write included) is what the next open reads.
    expect(obs.digestAfterReopen).toEqual(obs.digestAtClose);
    expect(obs.digestAtClose).not.toEqual(obs.digestBefore);
    expect((obs.digestAtClose as Record<string, { size: number }>)["sparse"]).toMatchObject({ size: 40_010 });
    await browser.close();
  }, 60_000);

  it("lets one tab's worker own a queue: another gets QueueLockedError, and takes over when the owner closes it or its tab goes", async () => {
    const browser = await start(profileDir());
    const owner = await openPage(browser);
    const other = await openPage(browser);
    const queuePath = "queue/locked";
    await call(owner, "worker", "queueOpen", { path: queuePath });
    await call(owner, "worker", "queueWrite", { txns: [{ t: 0, docs: 2, padBytes: 100 }] });
    await expect(call(other, "worker", "queueOpen", { path: queuePath })).rejects.toThrow(/queue at queue\/locked is already open/);
    await call(owner, "worker", "queueClose");
    expect(await call(other, "worker", "queueOpen", { path: queuePath })).toMatchObject({ lastWrittenSeq: 2 });
    await call(other, "worker", "queueWrite", { txns: [{ t: 1, docs: 1, padBytes: 100 }] });
    await expect(call(owner, "worker", "queueOpen", { path: queuePath })).rejects.toThrow(/already open/);
    // The owning tab now closes without closing the queue: the browser frees the lock with its worker.
    await other.close();
    const third = await openPage(browser);
    // Freed once the browser has ended the closed tab's worker: seconds on a busy machine, while
    // a lock never freed never opens (2 s was too short under load).
    const deadline = Date.now() + 15_000;
    let opened: { lastWrittenSeq: number } | null = null;
    while (opened === null && Date.now() < deadline) {
      opened = await call<{ lastWrittenSeq: number }>(third, "worker", "queueOpen", { path: queuePath }).catch(() => null);
      if (opened === null) await sleep(50);
    }
    expect(opened).toMatchObject({ lastWrittenSeq: 3 });
    await call(third, "worker", "queueClose");
    // A worker that holds the queue's lock itself (the Realm's) opens the store without taking it.
    expect(await call(third, "worker", "heldByCaller", { path: "queue/held" })).toEqual({
      withoutOption: expect.objectContaining({ name: "QueueLockedError" }),
      heldAfterClose: true,
      meta: "held",
    });
    await browser.close();
  }, 60_000);

  it("holds the DurableQueue: durable writes, then a normal reopen gives the same documents and seqs", async () => {
    const browser = await start(profileDir());
    const page = await openPage(browser);
    const queuePath = "queue/normal";
    // Small segments: the writes roll over (create) several times.
    const opened = await call<{ lastWrittenSeq: number }>(page, "worker", "queueOpen", { path: queuePath, segmentBytes: 64 * 1024 });
    expect(opened.lastWrittenSeq).toBe(0);
    const txns = Array.from({ length: 40 }, (_, t) => ({ t, docs: 1 + (t % 7), padBytes: 200 + ((t * 997) % 5000) }));
    const docsOf = (t: number) => txns[t]!.docs;
    const written: number[] = [];
    for (let i = 0; i < txns.length; i += 8) {
      const result = await call<{ lastSeqs: number[]; error?: unknown; stats: { lastCommittedSeq: number } }>(page, "worker", "queueWrite", { txns: txns.slice(i, i + 8) });
      expect(result.error).toBeUndefined();
      expect(result.stats.lastCommittedSeq).toBe(result.lastSeqs.at(-1));
      written.push(...result.lastSeqs);
    }
    const before = await call<StoredDocument[]>(page, "worker", "queueReadAll");
    const lastSeqs = checkWholeTransactions(before, docsOf, "before reopen");
    expect([...lastSeqs.values()]).toEqual(written);
    await call(page, "worker", "queueClose");
    // A new page (a new worker) on the same profile: the same documents, and numbering goes on.
    await page.close();
    const again = await openPage(browser);
    const reopened = await call<{ lastWrittenSeq: number; lastCommittedSeq: number; recovery: { kind: string }[] }>(again, "worker", "queueOpen", { path: queuePath, segmentBytes: 64 * 1024 });
    expect(reopened.lastWrittenSeq).toBe(written.at(-1));
    expect(reopened.lastCommittedSeq).toBe(written.at(-1));
    expect(await call<StoredDocument[]>(again, "worker", "queueReadAll")).toEqual(before);
    const next = await call<{ lastSeqs: number[] }>(again, "worker", "queueWrite", { txns: [{ t: 40, docs: 3, padBytes: 10 }] });
    expect(next.lastSeqs).toEqual([written.at(-1)! + 3]);
    await call(again, "worker", "queueClose");
    await browser.close();
  }, 90_000);

  it("keeps every transaction reported durable across SIGKILLs of the browser mid-burst, whole, once and in order", async () => {
    const seed = Number(process.env["ASYMGEN_BROWSER_SEED"] ?? Math.floor(Math.random() * 2 ** 31));
    const rounds = SWEEP_ROUNDS;
    console.log(`IndexedDB crash sweep: seed ${seed}, ${rounds} kills (replay with ASYMGEN_BROWSER_SEED=${seed})`);
    const random = createSeededRandom(seed);
    const dir = profileDir();
    const queuePath = "queue/crash";
    const segmentBytes = 256 * 1024;
    /** Documents per transaction, by the round that last wrote transaction t. */
    const rounds_: { startT: number; docs: number }[] = [];
    const docsOf = (t: number) => [...rounds_].reverse().find((r) => t >= r.startT)!.docs;
    const reported = new Map<number, number>();
    let stored = 0;
    let totalReported = 0;
    let browser = await start(dir);
    let page = await openPage(browser);
    for (let round = 0; round < rounds; round++) {
      const context = `seed ${seed}, round ${round}`;
      const docs = 1 + Math.floor(random() * 12);
      const padBytes = 16 + Math.floor(random() * 1500);
      const concurrency = 1 + Math.floor(random() * 8);
      const delay = 40 + Math.floor(random() * 700);
      rounds_.push({ startT: stored, docs });
      const roundReported: [number, number][] = [];
      let failure: unknown = null;
      onEvent = (event) => {
        if (typeof event["durable"] === "number") roundReported.push([event["durable"], event["lastSeq"] as number]);
        else if (event["burstFailed"] !== undefined) failure = event["burstFailed"];
      };
      await call(page, "worker", "burst", { path: queuePath, startT: stored, docs, padBytes, concurrency, segmentBytes });
      await sleep(delay);
      await browser.kill();
      onEvent = () => undefined;
      if (failure !== null) throw new Error(`${context}: the burst failed before the kill: ${JSON.stringify(failure)}`);
      for (const [t, lastSeq] of roundReported) reported.set(t, lastSeq);
      totalReported += roundReported.length;

      browser = await start(dir);
      page = await openPage(browser);
      const opened = await call<{ recovery: { kind: string }[] }>(page, "worker", "queueOpen", { path: queuePath, segmentBytes });
      // Every commit is a snapshot between whole frames: at most the preallocated zeros are cut.
      expect(opened.recovery.filter((r) => r.kind !== "zero-tail")).toEqual([]);
      const lastSeqOf = checkWholeTransactions(await call<StoredDocument[]>(page, "worker", "queueReadAll"), docsOf, context);
      for (const [t, lastSeq] of reported) {
        if (lastSeqOf.get(t) !== lastSeq) throw new Error(`${context}: transaction ${t} was reported durable at seq ${lastSeq}, found ${String(lastSeqOf.get(t))}`);
      }
      await call(page, "worker", "queueClose");
      stored = lastSeqOf.size;
    }
    // Numbering goes on after the last kill.
    const last = await call<{ lastWrittenSeq: number }>(page, "worker", "queueOpen", { path: queuePath, segmentBytes });
    const next = await call<{ lastSeqs: number[] }>(page, "worker", "queueWrite", { txns: [{ t: stored, docs: 2, padBytes: 10 }] });
    expect(next.lastSeqs).toEqual([last.lastWrittenSeq + 2]);
    await call(page, "worker", "queueClose");
    console.log(`IndexedDB crash sweep: ${stored} transactions stored, ${totalReported} reported durable to the test before their kill`);
    expect(totalReported).toBeGreaterThan(0);
    await browser.close();
  }, 60_000 + SWEEP_ROUNDS * 15_000);

  it("reaching the origin's quota refuses the transaction with QueueDiskFullError: it is not queued, the earlier ones stay", async () => {
    const browser = await start(profileDir());
    const page = await openPage(browser);
    const cdp = await browser.context.newCDPSession(page);
    const { usage } = await call<{ usage: number }>(page, "worker", "estimate");
    await cdp.send("Storage.overrideQuotaForOrigin", { origin: server.origin, quotaSize: usage + 1024 * 1024 });
    const docs = 4;
    const padBytes = 8000;
    const result = await call<{
      durable: { t: number; lastSeq: number }[];
      refused: { t: number; lastSeq: number; error: { name: string; code: string | null } } | null;
      stats: { lastWrittenSeq: number; lastCommittedSeq: number; pendingDocuments: number };
    }>(page, "worker", "fillUntilRefused", { path: "queue/quota", docs, padBytes, segmentBytes: 512 * 1024, limit: 1000 });
    expect(result.refused).not.toBeNull();
    expect(result.refused!.error).toMatchObject({ name: "QueueDiskFullError", code: "ENOSPC" });
    expect(result.durable.length).toBeGreaterThan(0);
    console.log(`IndexedDB quota: usage ${usage} B before, quota set to usage + 1 MiB; ${result.durable.length} transactions of ${docs} × ${padBytes} B durable, then ${result.refused!.error.name} (${result.refused!.error.code})`);
    const lastDurableSeq = result.durable.at(-1)!.lastSeq;
    // The refused transaction is not queued: numbering and the backlog end at the last durable one.
    expect(result.stats).toEqual({ lastWrittenSeq: lastDurableSeq, lastCommittedSeq: lastDurableSeq, pendingDocuments: lastDurableSeq });
    // Room again: the app retries the refused transaction, which takes the next numbers. Chromium
    // applies a cleared override to IndexedDB's quota check a moment later (a fresh clone's CI run
    // met ENOSPC on a write right after it), so the app retries while the disk is still full, as
    // an app would; a refused retry is not queued either, so the numbers still follow on.
    await cdp.send("Storage.overrideQuotaForOrigin", { origin: server.origin });
    const retryUntil = Date.now() + 10_000;
    let retried = await call<{ lastSeqs: number[]; error?: unknown }>(page, "worker", "queueWrite", { txns: [{ t: result.refused!.t, docs, padBytes }] });
    while (retried.error !== undefined && Date.now() < retryUntil) {
      expect(retried.error).toMatchObject({ name: "QueueDiskFullError", code: "ENOSPC" });
      await new Promise((resolve) => setTimeout(resolve, 200));
      retried = await call<{ lastSeqs: number[]; error?: unknown }>(page, "worker", "queueWrite", { txns: [{ t: result.refused!.t, docs, padBytes }] });
    }
    expect(retried.error).toBeUndefined();
    expect(retried.lastSeqs).toEqual([lastDurableSeq + docs]);
    await call(page, "worker", "queueClose");
    await page.close();
    const again = await openPage(browser);
    await call(again, "worker", "queueOpen", { path: "queue/quota", segmentBytes: 512 * 1024 });
    const lastSeqs = checkWholeTransactions(await call<StoredDocument[]>(again, "worker", "queueReadAll"), () => docs, "after the quota");
    expect(lastSeqs.size).toBe(result.durable.length + 1);
    await call(again, "worker", "queueClose");
    await browser.close();
  }, 120_000);

  it("whenStored waits only for the bytes asked for: at the quota, what was committed before is stored though every new commit is refused", async () => {
    const browser = await start(profileDir());
    const page = await openPage(browser);
    const cdp = await browser.context.newCDPSession(page);
    const args = { path: "store/when-stored", bigBytes: 4 * 1024 * 1024 };
    // Set before the store opens: Chromium's IndexedDB keeps the room it last learned for a while.
    const { usage } = await call<{ usage: number }>(page, "worker", "estimate");
    await cdp.send("Storage.overrideQuotaForOrigin", { origin: server.origin, quotaSize: usage + 1024 * 1024 });
    expect(await call(page, "worker", "whenStoredSetup", args)).toEqual({
      prefixFirst: true,
      changedByteStored: true,
      errors: [expect.objectContaining({ name: "TransactionStateError" }), expect.objectContaining({ name: "RangeError" })],
    });
    expect(await call(page, "worker", "whenStoredAtQuota", args)).toEqual({
      flushError: expect.objectContaining({ code: "ENOSPC" }),
      atEnd: "stored",
      past: expect.objectContaining({ code: "ENOSPC" }),
      afterCut: "stored",
    });
    await cdp.send("Storage.overrideQuotaForOrigin", { origin: server.origin });
    expect(await call(page, "worker", "whenStoredFinish", args)).toEqual({ size: 30_000, same: true });
    await browser.close();
  }, 60_000);

  it("a sync the quota refused takes no data to disk, a later flush does not vouch for it, and the data is stored once there is room", async () => {
    const browser = await start(profileDir());
    const page = await openPage(browser);
    const cdp = await browser.context.newCDPSession(page);
    const { usage } = await call<{ usage: number }>(page, "worker", "estimate");
    await cdp.send("Storage.overrideQuotaForOrigin", { origin: server.origin, quotaSize: usage + 1024 * 1024 });
    const args = { path: "store/refused", bigBytes: 4 * 1024 * 1024 };
    // A synchronous sync (commit A, refused) and then a flush (commit B, created before A's
    // failure is seen). Chromium aborts B as well (a quota abort takes the transactions queued
    // behind it); were B to go through, it would still answer with A's failure (it did not carry A).
    const result = await call<{ flushError: { name: string; code: string | null } | null; storedSizes: unknown[] }>(page, "worker", "quotaTaint", args);
    expect(result.flushError).toMatchObject({ code: "ENOSPC" });
    expect(result.storedSizes[0]).toBe(0); // "big" as its empty creation left it: nothing of A
    await cdp.send("Storage.overrideQuotaForOrigin", { origin: server.origin });
    expect(await call(page, "worker", "quotaTaintFinish", args)).toEqual({ bigOk: true, smallOk: true });
    await browser.close();
  }, 60_000);
});
