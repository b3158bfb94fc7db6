/**
 * The dedicated worker of the OPFS log store tests (test/browser/opfs-log-store.test.ts), bundled
 * by esbuild: it runs the real `openOpfsLogStore` and `DurableQueue` and answers the page's
 * requests `{ id, op, args }` with `{ id, result }` or `{ id, error }`. Each op observes and
 * returns plain data; the test asserts on it. A burst posts `{ durable: [lastSeq, key, size] }`
 * once each transaction is durable, which the page hands to the test.
 */
import { deserialize } from "bson";
import type { BsonWriter } from "../../../runtime/encode/bson-writer.js";
import { DurableQueue } from "../../../runtime/queue/durable-queue.js";
import { encodeQueuePath, openOpfsLogStore, type OpfsLogStore } from "../../../runtime/browser/opfs-log-store.js";
import { encodeDataHeader, encodeLogicalName, encodeSlotRecord } from "../../../runtime/browser/opfs-file-records.js";
import { createSeededRandom } from "../../support/seeded-random.mjs";

declare const self: {
  onmessage: ((event: { data: { id: number; op: string; args: unknown } }) => void) | null;
  postMessage(message: unknown): void;
};

interface Doc {
  id: number;
  key: string;
  size: number;
  pad: string;
}

function encodeDoc(writer: BsonWriter, doc: Doc): void {
  const start = writer.startDocument();
  writer.int64("_id", doc.id);
  writer.string("key", doc.key);
  writer.int32("size", doc.size);
  writer.string("pad", doc.pad);
  writer.endDocument(start);
}

/** An error as data: what the test checks of it. */
function describeError(error: unknown): { name: string; message: string; code: string | null } {
  const e = error as { name?: unknown; message?: unknown; code?: unknown };
  return { name: String(e.name), message: String(e.message), code: typeof e.code === "string" ? e.code : null };
}

async function attempt<T>(run: () => T | Promise<T>): Promise<{ ok: T } | { error: ReturnType<typeof describeError> }> {
  try {
    return { ok: await run() };
  } catch (error) {
    return { error: describeError(error) };
  }
}

const text = (bytes: Uint8Array | null): string | null => (bytes === null ? null : new TextDecoder().decode(bytes));

async function queueDirectory(path: string) {
  const root = await navigator.storage.getDirectory();
  const top = await root.getDirectoryHandle("asymgen", { create: true });
  return top.getDirectoryHandle(encodeQueuePath(path), { create: true });
}

/** The entries of the queue's OPFS directory, with their sizes (what the store's files really are). */
async function rawEntries(path: string): Promise<Record<string, number>> {
  const dir = await queueDirectory(path);
  const out: Record<string, number> = {};
  for await (const [name, entry] of (dir as unknown as { entries(): AsyncIterable<[string, FileSystemFileHandle]> }).entries()) {
    out[name] = (await entry.getFile()).size;
  }
  return out;
}

/** The names in the queue's OPFS directory (no sizes: a file the store removes meanwhile would fail `getFile`). */
async function entryNames(path: string): Promise<string[]> {
  const dir = await queueDirectory(path);
  const out: string[] = [];
  for await (const name of (dir as unknown as { keys(): AsyncIterable<string> }).keys()) out.push(name);
  return out;
}

/** Writes a physical file by hand, as a crash or an older store would have left it. */
async function writeRaw(path: string, entryName: string, bytes: Uint8Array): Promise<void> {
  const dir = await queueDirectory(path);
  const file = await dir.getFileHandle(entryName, { create: true });
  const handle = await (
    file as unknown as { createSyncAccessHandle(): Promise<{ write(b: Uint8Array, o: { at: number }): number; truncate(n: number): void; flush(): void; close(): void }> }
  ).createSyncAccessHandle();
  handle.truncate(0);
  handle.write(bytes, { at: 0 });
  handle.flush();
  handle.close();
}

const ops: Record<string, (args: never) => unknown> = {
  /** The LogStore contract, step by step; returns what each step observed. */
  async contract({ path }: { path: string }) {
    const seen: Record<string, unknown> = {};
    const store = await openOpfsLogStore(path);
    seen.location = store.location;
    seen.pathOfSeg = store.pathOf("seg-a");
    seen.listAtStart = store.list();
    const file = store.create("seg-a", new Uint8Array([1, 2, 3]));
    seen.sizeAfterCreate = file.size();
    // A piece of one buffer, then a whole second one, at a position: contiguous.
    file.write(new Uint8Array([9, 4, 5, 9]), 1, 2, new Uint8Array([6, 7]), 3);
    file.write(new Uint8Array([8]), 0, 1, null, 7);
    seen.sizeAfterWrites = file.size();
    const into = new Uint8Array(10);
    seen.readCount = file.read(into, 1, 9, 0);
    seen.read = [...into];
    seen.readPastEnd = file.read(new Uint8Array(4), 0, 4, 100);
    file.syncData();
    file.truncate(4);
    file.syncAll();
    await file.syncInBackground();
    seen.sizeAfterTruncate = file.size();
    const again = store.open("seg-a");
    seen.secondHandleSize = again.size();
    again.close();
    seen.firstHandleAfterSecondClosed = file.size();
    file.close();
    seen.openMissing = await attempt(() => store.open("nothing"));
    seen.readMissing = store.readFile("queue.json");
    store.writeFileAtomically("queue.json", new TextEncoder().encode("one"));
    store.writeFileAtomically("queue.json", new TextEncoder().encode("two, longer"));
    store.writeFileAtomically("queue.json", new TextEncoder().encode("three"));
    store.writeFileAtomically("ack", new Uint8Array(16).fill(7));
    seen.readAtomic = text(store.readFile("queue.json"));
    seen.readDataFile = [...store.readFile("seg-a")!];
    seen.openAtomic = await attempt(() => store.open("queue.json"));
    // Four spares went above (seg-a, two queue.json slots, one ack slot): new ones are made
    // between tasks, each in 100-300 ms on a busy machine (a fixed 20 ms was not enough there).
    await store.whenSpareReady();
    const b = store.create("seg-b", new Uint8Array(1000).fill(5));
    b.close();
    seen.listWithB = store.list().sort();
    store.remove(["seg-b", "missing"]);
    seen.listAfterRemove = store.list().sort();
    seen.badName = await attempt(() => store.create("", new Uint8Array(1)));
    seen.longName = await attempt(() => store.create("x".repeat(300), new Uint8Array(1)));
    seen.listAfterBadNames = store.list().sort();
    seen.secondOpen = await attempt(() => openOpfsLogStore(path));
    store.close();
    store.close();
    await store.closed;
    // With one spare, a second create in the same task finds none: a clear error, nothing created;
    // once the worker's event loop turns, one is made again (whenSpareReady says when: on a busy
    // machine that took longer than the 20 ms this test once waited).
    const lean = await openOpfsLogStore(path, { spareFiles: 1 });
    lean.create("seg-c", new Uint8Array([1])).close();
    seen.noSpare = await attempt(() => lean.create("seg-d", new Uint8Array([2])));
    seen.listWithoutSpare = lean.list().sort();
    await lean.whenSpareReady();
    lean.create("seg-d", new Uint8Array([2])).close();
    seen.listAfterTurn = lean.list().sort();
    lean.remove(["seg-c", "seg-d"]);
    lean.close();
    // Creates leave the slot writes two reserved spares (all four are reserved here, no quota):
    // in one task two creates go and the third finds none, which whenSpareReady says ahead; a
    // slot write still gets one; once whenSpareReady settles, the create goes.
    const four = await openOpfsLogStore(path, { spareFiles: 4 });
    seen.readyAtOpen = four.whenSpareReady() === null;
    four.create("seg-e", new Uint8Array([1])).close();
    four.create("seg-f", new Uint8Array([2])).close();
    const whenReady = four.whenSpareReady();
    seen.readyAfterTwoCreates = whenReady === null;
    seen.thirdCreate = await attempt(() => four.create("seg-g", new Uint8Array([3])));
    seen.slotWrite = await attempt(() => four.writeFileAtomically("slot-x", new Uint8Array([4])));
    await whenReady;
    four.create("seg-g", new Uint8Array([3])).close();
    seen.listAfterWait = four.list().sort();
    four.remove(["seg-e", "seg-f", "seg-g", "slot-x"]);
    four.close();
    await four.closed;
    seen.badSpares = await attempt(() => openOpfsLogStore(path, { spareFiles: 0 }));
    // lock "wait": queued behind the holder, granted when it closes; an aborted wait rejects.
    const holder = await openOpfsLogStore(path);
    let granted = false;
    const waiting = openOpfsLogStore(path, { lock: "wait" }).then((store) => {
      granted = true;
      return store;
    });
    const aborter = new AbortController();
    const aborted = attempt(() => openOpfsLogStore(path, { lock: "wait", signal: aborter.signal }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    seen.grantedWhileHeld = granted;
    aborter.abort();
    seen.abortedWait = await aborted;
    holder.close();
    const waited = await waiting;
    seen.grantedAfterClose = granted;
    waited.close();
    await waited.closed;
    seen.useAfterClose = await attempt(() => store.list() && store.open("seg-a"));
    const reopened = await openOpfsLogStore(path);
    seen.listAfterReopen = reopened.list().sort();
    const a = reopened.open("seg-a");
    const bytes = new Uint8Array(a.size());
    a.read(bytes, 0, bytes.length, 0);
    seen.segAAfterReopen = [...bytes];
    a.close();
    seen.atomicAfterReopen = text(reopened.readFile("queue.json"));
    seen.ackAfterReopen = [...reopened.readFile("ack")!];
    reopened.remove(["seg-a"]);
    reopened.close();
    await reopened.closed;
    const third = await openOpfsLogStore(path);
    seen.listAfterRemoveAndReopen = third.list().sort();
    third.close();
    await third.closed;
    seen.rawEntries = await rawEntries(path);
    seen.emptyPath = await attempt(() => openOpfsLogStore(""));
    seen.longPath = await attempt(() => openOpfsLogStore("q".repeat(300)));
    seen.dotPath = await attempt(async () => {
      const dots = await openOpfsLogStore("..");
      const location = dots.location;
      dots.close();
      await dots.closed;
      return location;
    });
    return seen;
  },

  /**
   * A data file removed while a LogFile still has it open, then the store closed with that
   * LogFile never closed: the store's close lets the file's sync handle go, so the queue opens again.
   */
  async removedWhileOpen({ path }: { path: string }) {
    const store = await openOpfsLogStore(path);
    const file = store.create("seg-a", new Uint8Array([1, 2, 3]));
    store.remove(["seg-a"]);
    store.close();
    await store.closed;
    const reopened = await attempt(async () => {
      const again = await openOpfsLogStore(path);
      again.close();
      await again.closed;
      return "opened";
    });
    return { reopened, closeAfter: await attempt(() => file.close()) };
  },

  /**
   * What open makes of files a crash leaves: a create torn before its header (content, no
   * header), a torn slot write, a removed file that came back under a name since re-created
   * (two claims: the higher generation wins), and a file not of the store's naming.
   */
  async leftovers({ path }: { path: string }) {
    const name = (s: string) => encodeLogicalName(s);
    // Generation 5: the live segment; generation 2: an older file of the same name (removed, then
    // the name created again, then a crash undid the removal).
    const live = new Uint8Array([...encodeDataHeader(name("seg-x"), 5), 1, 1, 1]);
    const stale = new Uint8Array([...encodeDataHeader(name("seg-x"), 2), 2, 2, 2, 2]);
    // A create cut before its header: the content is there, the header area is zeros.
    const torn = new Uint8Array(256 + 64).fill(3, 256);
    // queue.json: slot of generation 3 valid, slot of generation 4 torn (last byte changed).
    const slotOld = encodeSlotRecord(name("queue.json"), 3, new TextEncoder().encode("old"));
    const slotNew = encodeSlotRecord(name("queue.json"), 4, new TextEncoder().encode("new, torn"));
    slotNew[slotNew.length - 1] = slotNew.at(-1)! ^ 0xff;
    await writeRaw(path, "f1", live);
    await writeRaw(path, "f2", stale);
    await writeRaw(path, "f3", torn);
    await writeRaw(path, "f4", slotOld);
    await writeRaw(path, "f5", slotNew);
    await writeRaw(path, "notes.txt", new TextEncoder().encode("not the store's"));
    const before = await rawEntries(path);
    const store = await openOpfsLogStore(path);
    const seen: Record<string, unknown> = { before };
    seen.list = store.list().sort();
    const file = store.open("seg-x");
    const bytes = new Uint8Array(file.size());
    file.read(bytes, 0, bytes.length, 0);
    file.close();
    seen.segX = [...bytes];
    seen.queueJson = text(store.readFile("queue.json"));
    // The next atomic write goes to the other slot (the torn one became a spare, so a spare).
    store.writeFileAtomically("queue.json", new TextEncoder().encode("newest"));
    store.close();
    await store.closed;
    seen.after = await rawEntries(path);
    const reopened = await openOpfsLogStore(path);
    seen.queueJsonAfterReopen = text(reopened.readFile("queue.json"));
    reopened.close();
    await reopened.closed;
    // A record of another format version (a newer asymgen's) is refused, never cut as a spare.
    const future = new Uint8Array([...encodeDataHeader(name("seg-y"), 1), 9, 9]);
    new DataView(future.buffer).setUint32(4, 2, true);
    await writeRaw(`${path}-future`, "f1", future);
    seen.futureOpen = await attempt(() => openOpfsLogStore(`${path}-future`));
    seen.futureAfter = await rawEntries(`${path}-future`);
    return seen;
  },

  /** A queue over the store: transactions made durable, a normal close, reopened: same documents, same seqs; acknowledgement deletes segments. */
  async roundTrip({ path, transactions }: { path: string; transactions: number }) {
    const seen: Record<string, unknown> = {};
    const firstStore = await openOpfsLogStore(path);
    let queue = DurableQueue.open({ store: firstStore, segmentBytes: 16 * 1024 });
    const committed: [number, string, number][] = [];
    for (let t = 0; t < transactions; t++) {
      // A 16 KiB segment rolls over every few transactions: wait for a spare file first, as the
      // app's queue owner does (queue-owner.ts). Spares are made in the background, 100-300 ms
      // each on a busy machine, and these commits outran them there ("no spare OPFS file is ready").
      await firstStore.whenSpareReady();
      queue.begin();
      const size = 1 + (t % 5);
      for (let i = 0; i < size; i++) queue.append("doc", encodeDoc, { id: t * 100 + i, key: `t${t}`, size, pad: "x".repeat(100) });
      const lastSeq = queue.commit(false);
      // Every third one waits (writeAsync); the others join the next group flush.
      if (t % 3 === 2) await queue.whenDurable();
      committed.push([lastSeq, `t${t}`, size]);
    }
    await queue.whenDurable();
    seen.committed = committed;
    seen.segmentsBefore = queue.segmentFiles().length;
    queue.close();
    const reopenedStore = await openOpfsLogStore(path);
    queue = DurableQueue.open({ store: reopenedStore, segmentBytes: 16 * 1024 });
    seen.docs = readAll(queue);
    seen.lastCommittedSeq = queue.lastCommittedSeq();
    seen.recovery = queue.stats().lastRecovery;
    const half = Math.floor(queue.lastCommittedSeq() / 2);
    queue.acknowledge(half);
    seen.segmentsAfterAck = queue.segmentFiles().length;
    await reopenedStore.whenSpareReady(); // this commit may roll over too (see above)
    queue.begin();
    queue.append("doc", encodeDoc, { id: 999_999, key: "after", size: 1, pad: "" });
    seen.seqAfterReopen = queue.commit(true);
    queue.close();
    // The close lets the lock go once the acknowledgement's removals are done (a fixed 50 ms
    // was a guess at that, short on a busy machine): the next open needs the lock.
    await reopenedStore.closed;
    queue = DurableQueue.open({ store: await openOpfsLogStore(path), segmentBytes: 16 * 1024 });
    seen.ackedAfterReopen = queue.acknowledgedSeq();
    seen.pendingAfterReopen = queue.stats().pendingDocuments;
    seen.firstPendingSeq = queue.readBatch(0, 1, Number.MAX_SAFE_INTEGER)[0]?.seq ?? null;
    seen.segmentsAfterReopen = queue.segmentFiles().length;
    queue.close();
    return seen;
  },

  /**
   * Ingests until killed: transactions of 1–30 documents, each reported once durable; even runs
   * commit with a sync each (write), odd runs commit several and await one group flush (writeAsync).
   */
  async burst({ path, seed, run, segmentBytes }: { path: string; seed: number; run: number; segmentBytes: number }) {
    const random = createSeededRandom(seed);
    const queue = DurableQueue.open({ store: await openOpfsLogStore(path), segmentBytes });
    self.postMessage({ started: queue.lastCommittedSeq() });
    for (let t = 0; ; ) {
      const group = run % 2 === 0 ? 1 : 1 + Math.floor(random() * 8);
      const made: [number, string, number][] = [];
      for (let g = 0; g < group; g++, t++) {
        const size = 1 + Math.floor(random() * 30);
        const key = `${run}-${t}`;
        queue.begin();
        for (let i = 0; i < size; i++) queue.append("doc", encodeDoc, { id: t * 100 + i, key, size, pad: "p".repeat(Math.floor(random() * 200)) });
        made.push([queue.commit(run % 2 === 0), key, size]);
      }
      // whenDurable waits for a later task; the write runs yield every eighth transaction: both
      // let the store make new spares and the reports go out.
      if (run % 2 === 1) await queue.whenDurable();
      for (const report of made) self.postMessage({ durable: report });
      if (run % 2 === 0 && t % 8 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
    }
  },

  /** Reopens the queue (recovery) and returns every document as [seq, key, size], and what recovery cut. */
  async verify({ path }: { path: string }) {
    const queue = DurableQueue.open({ store: await openOpfsLogStore(path) });
    try {
      return { docs: readAll(queue), lastCommittedSeq: queue.lastCommittedSeq(), recovery: queue.stats().lastRecovery, segments: queue.segmentFiles().length };
    } finally {
      queue.close();
    }
  },

  /** Fills the queue until the storage refuses a transaction (writeAsync: commit, then whenDurable). */
  async fillUntilRefused({ path, docBytes, segmentBytes }: { path: string; docBytes: number; segmentBytes: number }) {
    openStore = await openOpfsLogStore(path);
    openPath = path;
    const queue = (openQueue = DurableQueue.open({ store: openStore, segmentBytes }));
    return writeUntilRefused(queue, docBytes, 10_000);
  },

  /** More transactions on the queue `fillUntilRefused` left open. */
  async writeMore({ docBytes, count }: { docBytes: number; count: number }) {
    return writeUntilRefused(openQueue!, docBytes, count);
  },

  /** Acknowledges everything durable on the open queue (its sealed segments are removed). */
  async acknowledgeAll() {
    const queue = openQueue!;
    const segmentsBefore = queue.segmentFiles().length;
    const entriesBefore = await entryNames(openPath!);
    queue.acknowledge(queue.lastCommittedSeq());
    // The removals run in the background, each 100-300 ms on a busy machine (a fixed 200 ms
    // was a guess): wait until as many of the files there were are gone as segments were freed.
    const removed = segmentsBefore - queue.segmentFiles().length;
    const deadline = Date.now() + 30_000;
    for (;;) {
      const now = new Set(await entryNames(openPath!));
      if (entriesBefore.filter((name) => now.has(name)).length <= entriesBefore.length - removed || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return { acked: queue.acknowledgedSeq(), segments: queue.segmentFiles().length };
  },

  async closeQueue() {
    openQueue?.close();
    openQueue = null;
    // The next open (verify) needs the lock, which the close lets go after its removals.
    await openStore?.closed;
    openStore = null;
    return true;
  },

  async estimate() {
    return navigator.storage.estimate();
  },
};

let openQueue: DurableQueue | null = null;
/** The store under `openQueue`, and its queue path. */
let openStore: OpfsLogStore | null = null;
let openPath: string | null = null;

async function writeUntilRefused(queue: DurableQueue, docBytes: number, most: number) {
  const pad = "z".repeat(docBytes);
  const before = queue.lastCommittedSeq();
  let lastSeq = before;
  for (let t = 0; t < most; t++) {
    const writtenBefore = queue.lastWrittenSeq();
    // As the app's queue owner does before a commit that may roll over (queue-owner.ts): wait
    // for a spare file. Made in the background, 100-300 ms each on a busy machine, spares fell
    // behind these back-to-back commits there, which a rollover then met as "no spare OPFS file
    // is ready" instead of the quota's refusal. At the quota the wait ends with the refused
    // attempt, and the commit meets the refusal (QueueDiskFullError).
    await openStore?.whenSpareReady();
    try {
      queue.begin();
      queue.append("doc", encodeDoc, { id: lastSeq + 1, key: `q${lastSeq + 1}`, size: 1, pad });
      const seq = queue.commit(false);
      await queue.whenDurable();
      lastSeq = seq;
    } catch (error) {
      queue.rollback();
      return {
        durable: lastSeq - before,
        lastSeq,
        error: describeError(error),
        writtenAfterRefusal: queue.lastWrittenSeq(),
        writtenBeforeRefusal: writtenBefore,
        pending: queue.stats().pendingDocuments,
      };
    }
  }
  return { durable: lastSeq - before, lastSeq, error: null, writtenAfterRefusal: queue.lastWrittenSeq(), writtenBeforeRefusal: lastSeq, pending: queue.stats().pendingDocuments };
}

function readAll(queue: DurableQueue): [number, string, number][] {
  return queue.readBatch(0, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER).map((d) => {
    const doc = deserialize(d.bson) as { key: string; size: number };
    return [d.seq, doc.key, doc.size];
  });
}

self.onmessage = ({ data }) => {
  const op = ops[data.op];
  if (op === undefined) {
    self.postMessage({ id: data.id, error: { name: "Error", message: `no op ${data.op}`, code: null } });
    return;
  }
  Promise.resolve()
    .then(() => op(data.args as never))
    .then(
      (result) => self.postMessage({ id: data.id, result }),
      (error: unknown) => self.postMessage({ id: data.id, error: describeError(error) }),
    );
};
