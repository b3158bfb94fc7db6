/**
 * The browser's `Realm` (what `import { Realm } from "asymgen"` gives a page): the API of
 * runtime/realm.ts over a queue that lives in a dedicated worker (docs/browser-runtime-design.md,
 * decisions 1–4, 7, 8). The page validates and encodes every `ingest` synchronously with the
 * generated encoders and sends each transaction, as BSON, to its queue worker, which appends it
 * to the queue (its own, or another tab's: the worker forwards it) and answers once it is durable.
 *
 * `write` returns once the transaction is handed over, NOT once it is durable (a page cannot block
 * on the disk): a crash within milliseconds may lose it. `writeAsync` resolves once it is durable.
 */
import { User } from "../app/user.js";
import { BsonWriter } from "../encode/bson-writer.js";
import { crc32 } from "../queue/crc32.js";
import { HEAD_GAP_BYTES } from "../queue/transaction-buffer.js";
import { AsymgenError, QueueUnsupportedError, TransactionStateError } from "../errors.js";
import type { Durability } from "../queue/durable-queue.js";
import type { RecoveryReport } from "../queue/queue-recovery.js";
import { encodeDocument } from "../queue/encode-document.js";
import { indexSchema, isThenable, resolveIngestTarget, type AnyModelClass, type ModelEntry, type ModelInit } from "../realm-schema.js";
import type { CanonicalObjectSchema } from "../schema/canonical-schema.js";
import { SyncError } from "../sync/sync-error.js";
import type { SyncConfiguration } from "../sync/sync-session.js";
import { BrowserSyncSession } from "./browser-sync-session.js";
import type {
  DurableAnswer,
  EncodedTransaction,
  OpenMessage,
  PageToWorkerMessage,
  QueueRequest,
  QueueStatsAnswer,
  StorageKind,
  WorkerToPageMessage,
} from "./queue-worker-protocol.js";
import { fromTransferableError } from "./transferable-error.js";
import { installWasmCrc32 } from "./wasm-crc32.js";
import { getLockManager, getPersistStorage, isSecureContext, onPageOnline, type WebWorker } from "./web-apis.js";

// Typed here because the runtime also compiles against Node's types, which have no DOM Worker.
declare const Worker: (new (url: URL | string, options: { type: "module"; name?: string }) => WebWorker) | undefined;

/** Whether the page has installed its CRC-32 (installWasmCrc32), at the first document checksum it takes. */
let pageCrc32Installed = false;

/** The browser's `sync` section: `SyncConfiguration`, with `onError` given the page's session view. */
export interface BrowserSyncConfiguration extends Omit<SyncConfiguration, "onError"> {
  onError?: (session: BrowserSyncSession, error: Error) => void;
}

/** What the browser's `Realm.open` takes. */
export interface BrowserRealmConfiguration {
  /** The generated model classes to ingest. */
  schema: readonly AnyModelClass[];
  /** The queue's name within the origin: every tab opening the same path ingests into one queue. */
  path: string;
  /** "full" (default): each durable answer waits for a flush; "os": for the write only. */
  durability?: Durability;
  /** Most bytes the pending backlog may take; past it transactions fail with `QueueFullError`. */
  maxQueueBytes?: number;
  /** Segment size that triggers a rollover (default 64 MiB). */
  segmentBytes?: number;
  /**
   * The way out of `QueueCorruptedError` (damage to committed data): "truncate-at-damage" cuts
   * the log at the first damaged frame, as on Node. Used by whichever tab's worker opens the queue.
   */
  repair?: "truncate-at-damage";
  /**
   * Called with each report of what recovery or repair cut when THIS tab's worker opened the
   * queue (after a crash, the tab that takes it over); also `queueStats().lastRecovery`.
   */
  onRecovery?: (report: RecoveryReport) => void;
  /**
   * "auto" (default): OPFS where sync access handles exist, IndexedDB otherwise; or one of them.
   * The queue's settings are its owner's: when another tab owns it on the other kind, `open`
   * rejects with `QueueStorageMismatchError` ("auto" follows the owner).
   */
  storage?: StorageKind;
  /** Upload to a server; the session runs in the owning tab's worker, as this user. */
  sync?: BrowserSyncConfiguration;
  /**
   * Called with the error of a transaction `write` handed over and the queue then refused (a full
   * queue, a failed flush): `write` has returned by then. Default: `console.error`.
   */
  onWriteError?: (error: Error) => void;
  /**
   * The queue worker's script. Default: `new URL("./queue-worker.js", import.meta.url)`, the form
   * bundlers (Vite, webpack 5, Rollup) recognise and emit the worker for; set it when the worker
   * is served from elsewhere.
   */
  workerUrl?: URL | string;
}

const STORAGE_KINDS: readonly StorageKind[] = ["auto", "opfs", "indexeddb"];
/**
 * Encoding buffers kept for the next transactions: one per `writeAsync` a page keeps in flight
 * (a serial writer needs one; an app with a few in flight reuses that many).
 */
const POOLED_WRITERS = 8;
/** A writer whose buffer grew past this (a huge transaction) is not kept: its memory goes back. */
const MAX_POOLED_WRITER_BYTES = 4 * 1024 * 1024;

interface Waiter {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/** The transaction being written: its documents encoded back to back. */
interface OpenTransaction {
  writer: BsonWriter;
  tables: string[];
  docTables: number[];
}

/** An open queue of ingest-only objects, in a browser. */
export class Realm {
  readonly #worker: WebWorker;
  readonly #models: Map<Function, ModelEntry>;
  readonly #pageId = crypto.randomUUID();
  readonly #onWriteError: (error: Error) => void;
  #nextTxn = 0;
  #nextRequest = 0;
  #txn: OpenTransaction | null = null;
  /**
   * Encoding buffers to reuse: a transaction that fills at least half its writer's buffer goes to
   * the worker in that buffer (transferred, no copy) and the buffer comes back with its answer,
   * into this pool; a smaller one is copied out (cheap) and its writer stays here, so a burst of
   * small `write`s does not hold a 64 KiB buffer each until they are answered. A new writer only
   * when every pooled one is out.
   */
  readonly #writers: BsonWriter[] = [];
  #closed = false;
  #role: "owner" | "follower" | null = null;
  #syncSession: BrowserSyncSession | null = null;
  /** The `writeAsync` and `write` transactions not yet answered, by id, with the writer whose buffer they took (null: copied). */
  readonly #pendingTxns = new Map<string, Waiter & { async: boolean; writer: BsonWriter | null }>();
  readonly #pendingRequests = new Map<string, Waiter>();
  /** The answers of the transactions not yet answered (`uploadAllLocalChanges` waits for them). */
  readonly #inFlight = new Set<Promise<unknown>>();
  #syncOnError: BrowserSyncConfiguration["onError"] | null = null;
  #onRecovery: ((report: RecoveryReport) => void) | null = null;
  #closedByWorker: (() => void) | null = null;
  /** Stops forwarding the page's "online" event to the worker (set with sync). */
  #removeOnlineListener: (() => void) | null = null;
  #storageKind: "opfs" | "indexeddb" = "opfs";
  /** Why the worker can no longer answer (it failed, or its takeover did): every later call fails with it. */
  #workerError: Error | null = null;
  /** Stops sending the page's logins to the worker (`close`). */
  #removeUserListener: (() => void) | null = null;

  private constructor(
    worker: WebWorker,
    models: Map<Function, ModelEntry>,
    /** The canonical schemas of the models, in the order given. */
    readonly schema: readonly CanonicalObjectSchema[],
    /** The queue's name within the origin. */
    readonly path: string,
    /** What `navigator.storage.persist()` answered: true when the browser will not evict the queue under storage pressure. */
    readonly storagePersisted: boolean,
    onWriteError: ((error: Error) => void) | undefined,
  ) {
    this.#worker = worker;
    this.#models = models;
    this.#onWriteError = onWriteError ?? ((error) => console.error("asymgen: a transaction handed over by realm.write() was not queued:", error));
  }

  /**
   * Starts the queue worker and opens the queue at `config.path` in it: this tab's worker owns it
   * (recovers it, uploads it) or, when another tab's does, forwards to that one. Rejects with
   * `QueueUnsupportedError` naming the reason where the browser lacks what the queue needs
   * (a secure context, Web Locks, module workers).
   */
  static async open(config: BrowserRealmConfiguration): Promise<Realm> {
    const { models, schema } = indexSchema(config.schema);
    if (typeof config.path !== "string" || config.path === "") throw new QueueUnsupportedError("Realm.open needs a path: the queue's name within the origin");
    if (config.storage !== undefined && !STORAGE_KINDS.includes(config.storage)) {
      throw new QueueUnsupportedError(`storage must be "auto", "opfs" or "indexeddb", not ${JSON.stringify(config.storage)}`);
    }
    if (!isSecureContext()) {
      throw new QueueUnsupportedError("the durable queue needs a secure context (https, or http on localhost/127.0.0.1): this page is not one, so it has no Web Locks or OPFS");
    }
    if (getLockManager() === null) throw new QueueUnsupportedError("the durable queue needs Web Locks (navigator.locks), which this browser lacks");
    if (typeof Worker === "undefined") throw new QueueUnsupportedError("the durable queue needs module workers, which this browser lacks");
    const persist = getPersistStorage();
    // A refusal is not an error: browsers grant persistence by engagement (the README says what eviction means).
    const storagePersisted = persist === null ? false : await persist().catch(() => false);
    const sync = config.sync;
    const open: OpenMessage = {
      type: "open",
      path: config.path,
      storage: config.storage ?? "auto",
      ...(config.durability !== undefined && { durability: config.durability }),
      ...(config.maxQueueBytes !== undefined && { maxQueueBytes: config.maxQueueBytes }),
      ...(config.segmentBytes !== undefined && { segmentBytes: config.segmentBytes }),
      ...(config.repair !== undefined && { repair: config.repair }),
      sync: sync === undefined ? null : syncInit(sync),
    };
    const worker =
      config.workerUrl !== undefined
        ? new Worker(config.workerUrl, { type: "module", name: `asymgen queue ${config.path}` })
        : new Worker(new URL("./queue-worker.js", import.meta.url), { type: "module" });
    const realm = new Realm(worker, models, schema, config.path, storagePersisted, config.onWriteError);
    realm.#onRecovery = config.onRecovery ?? null;
    if (sync !== undefined) realm.#syncSession = new BrowserSyncSession((request) => realm.#request(request), sync.user, () => realm.#whenSent());
    await new Promise<void>((resolve, reject) => {
      worker.onerror = (event) => reject(new QueueUnsupportedError(`the queue worker failed to start: ${event.message ?? "no message (is queue-worker.js served?)"}`));
      worker.onmessage = ({ data }) => {
        const message = data as WorkerToPageMessage;
        if (message.type === "opened") {
          realm.#storageKind = message.storageKind;
          resolve();
        }
        else if (message.type === "open-failed") reject(fromTransferableError(message.error));
        else realm.#fromWorker(message);
      };
      worker.postMessage(open satisfies PageToWorkerMessage);
    }).catch((error: unknown) => {
      worker.terminate();
      throw error;
    });
    worker.onmessage = ({ data }) => realm.#fromWorker(data as WorkerToPageMessage);
    worker.onerror = (event) => {
      realm.#failAll(new TransactionStateError(`the queue worker failed: ${event.message ?? "unknown error"}`));
      // An uncaught error leaves the worker in a state nothing vouches for: end it (its locks go
      // with it, so another tab can own the queue) rather than send it more.
      worker.terminate();
    };
    if (sync !== undefined) {
      // The page's logins and logouts reach the owner's copy of the user: a logout pauses the
      // session, a login again resumes it (refreshes come along too; either token is valid).
      const user = sync.user;
      const listener = (): void => {
        if (!realm.#closed) realm.#post({ type: "user", user: user.toRecord() });
      };
      user.addListener(listener);
      realm.#removeUserListener = () => user.removeListener(listener);
      realm.#syncOnError = sync.onError ?? null;
      // Every tab forwards it to its worker; the owner's reconnects its session (a follower's has none).
      realm.#removeOnlineListener = onPageOnline(() => {
        if (!realm.#closed) realm.#post({ type: "online" });
      });
    }
    return realm;
  }

  /** The sync session's view in this page; null when opened without `sync`. */
  get syncSession(): BrowserSyncSession | null {
    return this.#syncSession;
  }

  /** Whether `close` was called. */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** Whether a write transaction is open (inside a `write` callback). */
  get isInTransaction(): boolean {
    return this.#txn !== null;
  }

  /** The log store the queue is in: "opfs", or "indexeddb" (forced, or chosen by "auto" where the worker has no OPFS sync access handles). */
  get storageKind(): "opfs" | "indexeddb" {
    return this.#storageKind;
  }

  /** Whether this tab's worker owns the queue ("owner") or forwards to another tab's ("follower"). */
  get queueRole(): "owner" | "follower" | null {
    return this.#role;
  }

  /**
   * Runs `callback` as one transaction and returns its result once the transaction is handed to
   * the queue worker: NOT yet durable (`writeAsync` waits for that). If `callback` throws (an
   * invalid value included), nothing of it is sent. If the queue refuses it later, `onWriteError`
   * is called.
   */
  write<T>(callback: () => T): T {
    const { result, answer } = this.#runTransaction(callback, false);
    void answer;
    return result;
  }

  /**
   * Runs `callback` as one transaction and resolves with its result once the transaction is
   * durable in the owner's queue; rejects with the queue's typed error (`QueueFullError`,
   * `QueueDiskFullError`…), and then nothing of it is queued.
   */
  async writeAsync<T>(callback: () => T): Promise<T> {
    const { result, answer } = this.#runTransaction(callback, true);
    await answer;
    return result;
  }

  /**
   * Validates `init` with `Model`'s generated encoder, adds it to the open transaction and returns
   * its position in the transaction (1, 2, …): sequence numbers are given later, by the owner.
   */
  ingest<M extends AnyModelClass>(Model: M, init: ModelInit<M>): number;
  /** Adds an instance of a generated class to the open transaction and returns its position in it. */
  ingest(object: object): number;
  ingest(modelOrObject: AnyModelClass | object, init?: unknown): number {
    if (this.#closed) throw new TransactionStateError("the Realm is closed");
    const txn = this.#txn;
    if (txn === null) throw new TransactionStateError("ingest must be called inside realm.write()");
    const { entry, value } = resolveIngestTarget(this.#models, modelOrObject, init);
    encodeDocument(txn.writer, entry.table, entry.encode, value);
    let tableIndex = txn.tables.indexOf(entry.table);
    if (tableIndex < 0) tableIndex = txn.tables.push(entry.table) - 1;
    return txn.docTables.push(tableIndex);
  }

  /** The owner's queue statistics (its backlog, what opening cut), wherever the owner is. */
  async queueStats(): Promise<QueueStatsAnswer> {
    return (await this.#request({ kind: "stats" })) as QueueStatsAnswer;
  }

  /**
   * Closes the Realm: the worker first gets the answers to every transaction this page sent, then
   * closes (an owner flushes and closes its queue, releasing it to another tab). Resolves once the
   * worker has ended. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#txn !== null) throw new TransactionStateError("cannot close a Realm inside a write transaction");
    if (this.#closed) return;
    this.#closed = true;
    this.#removeOnlineListener?.();
    this.#removeUserListener?.();
    this.#syncSession?.close();
    if (this.#workerError === null) {
      await new Promise<void>((resolve) => {
        this.#closedByWorker = resolve;
        this.#post({ type: "close" });
      });
    }
    this.#worker.terminate();
    this.#failAll(new TransactionStateError("the Realm was closed before the queue worker answered"));
  }

  #runTransaction<T>(callback: () => T, async: boolean): { result: T; answer: Promise<unknown> } {
    if (this.#closed) throw new TransactionStateError("the Realm is closed");
    if (this.#txn !== null) throw new TransactionStateError("a write transaction is already open; transactions cannot be nested");
    if (this.#workerError !== null) throw this.#workerError;
    const writer = this.#writers.pop() ?? new BsonWriter();
    writer.truncate(0);
    // The documents start after room for the queue's frame head, where the queue's own
    // transaction buffer puts them: the owner frames and writes a transferred buffer as it is.
    writer.reserve(HEAD_GAP_BYTES);
    const txn: OpenTransaction = { writer, tables: [], docTables: [] };
    this.#txn = txn;
    let result: T;
    try {
      result = callback();
      if (isThenable(result)) {
        throw new TransactionStateError("a write callback must be synchronous: it returned a promise, so the transaction was rolled back");
      }
    } catch (error) {
      this.#writers.push(writer);
      throw error;
    } finally {
      this.#txn = null;
    }
    if (txn.docTables.length === 0) {
      this.#writers.push(writer);
      return { result, answer: Promise.resolve() };
    }
    const id = `${this.#pageId}:${++this.#nextTxn}`;
    // At least half full: a view of the writer's buffer, which is transferred, and the writer is
    // unusable until the worker hands the buffer back with the answer (#reuseWriter). Otherwise a
    // copy (at most half the buffer), and the writer is free at once.
    const lent = writer.length * 2 >= writer.bytes.byteLength;
    const bytes = lent ? writer.subarray(HEAD_GAP_BYTES) : writer.copy(HEAD_GAP_BYTES);
    if (!lent) this.#writers.push(writer);
    const encoded: EncodedTransaction = { id, tables: txn.tables, docTables: Uint16Array.from(txn.docTables), bytes };
    // A lent buffer is written as it is by the owner: its checksum is taken here, on the page's
    // core, rather than by the queue worker, which also writes and flushes every tab's
    // transactions (at 1000 WeatherSensor documents the checksum was ~30% of its time). Not in a
    // follower tab: its worker forwards a copy, which the owner checksums itself.
    if (lent && this.#role !== "follower") {
      if (!pageCrc32Installed) {
        installWasmCrc32();
        pageCrc32Installed = true;
      }
      encoded.docsCrc = crc32(bytes);
    }
    if (async && this.#pendingTxns.size === 0) encoded.alone = true;
    const answer = new Promise<unknown>((resolve, reject) => this.#pendingTxns.set(id, { resolve, reject, async, writer: lent ? writer : null }));
    this.#inFlight.add(answer);
    const settled = (): boolean => this.#inFlight.delete(answer);
    answer.then(settled, settled);
    this.#post({ type: "txn", txn: encoded }, [encoded.bytes.buffer as ArrayBuffer]);
    return { result, answer };
  }

  /** Resolves once every transaction sent so far is answered (durable or refused). */
  async #whenSent(): Promise<void> {
    await Promise.allSettled([...this.#inFlight]);
  }

  #request(request: QueueRequest): Promise<unknown> {
    if (this.#closed) return Promise.reject(new TransactionStateError("the Realm is closed"));
    if (this.#workerError !== null) return Promise.reject(this.#workerError);
    const id = String(++this.#nextRequest);
    return new Promise<unknown>((resolve, reject) => {
      this.#pendingRequests.set(id, { resolve, reject });
      this.#post({ type: "request", id, request });
    });
  }

  #post(message: PageToWorkerMessage, transfer?: ArrayBuffer[]): void {
    this.#worker.postMessage(message, transfer);
  }

  #fromWorker(message: WorkerToPageMessage): void {
    switch (message.type) {
      case "opened":
      case "open-failed":
        return;
      case "role":
        this.#role = message.role;
        return;
      case "durable": {
        const waiter = this.#pendingTxns.get(message.id);
        this.#pendingTxns.delete(message.id);
        if (waiter?.writer != null) this.#reuseWriter(waiter.writer, message.buffer);
        const answer: DurableAnswer = { owner: message.owner, firstSeq: message.firstSeq, lastSeq: message.lastSeq };
        waiter?.resolve(answer);
        return;
      }
      case "txn-failed": {
        const waiter = this.#pendingTxns.get(message.id);
        this.#pendingTxns.delete(message.id);
        if (waiter?.writer != null) this.#reuseWriter(waiter.writer, message.buffer);
        const error = fromTransferableError(message.error);
        if (waiter?.async) waiter.reject(error);
        else if (waiter !== undefined) {
          waiter.resolve(undefined);
          this.#onWriteError(error);
        }
        return;
      }
      case "answer": {
        const waiter = this.#pendingRequests.get(message.id);
        this.#pendingRequests.delete(message.id);
        if (message.error !== undefined) waiter?.reject(fromTransferableError(message.error));
        else waiter?.resolve(message.result);
        return;
      }
      case "session":
        this.#syncSession?.receive(message.report);
        return;
      case "sync-error": {
        const session = this.#syncSession;
        const error = fromTransferableError(message.error);
        if (session !== null && this.#syncOnError !== null) this.#syncOnError?.(session, error);
        else console.error("asymgen: the queue worker reported:", error);
        return;
      }
      case "recovery":
        this.#onRecovery?.(message.report);
        return;
      case "failed":
        this.#failAll(fromTransferableError(message.error));
        return;
      case "closed":
        this.#closedByWorker?.();
        return;
    }
  }

  /** A transaction's buffer is back from the worker: its writer takes it and waits in the pool for the next transaction. */
  #reuseWriter(writer: BsonWriter, buffer: ArrayBuffer | undefined): void {
    if (buffer === undefined || buffer.byteLength > MAX_POOLED_WRITER_BYTES || this.#writers.length >= POOLED_WRITERS) return;
    writer.adopt(buffer);
    this.#writers.push(writer);
  }

  /** The worker is gone: every waiter gets `error`. */
  #failAll(error: Error): void {
    this.#workerError ??= error;
    this.#closedByWorker?.();
    for (const waiter of this.#pendingTxns.values()) {
      if (waiter.async) waiter.reject(error);
      else {
        waiter.resolve(undefined);
        this.#onWriteError(error);
      }
    }
    this.#pendingTxns.clear();
    for (const waiter of this.#pendingRequests.values()) waiter.reject(error);
    this.#pendingRequests.clear();
  }
}

/** What the worker needs of the sync section: the user's persisted record and where its server is. */
function syncInit(sync: BrowserSyncConfiguration): OpenMessage["sync"] {
  if (sync.flexible !== true) throw new SyncError("only flexible sync (flexible: true) is supported", "bad_configuration");
  const user: unknown = sync.user;
  if (!(user instanceof User)) throw new AsymgenError("sync.user must be a User, from app.logIn() or app.currentUser");
  return {
    appId: user.appId,
    baseUrl: user.baseUrl,
    user: user.toRecord(),
    options: {
      ...(sync.maxBatchDocuments !== undefined && { maxBatchDocuments: sync.maxBatchDocuments }),
      ...(sync.maxBatchBytes !== undefined && { maxBatchBytes: sync.maxBatchBytes }),
      ...(sync.initialBackoffMs !== undefined && { initialBackoffMs: sync.initialBackoffMs }),
      ...(sync.maxBackoffMs !== undefined && { maxBackoffMs: sync.maxBackoffMs }),
      ...(sync.requestTimeoutMs !== undefined && { requestTimeoutMs: sync.requestTimeoutMs }),
    },
  };
}
