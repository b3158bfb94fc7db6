/**
 * The main thread's end of the SQLite worker: starts the thread, posts each call and settles it
 * with the reply. The thread keeps the process alive only while a call is pending, so a CLI
 * command that never closes its store still exits, and a batch being committed is never cut off.
 */
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { SqliteConnection } from "./sqlite-connection.js";
import { fromWorkerError, openCallId } from "./sqlite-worker-protocol.js";
import type { PackedSqliteBatch, SqliteMethod, SqliteReply, SqliteRequest, SqliteWorkerData } from "./sqlite-worker-protocol.js";
import type { StoreBatch, StoreBatchResult } from "./store-batch.js";

/** A running SQLite worker. */
export interface SqliteWorkerClient {
  /** Runs a connection method in the worker; calls run one at a time, in the order they were made. */
  call<M extends Exclude<SqliteMethod, "ingest">>(method: M, ...args: Parameters<SqliteConnection[M]>): Promise<ReturnType<SqliteConnection[M]>>;
  /**
   * The connection's `ingest` for a store batch, packed and its buffers transferred (see
   * packBatch); in order with every call. The worker makes the rows.
   */
  ingest(batch: StoreBatch): Promise<StoreBatchResult>;
  /** Lets the calls made before it finish, closes the database and ends the thread; later calls reject. */
  close(): Promise<void>;
  /** Why the thread stopped when nobody closed it (it crashed or was ended), or null. */
  stopped(): string | null;
  /** The thread itself: a test seam (tests end it to check that calls then reject). */
  readonly thread: Worker;
}

interface PendingCall {
  resolve(result: unknown): void;
  reject(error: Error): void;
}

/**
 * Where the compiled worker entry is. In dist/ it sits next to this module. Under jest this module
 * is the TypeScript source (ts-jest compiles it in memory) and a Worker cannot load .ts, so the
 * sibling .js does not exist: use the compiled one under server/dist/ (`npm test` builds first).
 */
function locateSqliteWorker(): URL {
  const sibling = new URL("./sqlite-worker.js", import.meta.url);
  if (fs.existsSync(sibling)) return sibling;
  const built = new URL("../dist/stores/sqlite-worker.js", import.meta.url);
  if (fs.existsSync(built)) return built;
  throw new Error(`sqlite store: the SQLite worker (${fileURLToPath(sibling)}, or ${fileURLToPath(built)}) is missing: run npm run build`);
}

/**
 * The CPU profiler's flags among `execArgv`: `--cpu-prof`, its directory and interval (as
 * `--flag=value` or `--flag value`); not `--cpu-prof-name`, or the thread would write over the
 * main thread's file.
 */
export function cpuProfilerFlags(execArgv: readonly string[]): string[] {
  const flags: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const flag = execArgv[i]!;
    if (flag === "--cpu-prof" || /^--cpu-prof-(dir|interval)=/.test(flag)) flags.push(flag);
    else if ((flag === "--cpu-prof-dir" || flag === "--cpu-prof-interval") && i + 1 < execArgv.length) flags.push(flag, execArgv[++i]!);
  }
  return flags;
}

/** Starts a worker that opens the SQLite file at `filePath`; rejects with the opening error (bad path, not a database…). */
export async function startSqliteWorker(filePath: string): Promise<SqliteWorkerClient> {
  const thread = new Worker(locateSqliteWorker(), {
    workerData: { filePath } satisfies SqliteWorkerData,
    // A worker inherits the process's flags by default, and some are refused in a worker
    // (`node --input-type=module -e …` makes it fail to start); plain compiled JS needs none.
    // Only the CPU profiler's are passed on, so `node --cpu-prof` (bench:sync's
    // BENCH_SYNC_SERVER_NODE_ARGS) profiles this thread too, in a file of its own.
    execArgv: cpuProfilerFlags(process.execArgv),
  });
  // Entries leave on reply or when the thread stops: this never outgrows the calls in flight.
  const pending = new Map<number, PendingCall>();
  let nextId = openCallId + 1;
  // Once set, why every call rejects: the thread stopped, or close() was called.
  let refusal: string | null = null;
  let closing: Promise<void> | null = null;

  function settle(id: number): PendingCall | undefined {
    const call = pending.get(id);
    pending.delete(id);
    // Idle: let the process exit; its data is committed, and an exiting process ends the thread.
    if (pending.size === 0) thread.unref();
    return call;
  }

  function stop(why: string): void {
    refusal ??= `sqlite store: the SQLite worker stopped: ${why}`;
    for (const call of pending.values()) call.reject(new Error(refusal));
    pending.clear();
  }

  function post(method: SqliteMethod, args: unknown[], transfer: ArrayBuffer[] = []): Promise<unknown> {
    if (refusal !== null) return Promise.reject(new Error(refusal));
    return new Promise((resolve, reject) => {
      const id = nextId++;
      // A pending call keeps the process alive until it is answered.
      if (pending.size === 0) thread.ref();
      pending.set(id, { resolve, reject });
      try {
        thread.postMessage({ id, method, args } satisfies SqliteRequest, transfer);
      } catch (error) {
        settle(id);
        reject(error as Error);
      }
    });
  }

  const opened = new Promise<void>((resolve, reject) => pending.set(openCallId, { resolve: () => resolve(), reject }));
  thread.on("message", (reply: SqliteReply) => {
    const call = settle(reply.id);
    if (!call) return;
    if ("error" in reply) call.reject(fromWorkerError(reply.error));
    else call.resolve(reply.result);
  });
  thread.on("error", (error) => stop(error.message));
  thread.on("exit", (code) => stop(`it exited with code ${code}`));
  // A reply that cannot be read cannot be matched to its call: nothing after it can be trusted.
  thread.on("messageerror", (error) => {
    stop(`a reply could not be read (${error.message})`);
    void thread.terminate();
  });
  try {
    await opened;
  } catch (error) {
    refusal ??= "sqlite store: the database did not open";
    await thread.terminate();
    throw error;
  }

  function call<M extends Exclude<SqliteMethod, "ingest">>(method: M, ...args: Parameters<SqliteConnection[M]>) {
    return post(method, args) as Promise<ReturnType<SqliteConnection[M]>>;
  }

  return {
    thread,
    call,
    ingest(batch) {
      const { packed, transfer } = packBatch(batch);
      return post("ingest", [packed], transfer) as Promise<StoreBatchResult>;
    },
    stopped() {
      return closing === null ? refusal : null;
    },
    close() {
      closing ??= (async () => {
        const closed = post("close", []);
        refusal ??= "sqlite store: the store is closed";
        try {
          await closed;
        } catch {
          // A thread that already stopped holds no open database: nothing left to close.
        }
        // Ref'd, so the process waits for the thread to end before running what follows close().
        thread.ref();
        await thread.terminate();
      })();
      return closing;
    },
  };
}

/**
 * Packs `batch` for the worker (see PackedSqliteBatch): the documents' BSON copied into one
 * buffer, their keys in a list. Copied, not handed over: the BSON views point into the request
 * body, and the batch may be sent again (a pipelined batch retried after a gap). When every
 * document says where it lies in the batch's `body` (the ingest route's batches), the body is
 * copied whole, one copy instead of one per document; otherwise each document's BSON is copied
 * in turn. `transfer` lists the buffers to move with the message.
 *
 * The rows are made by the worker, not here: a row made here crosses by structured clone (its
 * strings copied, the codec's concatenated ones flattened first), which cost more CPU than making
 * it (end to end on two cores, the worker making every row gave 10–40% more documents per second
 * than this thread making them while the worker was busy; see docs/typed-storage-design.md).
 */
export function packBatch(batch: StoreBatch): { packed: PackedSqliteBatch; transfer: ArrayBuffer[] } {
  const { entries, body } = batch;
  let length = 0;
  let documents = 0;
  let inBody = body !== undefined;
  for (const entry of entries) {
    if (entry.kind !== "document") continue;
    documents++;
    if (inBody && (entry.bsonStart === undefined || entry.bsonEnd === undefined)) inBody = false;
  }
  if (!inBody) {
    for (const entry of entries) if (entry.kind === "document") length += entry.bson.byteLength;
  }
  const seqs = new BigInt64Array(entries.length);
  const tableIndexes = new Uint32Array(entries.length);
  const tables: string[] = [];
  // Its own ArrayBuffer, not a slice of Buffer's shared pool, so it can be transferred.
  const bytes = Buffer.allocUnsafeSlow(inBody ? body!.length : length);
  if (inBody) body!.copy(bytes, 0);
  const ends = new Uint32Array(2 * documents);
  const idKeys: string[] = [];
  const rejected: PackedSqliteBatch["rejected"] = [];
  let at = 0;
  let next = 0;
  let lastTable = "";
  let lastIndex = -1;
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    seqs[i] = entry.seq;
    if (entry.table !== lastTable || lastIndex < 0) {
      lastTable = entry.table;
      lastIndex = tables.indexOf(lastTable);
      if (lastIndex < 0) lastIndex = tables.push(lastTable) - 1;
    }
    tableIndexes[i] = lastIndex;
    if (entry.kind === "rejected") {
      rejected.push({ index: i, code: entry.code, reason: entry.reason });
      continue;
    }
    idKeys.push(entry.idKey);
    if (inBody) {
      ends[next++] = entry.bsonStart!;
      ends[next++] = entry.bsonEnd!;
      continue;
    }
    const { bson } = entry;
    ends[next++] = at;
    bytes.set(bson, at);
    at += bson.byteLength;
    ends[next++] = at;
  }
  const { queueId, ifAcknowledgedSeq, userId, arrivedAt } = batch;
  return {
    packed: { queueId, ifAcknowledgedSeq, userId, arrivedAt, seqs, tables, tableIndexes, bytes, ends, idKeys, rejected },
    transfer: [seqs.buffer, tableIndexes.buffer, bytes.buffer as ArrayBuffer, ends.buffer],
  };
}
