/**
 * The queue worker of `npm run bench:browser`: the runtime's own queue worker, unchanged (the
 * import starts it on this worker's scope, as the Realm's default worker does), plus the
 * benchmark's baselines, so that they run "in the same run and worker" as the queue (issue 13):
 *
 * - the floor: the documents pre-encoded (bytes made before the clock), per transaction one
 *   `FileSystemSyncAccessHandle.write` of the transaction's bytes at the file's end + `flush()`;
 * - the IndexedDB peer: per transaction one readwrite transaction putting each document's bytes
 *   as a record (`durability: "strict"` or `"relaxed"`), awaited to `complete`.
 *
 * BENCH ONLY: the page talks to this part on a MessagePort of its own (bench-protocol.ts). The
 * queue worker sees the one `BENCH_CONNECT` message too and ignores it (an unknown type).
 * queue-worker-probe.ts times the queue's own work in this worker (for the split).
 */
// The probe first: its listener must run before the queue's (modules run in import order).
import { listenAfterQueue, takeProbe, uncounted } from "./queue-worker-probe.js";
import "../../runtime/browser/queue-worker.js";
import { BENCH_CONNECT, type BenchReply, type BenchRequest, type RoundResult, type WorkerSubject } from "./bench-protocol.js";

// A worker's OPFS sync handle: not in TypeScript's DOM lib (it is a worker-only API).
interface SyncAccessHandle {
  write(buffer: Uint8Array, options: { at: number }): number;
  flush(): void;
  truncate(size: number): void;
  close(): void;
}
interface OpfsFile {
  createSyncAccessHandle(): Promise<SyncAccessHandle>;
}
interface OpfsDirectory {
  getDirectoryHandle(name: string, options: { create: boolean }): Promise<OpfsDirectory>;
  getFileHandle(name: string, options: { create: boolean }): Promise<OpfsFile>;
  removeEntry(name: string, options?: { recursive: boolean }): Promise<void>;
}
declare const navigator: { storage: { getDirectory(): Promise<OpfsDirectory> } };

/** The OPFS directory and IndexedDB database of the baselines: apart from every queue's (`asymgen/`, `asymgen-queues`). */
const FLOOR_DIRECTORY = "asymgen-bench-floor";
const PEER_DATABASE = "asymgen-bench-peer";
/** Distinct transactions prepared per cell; they repeat, as the page's inits do. */
const PREPARED_TRANSACTIONS = 8;

/** One cell's baselines: the floor's file and the peer's database, for `size` documents per transaction. */
interface Cell {
  size: number;
  floorName: string;
  floor: SyncAccessHandle;
  /** Per prepared transaction, its documents' bytes back to back (the floor's one write). */
  floorTransactions: Uint8Array[];
  /** The floor file's end: it grows for the whole cell, as the queue does (see roundFloor). */
  floorEnd: number;
  /** Per prepared transaction, each document's bytes in a buffer of its own (a record each). */
  peerTransactions: Uint8Array[][];
  db: IDBDatabase;
  nextKey: number;
  next: number;
}

let cell: Cell | null = null;

listenAfterQueue();

globalThis.addEventListener("message", (event: MessageEvent) => {
  const data = event.data as { type?: unknown } | null;
  if (data?.type !== BENCH_CONNECT) return;
  const [port] = event.ports;
  if (port === undefined) return;
  port.onmessage = ({ data: request }: MessageEvent) => {
    void answer(request as BenchRequest).then(
      // A handoff's bytes go back transferred, as the queue worker hands a transaction's buffer back.
      (result) => port.postMessage({ id: (request as BenchRequest).id, result } satisfies BenchReply, result instanceof Uint8Array ? [result.buffer] : []),
      (error: unknown) => port.postMessage({ id: (request as BenchRequest).id, error: String((error as Error)?.stack ?? error) } satisfies BenchReply),
    );
  };
});

async function answer(request: BenchRequest): Promise<unknown> {
  switch (request.op) {
    case "prepare":
      if (cell !== null) await finish(cell);
      cell = await prepare(request.size, request.documents);
      return null;
    case "round":
      if (cell === null) throw new Error("round before prepare");
      if (request.subject === "floor") {
        const c = cell;
        const { result, calls } = uncounted(() => roundFloor(c, request.ms));
        return { ...result, floorCalls: calls } satisfies RoundResult;
      }
      return await roundPeer(cell, request.subject, request.ms);
    case "probe":
      return takeProbe();
    case "handoff":
      // The page's transaction arrived (transferred): hand it back at once, no queue, no I/O.
      return request.bytes;
    case "finish":
      if (cell !== null) await finish(cell);
      cell = null;
      return null;
  }
}

async function prepare(size: number, documents: Uint8Array[]): Promise<Cell> {
  if (!Number.isInteger(size) || size < 1 || documents.length === 0) throw new Error(`prepare needs a size ≥ 1 and documents, got ${size} and ${documents.length}`);
  const floorTransactions: Uint8Array[] = [];
  const peerTransactions: Uint8Array[][] = [];
  for (let k = 0; k < PREPARED_TRANSACTIONS; k++) {
    const docs = Array.from({ length: size }, (_, i) => documents[(k * size + i) % documents.length]!);
    const bytes = new Uint8Array(docs.reduce((sum, d) => sum + d.byteLength, 0));
    let at = 0;
    for (const d of docs) {
      bytes.set(d, at);
      at += d.byteLength;
    }
    floorTransactions.push(bytes);
    // Each record its own buffer: a view into a shared one would be cloned whole by put().
    peerTransactions.push(docs.map((d) => d.slice()));
  }
  const root = await navigator.storage.getDirectory();
  const dir = await root.getDirectoryHandle(FLOOR_DIRECTORY, { create: true });
  const floorName = `floor-${size}`;
  const floor = await (await dir.getFileHandle(floorName, { create: true })).createSyncAccessHandle();
  floor.truncate(0);
  floor.flush();
  const db = await openPeerDatabase();
  return { size, floorName, floor, floorTransactions, floorEnd: 0, peerTransactions, db, nextKey: 1, next: 0 };
}

/**
 * The floor for about `ms`: every transaction one write at the file's end and one flush.
 *
 * The file grows for the whole cell, as the queue's log and the peer's database do, and is
 * removed with the cell. Emptied every round, it wrote into memory its last round had just freed,
 * while the queue's writes needed page cache the system had not used yet: on this project's
 * virtual machines that costs several times more once a few GB are new (433 KB appended and
 * flushed, in Node: 0.11–0.15 ms a write to a file cut back every 150 writes, 0.15–0.28 ms for a
 * growing file's first ~2.8 GB, then 0.8–1.4 ms), so the two did not write alike.
 */
function roundFloor(c: Cell, ms: number): RoundResult {
  let position = c.floorEnd;
  let transactions = 0;
  let elapsedMs = 0;
  const started = performance.now();
  while (elapsedMs < ms) {
    const bytes = c.floorTransactions[c.next++ % c.floorTransactions.length]!;
    position += c.floor.write(bytes, { at: position });
    c.floor.flush();
    transactions++;
    elapsedMs = performance.now() - started;
  }
  c.floorEnd = position;
  return { transactions, elapsedMs };
}

/** The IndexedDB peer for about `ms`: one readwrite transaction per benchmark transaction, awaited to `complete`. */
async function roundPeer(c: Cell, subject: Exclude<WorkerSubject, "floor">, ms: number): Promise<RoundResult> {
  const durability = subject === "idb-strict" ? "strict" : "relaxed";
  let transactions = 0;
  let elapsedMs = 0;
  const started = performance.now();
  while (elapsedMs < ms) {
    const docs = c.peerTransactions[c.next++ % c.peerTransactions.length]!;
    const tx = c.db.transaction(durability, "readwrite", { durability });
    const store = tx.objectStore(durability);
    for (const doc of docs) store.put(doc, c.nextKey++);
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error ?? new Error("IndexedDB transaction failed"));
      tx.onabort = () => reject(tx.error ?? new Error("IndexedDB transaction aborted"));
    });
    transactions++;
    elapsedMs = performance.now() - started;
  }
  return { transactions, elapsedMs };
}

/** A fresh peer database: one object store per durability, out-of-line numeric keys (a queue's sequence numbers). */
async function openPeerDatabase(): Promise<IDBDatabase> {
  await idbRequest(indexedDB.deleteDatabase(PEER_DATABASE));
  const request = indexedDB.open(PEER_DATABASE, 1);
  request.onupgradeneeded = () => {
    for (const name of ["strict", "relaxed"]) request.result.createObjectStore(name);
  };
  return idbRequest(request);
}

function idbRequest<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error("IndexedDB request failed"));
  });
}

/** Closes the cell's file and database and removes both (the next cell starts empty). */
async function finish(c: Cell): Promise<void> {
  c.floor.close();
  const root = await navigator.storage.getDirectory();
  const dir = await root.getDirectoryHandle(FLOOR_DIRECTORY, { create: true });
  await dir.removeEntry(c.floorName);
  c.db.close();
  await idbRequest(indexedDB.deleteDatabase(PEER_DATABASE));
}
