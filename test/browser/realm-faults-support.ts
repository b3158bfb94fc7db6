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
import { ACK_FLUSH_INTERVAL_MS } from "../../runtime/sync/acknowledgement-flusher.js";
import { startSameOriginProxy, type IngestExchange, type SameOriginProxy } from "./realm-fixture.js";

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
 * re-sent transaction makes is stored once by the server's identical-duplicate rule. How often a
 * document was uploaded is only seen on the wire: `checkUploadsAfterKills`.
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

/**
 * How long after the server's answer reaches the page its acknowledgement is surely in the
 * queue's durable cursor: the session writes the cursor at most ACK_FLUSH_INTERVAL_MS after an
 * answer (acknowledgement-flusher.ts), and the write itself (two syncs of the queue's files,
 * behind whatever the worker is committing) gets a generous 2 s on a loaded 2-core machine.
 */
export const ACK_DURABLE_WITHIN_MS = ACK_FLUSH_INTERVAL_MS + 2_000;

/** What the uploads of a run with kills came to (`checkUploadsAfterKills`). */
export interface UploadSummary {
  /** Documents in every ingest body the server was sent, counting each re-send. */
  uploadedDocuments: number;
  /** Distinct seqs among them. */
  distinctDocuments: number;
  /** Documents sent again after a kill that an earlier answer had already acknowledged. */
  resentAcknowledged: number;
  /** Of those, the oldest acknowledgement (ms before its kill) that was not yet in the durable cursor. */
  oldestResentAckMs: number;
}

/**
 * Bounds the uploads of a queue killed at `kills` (Date.now() of each SIGKILL, in order), from
 * the ingest exchanges the proxy saw (`log`), and throws naming `context` on a breach.
 *
 * The bound: after a kill the restarted queue uploads from its durable acknowledgement cursor,
 * which holds every answer its browser outlived by ACK_DURABLE_WITHIN_MS (an answer that came
 * just before a kill may be lost with it, and is then sent again by every later run until one
 * outlives its answer that long). So no upload after a kill may carry a seq at or below the
 * highest `acknowledgedSeq` of such an answer before that kill; only the last moments'
 * acknowledgements (and uploads in flight, never answered) may be sent again. The server's
 * store cannot show a breach (it skips seqs at or below its own high-water mark, and `_id` is its
 * key), but a queue that lost or ignored its cursor, re-uploading its acknowledged backlog after
 * each restart, breaks it at the first kill after a run that outlived an answer by 3 s.
 */
export function checkUploadsAfterKills(log: readonly IngestExchange[], kills: readonly number[], context: string): UploadSummary {
  /** The kill that ended the browser alive at `at` (undefined: the browser that was never killed). */
  const killAfter = (at: number) => kills.find((kill) => kill > at);
  // Answers the page got: an answer written after its browser's kill (the socket still took it
  // for a few ms) never reached a page.
  const answered = log.filter((e) => e.answeredAt !== null && e.acknowledgedSeq !== null && e.answeredAt < (killAfter(e.startedAt) ?? Infinity));
  let uploadedDocuments = 0;
  const distinct = new Set<number>();
  let resentAcknowledged = 0;
  let oldestResentAckMs = 0;
  for (const exchange of log) {
    uploadedDocuments += exchange.seqs.length;
    for (const seq of exchange.seqs) distinct.add(seq);
    // The last kill before this upload started: what the queue restarted from.
    const kill = [...kills].reverse().find((at) => at <= exchange.startedAt);
    if (kill === undefined || exchange.seqs.length === 0) continue;
    const before = answered.filter((e) => e.answeredAt! < kill);
    // An answer is in the cursor if the browser lived ACK_DURABLE_WITHIN_MS after it: the first
    // kill after the answer came that much later (a later restart's cursor starts from there).
    const durable = before.filter((e) => killAfter(e.startedAt)! - e.answeredAt! > ACK_DURABLE_WITHIN_MS);
    const durableFloor = Math.max(0, ...durable.map((e) => e.acknowledgedSeq!));
    const lowest = Math.min(...exchange.seqs);
    if (lowest <= durableFloor) {
      // The uploads around the kill, relative to it, so a failure shows what the session was doing.
      const firstAck = before.find((e) => e.acknowledgedSeq! >= lowest)!;
      const around = log
        .filter((e) => e.startedAt >= firstAck.startedAt - 2_000 && e.startedAt <= exchange.startedAt)
        .map((e) => `  sent ${e.startedAt - kill} ms, answered ${e.answeredAt === null ? "never" : `${e.answeredAt - kill} ms`} (${e.status ?? "-"}), seqs ${Math.min(...e.seqs)}–${Math.max(...e.seqs)}, acknowledged ${e.acknowledgedSeq ?? "-"}`);
      throw new Error(
        `${context}: an upload ${exchange.startedAt - kill} ms after a kill re-sent seq ${lowest}, acknowledged (up to ${durableFloor}) more than ${ACK_DURABLE_WITHIN_MS} ms before the kill: the queue did not keep its acknowledgement cursor. Kills at ${kills.map((at) => at - kill).join(", ")} ms; uploads, times relative to the kill:\n${around.join("\n")}`,
      );
    }
    for (const seq of exchange.seqs) {
      const firstAck = before.find((e) => e.acknowledgedSeq! >= seq);
      if (firstAck === undefined) continue;
      resentAcknowledged += 1;
      oldestResentAckMs = Math.max(oldestResentAckMs, kill - firstAck.answeredAt!);
    }
  }
  return { uploadedDocuments, distinctDocuments: distinct.size, resentAcknowledged, oldestResentAckMs };
}
