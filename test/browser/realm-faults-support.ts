/**
 * What the browser Realm's fault tests (realm-faults*.test.ts) share: a real `asymgen serve` on
 * SQLite behind the same-origin proxy, the page's answers streamed to the test as they come (a
 * killed browser cannot be asked afterwards), and the check made AT THE SERVER's store: every
 * answered transaction whole, no transaction partial, every stored document exactly what the page
 * wrote.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Page } from "playwright-core";
import { openStore } from "../../server/stores/open-store.js";
import { ServerProcess } from "../e2e/sync-stack.js";
import { Reading } from "./pages/realm-model.js";
import { startSameOriginProxy, type SameOriginProxy } from "./realm-fixture.js";

/** Transaction numbers of one writer (a run, a tab) start at a multiple of this: its documents' ids never meet another's. */
export const TXN_STRIDE = 1_000_000;

/** Session timings short enough for a test (retries every few ms, not seconds). */
export const fastSync = { initialBackoffMs: 20, maxBackoffMs: 300, requestTimeoutMs: 5_000 };

/** The two store kinds every fault test runs on. */
export const storageKinds = ["opfs", "indexeddb"] as const;

/** A running `asymgen serve` (SQLite) and the proxy that puts it on the page's origin. */
export interface FaultServer {
  proxy: SameOriginProxy;
  server: ServerProcess;
  /** The `_id`s (numbers) of every stored measurement, with their documents' Extended JSON and the id of the user who uploaded each. */
  readStored(): Promise<{ id: number; ejson: string; userId: string }[]>;
  close(): Promise<void>;
}

/** Starts the server on a fresh SQLite file and the proxy in front of it and of `pageOrigin`. */
export async function startFaultServer(pageOrigin: string): Promise<FaultServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-realm-faults-"));
  const schemaFile = path.join(dir, "schema.json");
  fs.writeFileSync(schemaFile, JSON.stringify([Reading.schema]));
  const storeUrl = `sqlite:${path.join(dir, "ingest.sqlite")}`;
  const server = await ServerProcess.spawn({ schemaFile, storeUrl });
  const proxy = await startSameOriginProxy(pageOrigin, server.url);
  return {
    proxy,
    server,
    async readStored() {
      const store = await openStore(storeUrl);
      try {
        await store.prepare([Reading.schema]);
        // idKey: the _id's canonical Extended JSON, {"$numberLong":"7"}.
        return (await store.readDocuments(Reading.schema.name)).map((doc) => ({ id: Number((JSON.parse(doc.idKey) as { $numberLong: string }).$numberLong), ejson: doc.ejson, userId: doc.userId }));
      } finally {
        await store.close();
      }
    },
    async close() {
      await proxy.close();
      await server.kill();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One transaction's outcome, as the page reports it (pages/realm-page.ts `burst`). */
export interface Outcome {
  txn: number;
  ok: boolean;
  error?: string;
}

/**
 * Exposes the `reportOutcomes` binding on `page` (call before `goto`): every outcome the page
 * streams lands in `into`, tagged with nothing more than its txn (txns are globally unique).
 */
export async function collectOutcomes(page: Page, into: Outcome[]): Promise<void> {
  await page.exposeBinding("reportOutcomes", (_source, batch: Outcome[]) => {
    into.push(...batch);
  });
}

/** What `doc(id, tab)` of the page wrote, as the store's canonical Extended JSON gives it back. */
function expectedEjson(id: number, tab: string): string {
  const value = id * 0.5;
  return JSON.stringify({ _id: { $numberLong: String(id) }, deviceId: tab, value: { $numberDouble: Number.isInteger(value) ? `${value}.0` : String(value) } });
}

/** What the server holds, by writer. */
export interface StoredSummary {
  /** Stored transactions per writer (its first txn / TXN_STRIDE), sorted. */
  txnsByWriter: Map<number, number[]>;
  documents: number;
}

/**
 * Checks the server's documents of `writers` (other tests' writers on the same server are left
 * out) against what the pages were answered, and throws a message that names `context` (the
 * seed) on the first breach:
 * - each stored document is exactly what the page wrote for its id (tab name `writers.get(writer)`);
 * - every transaction is whole: all `perTxn` documents or none (ids txn*perTxn … +perTxn-1);
 * - every transaction answered durable (`answered`) is there;
 * - no transaction answered with an error is there.
 * Each `_id` is one row by the store's key, so "exactly once" is "present" here; the duplicate a
 * re-sent transaction makes is stored once by the server's identical-duplicate rule.
 */
export function checkStored(
  stored: readonly { id: number; ejson: string }[],
  outcomes: readonly Outcome[],
  perTxn: number,
  writers: ReadonlyMap<number, string>,
  context: string,
): StoredSummary {
  const fail = (message: string): never => {
    throw new Error(`${context}: ${message}`);
  };
  const count = new Map<number, number>();
  const seenIds = new Set<number>();
  for (const { id, ejson } of stored) {
    const txn = Math.floor(id / perTxn);
    const tab = writers.get(Math.floor(txn / TXN_STRIDE));
    if (tab === undefined) continue;
    if (seenIds.has(id)) fail(`document ${id} is stored twice`);
    seenIds.add(id);
    const expected = expectedEjson(id, tab);
    if (ejson !== expected) fail(`document ${id} is ${ejson}, but the page wrote ${expected}`);
    count.set(txn, (count.get(txn) ?? 0) + 1);
  }
  for (const [txn, n] of count) if (n !== perTxn) fail(`transaction ${txn} is partial at the server: ${n} of ${perTxn} documents`);
  for (const outcome of outcomes) {
    if (outcome.ok && !count.has(outcome.txn)) fail(`transaction ${outcome.txn} was answered durable but is not at the server`);
    if (!outcome.ok && count.has(outcome.txn)) fail(`transaction ${outcome.txn} was refused (${outcome.error}) but is at the server`);
  }
  const txnsByWriter = new Map<number, number[]>();
  for (const txn of [...count.keys()].sort((a, b) => a - b)) {
    const writer = Math.floor(txn / TXN_STRIDE);
    txnsByWriter.set(writer, [...(txnsByWriter.get(writer) ?? []), txn]);
  }
  return { txnsByWriter, documents: seenIds.size };
}

/** Throws unless `txns` are `from`, `from`+1, … without a gap (what one tab's owner made durable, in order). */
export function expectPrefix(txns: readonly number[], from: number, context: string): void {
  txns.forEach((txn, i) => {
    if (txn !== from + i) throw new Error(`${context}: the stored transactions are not a prefix of what was written: ${from + i} missing before ${txn}`);
  });
}

/** Resolves once `predicate()` holds, polling; rejects with `what` after `timeoutMs`. */
export async function waitUntil(predicate: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
