/**
 * What the IndexedDB log store tests run inside Chromium, in a dedicated worker
 * (indexeddb-worker.ts) or in the page itself (indexeddb-page.ts): each command takes JSON and
 * answers JSON, so the test (in Node) makes its assertions on what the browser really did.
 */
import { deserialize, type Binary } from "bson";
import { openIndexedDbLogStore, type IndexedDbLogStore } from "../../../runtime/browser/indexeddb-log-store.js";
import type { BsonWriter } from "../../../runtime/encode/bson-writer.js";
import { DurableQueue } from "../../../runtime/queue/durable-queue.js";

/** A document of the tests: transaction `t`, document `j` of it, and `pad` bytes derived from both. */
interface TestDocument {
  t: number;
  j: number;
  pad: Uint8Array;
}

/** What `readAll` reports per document: its place, and whether its bytes are exactly what was written. */
export interface StoredDocument {
  seq: number;
  t: number;
  j: number;
  padOk: boolean;
}

/** A transaction to write: `docs` documents of `padBytes` each, numbered `t`. */
export interface TransactionSpec {
  t: number;
  docs: number;
  padBytes: number;
}

/** Posts an event to whoever listens (the page forwards a worker's to the test). */
export type EventSink = (event: Record<string, unknown>) => void;

const TABLE = "reading";

function encodeTestDocument(writer: BsonWriter, value: TestDocument): void {
  const start = writer.startDocument();
  writer.int32("t", value.t);
  writer.int32("j", value.j);
  writer.putBinary("p", value.pad);
  writer.endDocument(start);
}

/** Deterministic, incompressible bytes for (t, j): xorshift32 seeded by both. */
function padFor(t: number, j: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = (Math.imul(t + 1, 0x9e3779b1) ^ Math.imul(j + 1, 0x85ebca6b)) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A byte pattern of `length` starting at `seed`, for the contract checks. */
function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

function describeError(error: unknown): { name: string; code: string | null; message: string } {
  const e = error as { name?: unknown; code?: unknown; message?: unknown };
  return { name: String(e?.name ?? "Error"), code: typeof e?.code === "string" ? e.code : null, message: String(e?.message ?? error) };
}

/** A short digest of every file of an open store, to compare across a reopen. */
function digestStore(store: IndexedDbLogStore): Record<string, { size: number; sum: number }> {
  const out: Record<string, { size: number; sum: number }> = {};
  for (const name of store.list().sort()) {
    const bytes = store.readFile(name)!;
    let sum = 0;
    for (let i = 0; i < bytes.length; i++) sum = (Math.imul(sum, 31) + bytes[i]!) >>> 0;
    out[name] = { size: bytes.length, sum };
  }
  return out;
}

let store: IndexedDbLogStore | null = null;
let queue: DurableQueue | null = null;

/** Writes one transaction (commit without sync) and returns its last seq. */
function writeTransaction(q: DurableQueue, spec: TransactionSpec): number {
  q.begin();
  try {
    for (let j = 0; j < spec.docs; j++) q.append(TABLE, encodeTestDocument, { t: spec.t, j, pad: padFor(spec.t, j, spec.padBytes) });
  } catch (error) {
    q.rollback();
    throw error;
  }
  return q.commit(false);
}

/** Durable the way the browser's queue must report it: the group flush, then every commit the store started. */
async function whenReallyDurable(q: DurableQueue, s: IndexedDbLogStore): Promise<void> {
  await q.whenDurable();
  await s.flush();
}

/** The commands, by name. */
export const commands: Record<string, (args: any, emit: EventSink) => Promise<unknown>> = {
  /** The LogStore contract, observed: everything the test asserts on. */
  async contract({ path }: { path: string }) {
    const obs: Record<string, unknown> = {};
    try {
      await openIndexedDbLogStore("");
    } catch (error) {
      obs.emptyPath = describeError(error);
    }
    const s = await openIndexedDbLogStore(path);
    obs.location = s.location;
    obs.pathOf = s.pathOf("seg");
    obs.initialList = s.list();
    const big = pattern(70_000, 7);
    const file = s.create("seg", big);
    obs.sizeAfterCreate = file.size();
    const across = new Uint8Array(1000);
    obs.readAcrossCount = file.read(across, 0, 1000, 32_500);
    obs.readAcrossOk = sameBytes(across, big.subarray(32_500, 33_500));
    // A write in two pieces across a block boundary (data, then `rest`).
    const head = pattern(100, 1);
    const rest = pattern(50, 2);
    file.write(head, 0, 100, rest, 32_700);
    const back = new Uint8Array(150);
    file.read(back, 0, 150, 32_700);
    const expected150 = new Uint8Array(150);
    expected150.set(head, 0);
    expected150.set(rest, 100);
    obs.twoPieceWriteOk = sameBytes(back, expected150);
    obs.readAtEnd = file.read(new Uint8Array(10), 0, 10, file.size());
    // Past the end: the gap reads as zeros.
    file.write(pattern(10, 3), 0, 10, null, 80_000);
    obs.sizeAfterGapWrite = file.size();
    const gap = new Uint8Array(100);
    file.read(gap, 0, 100, 70_000);
    obs.gapZeros = gap.every((b) => b === 0);
    file.truncate(40_000);
    obs.sizeAfterCut = file.size();
    obs.readAtCut = file.read(new Uint8Array(100), 0, 100, 39_950);
    file.truncate(45_000);
    const grown = new Uint8Array(5000);
    file.read(grown, 0, 5000, 40_000);
    obs.grownZeros = grown.every((b) => b === 0);
    await file.syncInBackground();
    file.syncData();
    file.syncAll();
    // A second handle on the same file sees the same bytes.
    const second = s.open("seg");
    obs.secondHandleSize = second.size();
    second.close();
    file.close();
    try {
      file.size();
    } catch (error) {
      obs.closedHandle = describeError(error);
    }
    s.writeFileAtomically("meta", new TextEncoder().encode("version one, rather long"));
    s.writeFileAtomically("meta", new TextEncoder().encode("v2"));
    obs.meta = new TextDecoder().decode(s.readFile("meta")!);
    obs.missingRead = s.readFile("missing");
    try {
      s.open("missing");
    } catch (error) {
      obs.openMissing = describeError(error);
    }
    s.create("gone", pattern(10, 4)).close();
    s.remove(["gone", "never-there"]);
    obs.listAfterRemove = s.list().sort();
    // A file that grows into a new block without touching its stored (short) last one: the
    // bytes between read as zeros after a reopen (the digests below compare every byte).
    s.create("sparse", pattern(100, 6)).close();
    await s.flush();
    const sparse = s.open("sparse");
    sparse.write(pattern(10, 7), 0, 10, null, 40_000);
    sparse.close();
    try {
      await openIndexedDbLogStore(path);
    } catch (error) {
      obs.secondOpen = describeError(error);
    }
    await s.flush();
    obs.digestBefore = digestStore(s);
    // Left dirty on purpose: close stores it before letting the lock go.
    const tail = s.open("seg");
    tail.write(pattern(16, 5), 0, 16, null, 44_990);
    tail.close();
    obs.digestAtClose = digestStore(s);
    s.close();
    await s.released;
    const again = await openIndexedDbLogStore(path);
    obs.listAfterReopen = again.list().sort();
    obs.digestAfterReopen = digestStore(again);
    again.close();
    await again.released;
    return obs;
  },

  /** Opens the store and a DurableQueue over it (kept for the commands below). */
  async queueOpen({ path, segmentBytes }: { path: string; segmentBytes?: number }) {
    store = await openIndexedDbLogStore(path);
    const reports: unknown[] = [];
    queue = DurableQueue.open({ store, durability: "full", ...(segmentBytes === undefined ? {} : { segmentBytes }), onRecovery: (report) => reports.push(report) });
    return { lastWrittenSeq: queue.lastWrittenSeq(), lastCommittedSeq: queue.lastCommittedSeq(), recovery: reports };
  },

  /** Writes the transactions (all committed before any is awaited: one group flush) and waits until they are durable. */
  async queueWrite({ txns }: { txns: TransactionSpec[] }) {
    const q = queue!;
    const lastSeqs = txns.map((spec) => writeTransaction(q, spec));
    try {
      await whenReallyDurable(q, store!);
      return { lastSeqs, stats: statsOf(q) };
    } catch (error) {
      return { lastSeqs, error: describeError(error), stats: statsOf(q) };
    }
  },

  /** Every committed document, decoded and checked against what its (t, j) must hold. */
  async queueReadAll() {
    const q = queue!;
    const docs: StoredDocument[] = [];
    for (const doc of q.readBatch(0, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)) {
      const parsed = deserialize(doc.bson) as { t: number; j: number; p: Binary };
      const pad = parsed.p.buffer;
      docs.push({ seq: doc.seq, t: parsed.t, j: parsed.j, padOk: doc.table === TABLE && sameBytes(pad, padFor(parsed.t, parsed.j, pad.length)) });
    }
    return docs;
  },

  async queueClose() {
    queue?.close();
    queue = null;
    const s = store;
    store = null;
    await s?.released;
    return true;
  },

  /**
   * Writes transactions `startT`, `startT + 1`, … until the browser dies, up to `concurrency`
   * waiting for durability at once, and emits `{ durable: t, lastSeq }` for each once it is.
   */
  async burst({ path, startT, docs, padBytes, concurrency, segmentBytes }: { path: string; startT: number; docs: number; padBytes: number; concurrency: number; segmentBytes: number }, emit: EventSink) {
    const s = await openIndexedDbLogStore(path);
    const q = DurableQueue.open({ store: s, durability: "full", segmentBytes });
    store = s;
    queue = q;
    const run = async () => {
      let t = startT;
      const waiting = new Set<Promise<void>>();
      for (;;) {
        while (waiting.size < concurrency) {
          const id = t++;
          const lastSeq = writeTransaction(q, { t: id, docs, padBytes });
          const done: Promise<void> = whenReallyDurable(q, s).then(() => emit({ durable: id, lastSeq }));
          waiting.add(done);
          void done.finally(() => waiting.delete(done)).catch(() => undefined);
        }
        await Promise.race(waiting);
      }
    };
    run().catch((error: unknown) => emit({ burstFailed: describeError(error) }));
    return { startedAtSeq: q.lastWrittenSeq() };
  },

  /** Writes transactions until one is refused; reports the refusal and the queue right after it. */
  async fillUntilRefused({ path, docs, padBytes, segmentBytes, limit }: { path: string; docs: number; padBytes: number; segmentBytes: number; limit: number }) {
    const s = await openIndexedDbLogStore(path);
    const q = DurableQueue.open({ store: s, durability: "full", segmentBytes });
    store = s;
    queue = q;
    const durable: { t: number; lastSeq: number }[] = [];
    for (let t = 0; t < limit; t++) {
      const lastSeq = writeTransaction(q, { t, docs, padBytes });
      try {
        await whenReallyDurable(q, s);
        durable.push({ t, lastSeq });
      } catch (error) {
        return { durable, refused: { t, lastSeq, error: describeError(error) }, stats: statsOf(q) };
      }
    }
    return { durable, refused: null, stats: statsOf(q) };
  },

  /**
   * Under a quota that `bigBytes` cannot fit: a big write to "big" and a sync (commit A, refused),
   * then a small write to "small" and `flush()` (commit B, created before A's failure is seen).
   * Reports B's answer and the files' size records in the database (read by a connection of its
   * own): B must not vouch for A's data.
   */
  async quotaTaint({ path, bigBytes }: { path: string; bigBytes: number }) {
    const s = await openIndexedDbLogStore(path);
    store = s;
    s.create("big", new Uint8Array(0)).close();
    s.create("small", new Uint8Array(0)).close();
    await s.flush();
    const big = s.open("big");
    big.write(padFor(1, 1, bigBytes), 0, bigBytes, null, 0);
    big.syncData();
    big.close();
    const small = s.open("small");
    small.write(padFor(2, 2, 10), 0, 10, null, 0);
    small.close();
    let flushError: unknown = null;
    await s.flush().catch((error: unknown) => (flushError = error));
    const raw = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open("asymgen-queues");
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const sizes = await new Promise<unknown[]>((resolve, reject) => {
      const transaction = raw.transaction(raw.objectStoreNames[0]!, "readonly");
      const found: unknown[] = [];
      for (const name of ["big", "small"]) {
        const request = transaction.objectStore(raw.objectStoreNames[0]!).get([path, name, -1]);
        request.onsuccess = () => found.push(request.result ?? null);
      }
      transaction.oncomplete = () => resolve(found);
      transaction.onabort = () => reject(transaction.error);
    });
    raw.close();
    return { flushError: flushError === null ? null : describeError(flushError), storedSizes: sizes };
  },

  /** After `quotaTaint` (the quota lifted): flush, close, reopen; what the files hold. */
  async quotaTaintFinish({ path, bigBytes }: { path: string; bigBytes: number }) {
    const s = store!;
    await s.flush();
    s.close();
    await s.released;
    store = null;
    const again = await openIndexedDbLogStore(path);
    const big = again.readFile("big");
    const small = again.readFile("small");
    again.close();
    await again.released;
    return { bigOk: big !== null && sameBytes(big, padFor(1, 1, bigBytes)), smallOk: small !== null && sameBytes(small, padFor(2, 2, 10)) };
  },

  /**
   * The Realm's way (design decision 2): its worker holds `asymgen:queue:<path>` itself and
   * opens the store with `lockHeldByCaller`; without the option the store finds the lock taken.
   */
  async heldByCaller({ path }: { path: string }) {
    const out: Record<string, unknown> = {};
    let releaseHeld!: () => void;
    const held = new Promise<void>((resolve) => (releaseHeld = resolve));
    let request!: Promise<unknown>;
    await new Promise<void>((granted) => {
      request = navigator.locks.request(`asymgen:queue:${path}`, () => {
        granted();
        return held;
      });
    });
    try {
      await openIndexedDbLogStore(path);
    } catch (error) {
      out.withoutOption = describeError(error);
    }
    const s = await openIndexedDbLogStore(path, { lockHeldByCaller: true });
    s.writeFileAtomically("meta", new TextEncoder().encode("held"));
    s.close();
    await s.released;
    out.heldAfterClose = (await navigator.locks.query()).held?.some((lock) => lock.name === `asymgen:queue:${path}`) ?? false;
    releaseHeld();
    await request; // settles once the lock is released
    const again = await openIndexedDbLogStore(path);
    out.meta = new TextDecoder().decode(again.readFile("meta")!);
    again.close();
    await again.released;
    return out;
  },

  /**
   * `whenStored` before the quota: a file of 40 000 bytes committed, then a byte below that
   * changed (its block dirty from there): whenStored of the first 40 000 bytes commits it and
   * resolves once IndexedDB holds it; of the first 100 (unchanged) at once, with no commit.
   */
  async whenStoredSetup({ path }: { path: string }) {
    const s = await openIndexedDbLogStore(path);
    store = s;
    s.create("seg", pattern(40_000, 3)).close();
    const file = s.open("seg");
    file.write(new Uint8Array([0xee]), 0, 1, null, 20_000);
    file.close();
    let prefixFirst = false;
    const prefix = s.whenStored([{ name: "seg", end: 100 }]).then(() => (prefixFirst = true));
    await s.whenStored([{ name: "seg", end: 40_000 }]);
    await prefix;
    const stored = await readRawBlock(path, "seg", 0);
    return { prefixFirst, changedByteStored: stored !== null && stored[20_000] === 0xee, errors: await whenStoredErrors(s) };
  },

  /**
   * At the quota (the test set it): a large write after the end is refused at its flush, and
   * stays dirty in memory (every commit would carry it). The first 40 000 bytes are still
   * stored as they are: whenStored resolves at once; of one byte more it needs a commit, which
   * the quota refuses (ENOSPC). A cut below the end leaves the bytes before it stored.
   */
  async whenStoredAtQuota({ bigBytes }: { bigBytes: number }) {
    const s = store!;
    const file = s.open("seg");
    file.write(pattern(bigBytes, 9), 0, bigBytes, null, 40_000);
    const flushError = await s.flush().then(() => null, (error: unknown) => describeError(error));
    const atEnd = await s.whenStored([{ name: "seg", end: 40_000 }]).then(() => "stored", (error: unknown) => describeError(error));
    const past = await s.whenStored([{ name: "seg", end: 40_001 }]).then(() => "stored", (error: unknown) => describeError(error));
    file.truncate(30_000);
    const afterCut = await s.whenStored([{ name: "seg", end: 30_000 }]).then(() => "stored", (error: unknown) => describeError(error));
    file.close();
    return { flushError, atEnd, past, afterCut };
  },

  /** After `whenStoredAtQuota`, the quota lifted: the cut commits; the file reopens as 30 000 bytes of the pattern. */
  async whenStoredFinish({ path }: { path: string }) {
    const s = store!;
    await s.whenStored([{ name: "seg", end: 30_000 }]);
    await s.flush();
    s.close();
    await s.released;
    store = null;
    const again = await openIndexedDbLogStore(path);
    const bytes = again.readFile("seg")!;
    again.close();
    await again.released;
    const expected = pattern(40_000, 3).slice(0, 30_000);
    expected[20_000] = 0xee;
    return { size: bytes.length, same: sameBytes(bytes, expected) };
  },

  /** The origin's usage and quota as the page sees them. */
  async estimate() {
    const { usage, quota } = await navigator.storage.estimate();
    return { usage: usage ?? null, quota: quota ?? null };
  },
};

/** Bad extents: a removed file, more bytes than the file holds. */
async function whenStoredErrors(s: IndexedDbLogStore): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const extent of [{ name: "missing", end: 1 }, { name: "seg", end: 40_001 }]) {
    out.push(await s.whenStored([extent]).then(() => null, (error: unknown) => describeError(error)));
  }
  return out;
}

/** Block `index` of file `name` of queue `path` as IndexedDB holds it (read past the store). */
async function readRawBlock(path: string, name: string, index: number): Promise<Uint8Array | null> {
  const raw = await new Promise<IDBDatabase>((resolve, reject) => {
    const request = indexedDB.open("asymgen-queues");
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  try {
    return await new Promise<Uint8Array | null>((resolve, reject) => {
      const transaction = raw.transaction(raw.objectStoreNames[0]!, "readonly");
      const request = transaction.objectStore(raw.objectStoreNames[0]!).get([path, name, index]);
      request.onsuccess = () => resolve((request.result as Uint8Array | undefined) ?? null);
      request.onerror = () => reject(request.error);
    });
  } finally {
    raw.close();
  }
}

function statsOf(q: DurableQueue) {
  const stats = q.stats();
  return { lastWrittenSeq: q.lastWrittenSeq(), lastCommittedSeq: q.lastCommittedSeq(), pendingDocuments: stats.pendingDocuments };
}
