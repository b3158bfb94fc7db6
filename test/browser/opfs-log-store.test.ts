/**
 * The OPFS log store (runtime/browser/opfs-log-store.ts) in real Chromium, in a dedicated worker
 * (test/browser/pages/opfs-worker.ts, bundled by esbuild): the LogStore contract and what open
 * makes of a crash's leftovers; the real DurableQueue over it, closed and reopened; the browser
 * SIGKILLed mid-burst at seeded moments and restarted on the same profile (every transaction the
 * page was told was durable is there exactly once, in order, whole); and the origin's quota
 * (CDP Storage.overrideQuotaForOrigin) refusing a write as QueueDiskFullError.
 *
 * Seeded: ASYMGEN_BROWSER_SEED replays a sweep; ASYMGEN_BROWSER_SWEEP=1 runs the long one.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { Page } from "playwright-core";
import { startChromium, type RunningChromium } from "./support/chromium.js";
import { bundle, html, script, startPageServer, type PageServer } from "./support/page-server.js";
import { createSeededRandom } from "../support/seeded-random.mjs";

const pageSource = `
const worker = new Worker("/opfs-worker.js", { type: "module" });
let nextId = 1;
const pending = new Map();
let reports = [];
worker.onmessage = ({ data }) => {
  if (data.durable !== undefined) { reports.push(data.durable); return; }
  if (data.started !== undefined) { window.started = data.started; return; }
  const resolve = pending.get(data.id);
  pending.delete(data.id);
  resolve(data);
};
worker.onerror = (event) => { window.workerError = String(event.message); };
window.call = (op, args) => new Promise((resolve) => {
  const id = nextId++;
  pending.set(id, resolve);
  worker.postMessage({ id, op, args });
});
// Durable reports go to the test in batches (one binding call per batch, not per transaction).
setInterval(() => {
  if (reports.length > 0 && typeof window.reportDurable === "function") {
    const batch = reports;
    reports = [];
    window.reportDurable(batch);
  }
}, 10);
window.ready = true;`;

type Reply = { result?: unknown; error?: { name: string; message: string; code: string | null } };
type Tuple = [number, string, number];

let server: PageServer;
const dirs: string[] = [];
const running: RunningChromium[] = [];

beforeAll(async () => {
  server = await startPageServer();
  server.put("/index.html", html(`<!doctype html><title>opfs</title><script type="module" src="/page.js"></script>`));
  server.put("/page.js", script(pageSource));
  server.put("/opfs-worker.js", await bundle("test/browser/pages/opfs-worker.ts"));
}, 60_000);

afterAll(async () => {
  for (const browser of running) await browser.close();
  await server?.close();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function profileDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-opfs-"));
  dirs.push(dir);
  return dir;
}

async function start(dir: string): Promise<RunningChromium> {
  const browser = await startChromium(dir);
  running.push(browser);
  return browser;
}

async function openPage(browser: RunningChromium, onDurable?: (batch: Tuple[]) => void): Promise<Page> {
  const page = await browser.context.newPage();
  if (onDurable !== undefined) await page.exposeBinding("reportDurable", (_source, batch: Tuple[]) => onDurable(batch));
  await page.goto(`${server.origin}/index.html`);
  await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
  return page;
}

/** Runs op `op` in the page's worker; its error, if any, is thrown here with the worker's name and message. */
async function call<T = Record<string, unknown>>(page: Page, op: string, args: unknown = {}): Promise<T> {
  const reply = await page.evaluate(([o, a]) => (window as unknown as { call(op: string, args: unknown): Promise<Reply> }).call(o as string, a), [op, args] as const);
  if (reply.error !== undefined) throw new Error(`worker op ${op} failed: ${reply.error.name}: ${reply.error.message}`);
  return reply.result as T;
}

describe("the OPFS log store in a dedicated worker (real Chromium)", () => {
  let browser: RunningChromium;
  let page: Page;

  beforeAll(async () => {
    browser = await start(profileDir());
    page = await openPage(browser);
  }, 60_000);

  it("keeps the LogStore contract: create, two-piece writes, reads, truncate, syncs, shared handles, atomic small files, remove, the lock, reopen", async () => {
    const seen = await call(page, "contract", { path: "contract/queue" });
    expect(seen.location).toBe("opfs:/asymgen/contract%2Fqueue");
    expect(seen.pathOfSeg).toBe("opfs:/asymgen/contract%2Fqueue/seg-a");
    expect(seen.listAtStart).toEqual([]);
    expect(seen.sizeAfterCreate).toBe(3);
    expect(seen.sizeAfterWrites).toBe(8);
    expect(seen.readCount).toBe(8);
    expect(seen.read).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 0]);
    expect(seen.readPastEnd).toBe(0);
    expect(seen.sizeAfterTruncate).toBe(4);
    expect(seen.secondHandleSize).toBe(4);
    expect(seen.firstHandleAfterSecondClosed).toBe(4);
    expect(seen.openMissing).toEqual({ error: { name: "Error", code: "ENOENT", message: expect.stringContaining("contract%2Fqueue/nothing") } });
    expect(seen.readMissing).toBeNull();
    expect(seen.readAtomic).toBe("three");
    expect(seen.readDataFile).toEqual([1, 2, 3, 4]);
    expect(seen.openAtomic).toEqual({ error: expect.objectContaining({ name: "AsymgenError", message: expect.stringContaining("readFile") }) });
    expect(seen.listWithB).toEqual(["ack", "queue.json", "seg-a", "seg-b"]);
    expect(seen.listAfterRemove).toEqual(["ack", "queue.json", "seg-a"]);
    expect(seen.badName).toEqual({ error: expect.objectContaining({ name: "AsymgenError", message: expect.stringContaining("non-empty name") }) });
    expect(seen.longName).toEqual({ error: expect.objectContaining({ name: "AsymgenError", message: expect.stringContaining("at most 234") }) });
    expect(seen.listAfterBadNames).toEqual(["ack", "queue.json", "seg-a"]);
    expect(seen.secondOpen).toEqual({
      error: {
        name: "QueueLockedError",
        code: null,
        message: expect.stringContaining('another tab or worker of this origin (or this worker) holds its Web Lock "asymgen:queue:contract/queue"'),
      },
    });
    expect(seen.noSpare).toEqual({ error: expect.objectContaining({ name: "AsymgenError", message: expect.stringContaining("no spare OPFS file is ready") }) });
    expect(seen.listWithoutSpare).toEqual(["ack", "queue.json", "seg-a", "seg-c"]);
    expect(seen.listAfterTurn).toEqual(["ack", "queue.json", "seg-a", "seg-c", "seg-d"]);
    expect(seen.readyAtOpen).toBe(true);
    expect(seen.readyAfterTwoCreates).toBe(false);
    expect(seen.thirdCreate).toEqual({ error: expect.objectContaining({ name: "AsymgenError", message: expect.stringContaining("no spare OPFS file is ready") }) });
    expect(seen.slotWrite).not.toHaveProperty("error");
    expect(seen.listAfterWait).toEqual(["ack", "queue.json", "seg-a", "seg-e", "seg-f", "seg-g", "slot-x"]);
    expect(seen.badSpares).toEqual({ error: expect.objectContaining({ name: "AsymgenError", message: expect.stringContaining("spareFiles must be") }) });
    expect(seen.grantedWhileHeld).toBe(false);
    expect(seen.abortedWait).toEqual({ error: expect.objectContaining({ name: "AbortError" }) });
    expect(seen.grantedAfterClose).toBe(true);
    expect(seen.useAfterClose).toEqual({ error: expect.objectContaining({ message: expect.stringContaining("is closed") }) });
    expect(seen.listAfterReopen).toEqual(["ack", "queue.json", "seg-a"]);
    expect(seen.segAAfterReopen).toEqual([1, 2, 3, 4]);
    expect(seen.atomicAfterReopen).toBe("three");
    expect(seen.ackAfterReopen).toEqual(new Array(16).fill(7));
    expect(seen.listAfterRemoveAndReopen).toEqual(["ack", "queue.json"]);
    // What is really in OPFS: queue.json's two slots, ack's one (written once), and empty spares.
    const raw = seen.rawEntries as Record<string, number>;
    expect(Object.keys(raw).every((name) => /^f\d+$/.test(name))).toBe(true);
    expect(
      Object.values(raw)
        .filter((size) => size > 0)
        .sort(),
    ).toEqual([26 + 3 + 16, 26 + 10 + 5, 26 + 10 + 11].sort());
    expect(Object.values(raw).filter((size) => size === 0).length).toBeGreaterThanOrEqual(4);
    expect(seen.emptyPath).toEqual({ error: expect.objectContaining({ name: "AsymgenError", message: expect.stringContaining("non-empty string") }) });
    expect(seen.longPath).toEqual({ error: expect.objectContaining({ name: "AsymgenError", message: expect.stringContaining("too long") }) });
    expect(seen.dotPath).toEqual({ ok: "opfs:/asymgen/%2E%2E" });
  }, 60_000);

  it("close lets go of a removed file's handle that a LogFile still held: the queue opens again", async () => {
    const seen = await call(page, "removedWhileOpen", { path: "removed-while-open" });
    expect(seen.reopened).toEqual({ ok: "opened" });
    expect(seen.closeAfter).toEqual({ ok: undefined });
  }, 60_000);

  it("at open: a torn create and a torn slot are spares, the newer of two claims wins, foreign entries are left alone", async () => {
    const seen = await call(page, "leftovers", { path: "leftovers" });
    expect(Object.keys(seen.before as object).sort()).toEqual(["f1", "f2", "f3", "f4", "f5", "notes.txt"]);
    expect(seen.list).toEqual(["queue.json", "seg-x"]);
    expect(seen.segX).toEqual([1, 1, 1]);
    expect(seen.queueJson).toBe("old");
    expect(seen.queueJsonAfterReopen).toBe("newest");
    const after = seen.after as Record<string, number>;
    // f2 (the stale claim) is gone; the torn ones were cut to spares; the note is untouched.
    expect(after.f2).toBeUndefined();
    expect(after.f1).toBe(256 + 3);
    expect(after["notes.txt"]).toBe(15);
    expect(seen.futureOpen).toEqual({ error: expect.objectContaining({ name: "QueueCorruptedError", message: expect.stringContaining("of version 2") }) });
    expect(seen.futureAfter).toEqual({ f1: 258 });
  }, 60_000);

  it("carries the real DurableQueue: durable transactions survive a close and reopen with the same seqs; acknowledgement removes segments", async () => {
    const seen = await call(page, "roundTrip", { path: "round-trip", transactions: 200 });
    const committed = seen.committed as Tuple[];
    const docs = seen.docs as Tuple[];
    expect(committed).toHaveLength(200);
    expect(seen.segmentsBefore as number).toBeGreaterThan(5);
    expect(docs.map(([seq]) => seq)).toEqual(docs.map((_, i) => i + 1));
    for (const [lastSeq, key, size] of committed) {
      for (let i = 0; i < size; i++) expect(docs[lastSeq - size + i]).toEqual([lastSeq - size + 1 + i, key, size]);
    }
    expect(seen.lastCommittedSeq).toBe(docs.length);
    expect(seen.recovery).toBeNull();
    expect(seen.segmentsAfterAck as number).toBeLessThan(seen.segmentsBefore as number);
    expect(seen.seqAfterReopen).toBe(docs.length + 1);
    const half = Math.floor(docs.length / 2);
    expect(seen.ackedAfterReopen).toBe(half);
    expect(seen.pendingAfterReopen).toBe(docs.length + 1 - half);
    expect(seen.firstPendingSeq).toBe(half + 1);
    expect(seen.segmentsAfterReopen).toBe(seen.segmentsAfterAck);
  }, 60_000);
});

describe("the OPFS queue under SIGKILL of the browser (real Chromium)", () => {
  const seed = Number(process.env.ASYMGEN_BROWSER_SEED ?? Date.now() % 1_000_000);
  // About 10 s a kill on 2 shared cores (start, verify everything so far, burst, kill), more as the queue grows.
  // 4 in CI: the Realm's crash sweep (realm-faults-crash.test.ts) kills this store 10 times end to end.
  const kills = process.env.ASYMGEN_BROWSER_SWEEP === "1" ? 40 : 4;

  it(
    `keeps every transaction reported durable, in order, exactly once, never a partial one (seed ${seed}, ${kills} kills)`,
    async () => {
      console.log(`OPFS crash sweep seed: ${seed} (replay with ASYMGEN_BROWSER_SEED=${seed}; ASYMGEN_BROWSER_SWEEP=1 for 40 kills)`);
      const random = createSeededRandom(seed);
      const dir = profileDir();
      const reported: Tuple[] = [];
      const fail = (run: number, message: string): never => {
        throw new Error(`seed ${seed}, after kill ${run}: ${message}`);
      };
      let browser = await start(dir);
      let lastCommitted = 0;
      let segments = 0;
      const cuts: string[] = [];
      for (let run = 0; run <= kills; run++) {
        const page = await openPage(browser, (batch) => reported.push(...batch));
        if (run > 0) {
          const state = await call<{ docs: Tuple[]; lastCommittedSeq: number; recovery: { kind: string; bytesCut: number } | null; segments: number }>(page, "verify", {
            path: "crash",
          });
          if (state.recovery !== null) cuts.push(`${state.recovery.kind} ${state.recovery.bytesCut}`);
          segments = state.segments;
          checkQueue(state.docs, state.lastCommittedSeq, reported, (message) => fail(run - 1, message));
          lastCommitted = state.lastCommittedSeq;
        }
        if (run === kills) break;
        // The burst never returns: it runs until the browser dies.
        void call(page, "burst", { path: "crash", seed: seed + run, run, segmentBytes: 128 * 1024 }).catch(() => undefined);
        await page.waitForFunction(() => (window as unknown as { started?: number }).started !== undefined, undefined, { timeout: 30_000 });
        // Sequence numbers continue after the reopen: the burst's queue starts where the last one ended.
        expect(await page.evaluate(() => (window as unknown as { started: number }).started)).toBe(lastCommitted);
        const before = reported.length;
        await new Promise((resolve) => setTimeout(resolve, 20 + Math.floor(random() * 600)));
        await browser.kill();
        console.log(`kill ${run}: ${reported.length - before} transactions reported durable in this run, ${reported.length} in all`);
        browser = await start(dir);
      }
      await browser.close();
      console.log(
        `${reported.length} transactions reported durable, ${lastCommitted} documents in ${segments} segments of 128 KiB; recoveries: ${cuts.length === 0 ? "none cut anything" : cuts.join(", ")}`,
      );
      expect(reported.length).toBeGreaterThan(kills);
    },
    // 60 s a kill: ~10 s on an idle 2-core machine, but the queue (and each verify) grows with
    // the time the bursts run, so a loaded machine slows it twice; 4 kills took over 180 s there.
    60_000 + kills * 60_000,
  );
});

/**
 * The queue holds contiguous seqs from 1, grouped into whole transactions that each appear once
 * and contiguously; every reported transaction is among them, at the seqs it was given.
 */
function checkQueue(docs: Tuple[], lastCommittedSeq: number, reported: Tuple[], fail: (message: string) => never): void {
  // Plain checks: an expect() per document would dominate the run time.
  docs.forEach(([seq], i) => seq === i + 1 || fail(`document ${i} has seq ${seq}`));
  if (lastCommittedSeq !== docs.length) fail(`lastCommittedSeq ${lastCommittedSeq} but ${docs.length} documents`);
  const seen = new Map<string, { first: number; count: number; size: number }>();
  let previousKey = "";
  for (const [seq, key, size] of docs) {
    const entry = seen.get(key);
    if (entry === undefined) seen.set(key, { first: seq, count: 1, size });
    else {
      if (previousKey !== key) fail(`transaction ${key} is not contiguous (seq ${seq})`);
      entry.count++;
    }
    previousKey = key;
  }
  for (const [key, entry] of seen) if (entry.count !== entry.size) fail(`transaction ${key} is partial: ${entry.count} of ${entry.size}`);
  for (const [lastSeq, key, size] of reported) {
    const entry = seen.get(key);
    if (entry === undefined) fail(`reported transaction ${key} (last seq ${lastSeq}) is missing`);
    else if (entry.first + entry.size - 1 !== lastSeq || entry.size !== size) fail(`transaction ${key} is at the wrong place`);
  }
}

describe("the OPFS queue at the origin's quota (real Chromium, CDP Storage.overrideQuotaForOrigin)", () => {
  it("refuses the transaction that does not fit with QueueDiskFullError, keeps the ones before, and writes again once there is room", async () => {
    const browser = await start(profileDir());
    const page = await openPage(browser);
    const cdp = await browser.context.newCDPSession(page);
    // Chromium grants a sync handle quota in chunks of at least 1 MiB (the store keeps one handle
    // per file, and reserves one chunk for each spare): 12 MiB is a dozen files of 256 KiB.
    await cdp.send("Storage.overrideQuotaForOrigin", { origin: server.origin, quotaSize: 12 * 1024 * 1024 });
    type Fill = {
      durable: number;
      lastSeq: number;
      error: { name: string; code: string | null; message: string } | null;
      writtenAfterRefusal: number;
      writtenBeforeRefusal: number;
      pending: number;
    };
    const full = await call<Fill>(page, "fillUntilRefused", { path: "quota", docBytes: 16 * 1024, segmentBytes: 256 * 1024 });
    console.log(`quota 12 MiB: ${JSON.stringify(full)}`);
    expect(full.error).toEqual({ name: "QueueDiskFullError", code: "ENOSPC", message: expect.stringContaining("opfs:/asymgen/quota/seg-") });
    expect(full.durable).toBeGreaterThan(10);
    // The refused transaction is not queued: the written seqs stop at the last durable one.
    expect(full.writtenAfterRefusal).toBe(full.lastSeq);
    expect(full.pending).toBe(full.lastSeq);
    // Acknowledging frees the sealed segments (removed in the background): room again, under the same quota.
    const acked = await call<{ acked: number; segments: number }>(page, "acknowledgeAll");
    expect(acked).toEqual({ acked: full.lastSeq, segments: 1 });
    const afterAck = await call<Fill>(page, "writeMore", { docBytes: 16 * 1024, count: 5 });
    expect(afterAck.error).toBeNull();
    expect(afterAck.lastSeq).toBe(full.lastSeq + 5);
    const fullAgain = await call<Fill>(page, "writeMore", { docBytes: 16 * 1024, count: 10_000 });
    console.log(`full again after the acknowledgement: ${JSON.stringify(fullAgain)}; ${JSON.stringify(await call(page, "estimate"))}`);
    expect(fullAgain.error?.name).toBe("QueueDiskFullError");
    // A larger quota: writes go through again.
    await cdp.send("Storage.overrideQuotaForOrigin", { origin: server.origin, quotaSize: 64 * 1024 * 1024 });
    const raised = await call<Fill>(page, "writeMore", { docBytes: 16 * 1024, count: 5 });
    expect(raised.error).toBeNull();
    expect(raised.lastSeq).toBe(fullAgain.lastSeq + 5);
    await call(page, "closeQueue");
    const state = await call<{ docs: Tuple[]; lastCommittedSeq: number }>(page, "verify", { path: "quota" });
    expect(state.lastCommittedSeq).toBe(raised.lastSeq);
    expect(state.docs.map(([seq]) => seq)).toEqual(Array.from({ length: raised.lastSeq - full.lastSeq }, (_, i) => full.lastSeq + 1 + i));
    await browser.close();
  }, 120_000);

  it("refuses a frame that does not fit inside a large segment (not at a rollover) and the segment takes the next one after the quota is raised", async () => {
    const browser = await start(profileDir());
    const page = await openPage(browser);
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send("Storage.overrideQuotaForOrigin", { origin: server.origin, quotaSize: 12 * 1024 * 1024 });
    type Fill = { durable: number; lastSeq: number; error: { name: string; code: string | null; message: string } | null; writtenAfterRefusal: number };
    // One 32 MiB segment: the refusal comes from a frame write growing it (the queue cuts it back).
    const full = await call<Fill>(page, "fillUntilRefused", { path: "quota-large", docBytes: 64 * 1024, segmentBytes: 32 * 1024 * 1024 });
    console.log(`quota 12 MiB, one large segment: ${JSON.stringify(full)}`);
    expect(full.error).toEqual({ name: "QueueDiskFullError", code: "ENOSPC", message: expect.stringContaining("opfs:/asymgen/quota-large/seg-00000000000000000001.log") });
    expect(full.durable).toBeGreaterThan(10);
    expect(full.writtenAfterRefusal).toBe(full.lastSeq);
    await cdp.send("Storage.overrideQuotaForOrigin", { origin: server.origin, quotaSize: 64 * 1024 * 1024 });
    const raised = await call<Fill>(page, "writeMore", { docBytes: 64 * 1024, count: 5 });
    expect(raised.error).toBeNull();
    expect(raised.lastSeq).toBe(full.lastSeq + 5);
    await call(page, "closeQueue");
    const state = await call<{ docs: Tuple[]; lastCommittedSeq: number; segments: number }>(page, "verify", { path: "quota-large" });
    expect(state.lastCommittedSeq).toBe(raised.lastSeq);
    expect(state.docs.map(([seq]) => seq)).toEqual(Array.from({ length: raised.lastSeq }, (_, i) => i + 1));
    expect(state.segments).toBe(1);
    await browser.close();
  }, 120_000);
});
