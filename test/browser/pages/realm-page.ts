/**
 * The test page of the browser Realm tests (test/browser/realm-*.test.ts): the app the tests
 * drive through `window.realmTest`. It records every message the queue worker sends its page
 * (a spy on `Worker`, installed before the Realm starts one) so that tests can see which owner
 * made each transaction durable, under which sequence numbers.
 */
// The browser entry by path, not "asymgen": this page is type-checked with the tests (the root
// tsconfig), whose `paths` map "asymgen" to runtime/exports.ts, Node's Realm; the package's own
// "browser" condition is seen only by a bundler-style check (demo/browser/page/tsconfig.json).
// The bundle is the same either way (the page bundler aliases "asymgen" to this file).
import {
  App,
  Credentials,
  IngestValidationError,
  QueueDiskFullError,
  QueueFullError,
  QueueUnsupportedError,
  Realm,
  RealmSchemaError,
  TransactionStateError,
} from "../../../runtime/browser/index.js";
import { Reading as Measurement } from "./realm-model.js";

interface WorkerMessage {
  type: string;
  id?: string;
  owner?: string;
  firstSeq?: number;
  lastSeq?: number;
  role?: string;
  /** A transaction's answer: whether it handed the transaction's buffer back. */
  returnedBuffer: boolean;
  at: number;
}

const messages: WorkerMessage[] = [];
/** The transactions the page handed to its worker, when, and whether in a buffer an answer had handed back. */
const sentTxns: { id: string; at: number; reusedBuffer: boolean }[] = [];
/** The transaction buffers the worker's answers handed back to the page. */
const returnedBuffers = new WeakSet<ArrayBuffer>();
const NativeWorker = globalThis.Worker;
globalThis.Worker = class SpiedWorker extends NativeWorker {
  constructor(url: string | URL, options?: WorkerOptions) {
    super(url, options);
    // Without the transaction buffer an answer hands back (the Realm reuses it, and its next
    // transfer detaches it): the tests read whether it came, not the bytes.
    this.addEventListener("message", ({ data }: MessageEvent) => {
      const { buffer, ...answer } = data as { type: string; buffer?: ArrayBuffer };
      if (buffer !== undefined) returnedBuffers.add(buffer);
      messages.push({ ...answer, returnedBuffer: buffer !== undefined, at: Date.now() });
    });
  }
  override postMessage(message: unknown, transfer?: Transferable[] | StructuredSerializeOptions): void {
    const sent = message as { type: string; txn?: { id: string; bytes: Uint8Array } };
    if (sent.type === "txn") sentTxns.push({ id: sent.txn!.id, at: Date.now(), reusedBuffer: returnedBuffers.has(sent.txn!.bytes.buffer as ArrayBuffer) });
    super.postMessage(message, transfer as Transferable[]);
  }
};

let realm: Realm | null = null;
let app: App | null = null;
/** What `onWriteError` was given: the errors of `write` transactions the queue refused. */
const writeErrors: unknown[] = [];
const outcomes: { txn: number; ok: boolean; error?: string; at: number }[] = [];
/** How many outcomes were already handed to the test's `reportOutcomes` binding (fault tests). */
let reportedOutcomes = 0;

/** The asymgen error classes a test may ask about, by name. */
const ERROR_CLASSES: Record<string, abstract new (...args: never[]) => Error> = {
  QueueFullError,
  QueueDiskFullError,
  IngestValidationError,
  TransactionStateError,
  QueueUnsupportedError,
  RealmSchemaError,
};

function describeError(error: unknown): { name: string; message: string; isClass: Record<string, boolean>; fields: Record<string, unknown> } {
  const e = error as Error & Record<string, unknown>;
  return {
    name: e.name,
    message: e.message,
    // instanceof the class itself, not the name: an error rebuilt from the worker's message as a
    // plain Error named "QueueFullError" must not pass (transferable-error.ts rebuilds the class).
    isClass: Object.fromEntries(Object.entries(ERROR_CLASSES).map(([name, Class]) => [name, e instanceof Class])),
    fields: Object.fromEntries(Object.entries(e).filter(([, v]) => typeof v !== "object" && typeof v !== "function")),
  };
}

/** What the tests pass to `open`. */
interface OpenOptions {
  path: string;
  workerUrl?: string;
  storage?: string;
  maxQueueBytes?: number;
  segmentBytes?: number;
  sync?: { appId: string; baseUrl: string };
  syncOptions?: Record<string, number>;
}

function doc(id: number, tab: string) {
  return { id, deviceId: tab, value: id * 0.5 };
}

const api = {
  messages: () => messages,
  sentTxns: () => sentTxns,
  outcomes: () => outcomes,
  async open(options: OpenOptions) {
    let user = undefined;
    let loggedInNow = false;
    /** When the login (or the kept user's load) resolved: the crash tests kill the browser soon after. */
    let userAt: number | null = null;
    if (options.sync !== undefined) {
      app = await App.open({ id: options.sync.appId, baseUrl: options.sync.baseUrl });
      const kept = app.currentUser;
      loggedInNow = kept === null;
      user = kept ?? (await app.logIn(Credentials.anonymous()));
      userAt = Date.now();
    }
    realm = await Realm.open({
      schema: [Measurement],
      path: options.path,
      ...(options.maxQueueBytes !== undefined && { maxQueueBytes: options.maxQueueBytes }),
      ...(options.segmentBytes !== undefined && { segmentBytes: options.segmentBytes }),
      ...(options.workerUrl !== undefined && { workerUrl: options.workerUrl }),
      ...(options.storage !== undefined && { storage: options.storage as "auto" }),
      ...(user !== undefined && { sync: { user, flexible: true as const, ...options.syncOptions } }),
      onWriteError: (error) => writeErrors.push(describeError(error)),
    });
    return { role: realm.queueRole, persisted: realm.storagePersisted, userId: user?.id ?? null, loggedInNow, userAt };
  },
  role: () => realm?.queueRole ?? null,
  storageKind: () => realm?.storageKind ?? null,
  async openError(options: OpenOptions) {
    try {
      await api.open(options);
      return null;
    } catch (error) {
      return describeError(error);
    }
  },
  context: () => ({ secure: window.isSecureContext, locks: typeof navigator.locks }),
  writeErrors: () => writeErrors,
  async writeAsync(tab: string, first: number, count: number) {
    const result = await realm!.writeAsync(() => {
      const positions: number[] = [];
      for (let i = 0; i < count; i++) positions.push(realm!.ingest(Measurement, doc(first + i, tab)));
      return positions;
    });
    return result;
  },
  write(tab: string, first: number, count: number) {
    return realm!.write(() => {
      for (let i = 0; i < count; i++) realm!.ingest(Measurement, doc(first + i, tab));
      return count;
    });
  },
  /** Writes `txns` transactions of `perTxn` documents, `concurrency` at a time, recording each outcome. */
  async burst(tab: string, firstTxn: number, txns: number, perTxn: number, concurrency: number) {
    let next = firstTxn;
    const end = firstTxn + txns;
    const worker = async () => {
      while (next < end) {
        const txn = next++;
        try {
          await api.writeAsync(tab, txn * perTxn, perTxn);
          outcomes.push({ txn, ok: true, at: Date.now() });
        } catch (error) {
          outcomes.push({ txn, ok: false, error: String(error), at: Date.now() });
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return outcomes.length;
  },
  /**
   * Hands every outcome to the test's `window.reportOutcomes` binding (page.exposeBinding) as it
   * comes, in batches every few ms: a test that kills the browser learns what was answered
   * before the kill without having to ask a page that no longer exists.
   */
  streamOutcomes() {
    const report = (window as unknown as { reportOutcomes?: (batch: typeof outcomes) => void }).reportOutcomes;
    if (typeof report !== "function") throw new Error("streamOutcomes needs the test's reportOutcomes binding");
    setInterval(() => {
      if (reportedOutcomes === outcomes.length) return;
      const batch = outcomes.slice(reportedOutcomes);
      reportedOutcomes = outcomes.length;
      report(batch);
    }, 5);
  },
  /** Writes transactions of `perTxn` documents from txn `firstTxn` on, `concurrency` at a time, until the browser dies (or `maxTxns`). */
  endlessBurst(tab: string, firstTxn: number, perTxn: number, concurrency: number, maxTxns = 1_000_000) {
    void api.burst(tab, firstTxn, maxTxns, perTxn, concurrency);
  },
  /** Writes `perTxn`-document transactions from txn `firstTxn` on until one is refused; returns the txns written and the refusal. */
  async fillUntilRefused(tab: string, firstTxn: number, perTxn: number, maxTxns: number) {
    for (let txn = firstTxn; txn < firstTxn + maxTxns; txn++) {
      try {
        await api.writeAsync(tab, txn * perTxn, perTxn);
      } catch (error) {
        return { written: txn - firstTxn, refusedTxn: txn, error: describeError(error) };
      }
    }
    return { written: maxTxns, refusedTxn: null, error: null };
  },
  /**
   * `fillUntilRefused` through `write()`: after each transaction, waits for the worker's answer
   * (its "durable" message, or the error `onWriteError` was given), since `write` returns first.
   */
  async fillByWriteUntilRefused(tab: string, firstTxn: number, perTxn: number, maxTxns: number) {
    for (let txn = firstTxn; txn < firstTxn + maxTxns; txn++) {
      const errorsBefore = writeErrors.length;
      api.write(tab, txn * perTxn, perTxn);
      const id = sentTxns.at(-1)!.id;
      while (writeErrors.length === errorsBefore && !messages.some((m) => m.type === "durable" && m.id === id)) await new Promise((resolve) => setTimeout(resolve, 5));
      if (writeErrors.length > errorsBefore) return { written: txn - firstTxn, refusedTxn: txn, error: writeErrors.at(-1) };
    }
    return { written: maxTxns, refusedTxn: null, error: null };
  },
  async tryWrite(kind: "invalid" | "async" | "nested" | "outside") {
    try {
      if (kind === "invalid") realm!.write(() => realm!.ingest(Measurement, { id: 1, deviceId: "x", value: Number.NaN }));
      else if (kind === "async") await realm!.writeAsync((async () => undefined) as never);
      else if (kind === "nested") realm!.write(() => realm!.write(() => 0));
      else realm!.ingest(Measurement, doc(1, "x"));
      return null;
    } catch (error) {
      return describeError(error);
    }
  },
  async writeAsyncError(tab: string, first: number, count: number) {
    try {
      await api.writeAsync(tab, first, count);
      return null;
    } catch (error) {
      return describeError(error);
    }
  },
  stats: async () => {
    const answer = await realm!.queueStats();
    return { owner: answer.owner, appendedTransactions: answer.appendedTransactions, pendingDocuments: answer.pendingDocuments, pendingBytes: answer.pendingBytes };
  },
  async uploadAll(timeoutMs: number) {
    await realm!.syncSession!.uploadAllLocalChanges(timeoutMs);
    return realm!.syncSession!.pendingDocuments;
  },
  /** `uploadAll`, but its error described (name, message, fields) instead of thrown. */
  async uploadAllOrError(timeoutMs: number) {
    try {
      return { pending: await api.uploadAll(timeoutMs), error: null };
    } catch (error) {
      return { pending: realm!.syncSession!.pendingDocuments, error: describeError(error) };
    }
  },
  pause: () => realm!.syncSession!.pause(),
  logOut: () => app!.currentUser!.logOut(),
  resume: () => realm!.syncSession!.resume(),
  session: () => ({ state: realm?.syncSession?.state, connection: realm?.syncSession?.connectionState, pending: realm?.syncSession?.pendingDocuments }),
  currentUser() {
    return app?.currentUser?.id ?? null;
  },
  /** What `app.currentUser` throws when read right after `new App`, before the users are read from IndexedDB (null: it did not). */
  currentUserTooEarly(appId: string, baseUrl: string) {
    const early = new App({ id: appId, baseUrl });
    try {
      void early.currentUser;
      return null;
    } catch (error) {
      return describeError(error);
    }
  },
  /**
   * Logs in on app `appId` with `indexedDB` hidden from the page (as where storage is refused):
   * the users must go to localStorage instead. Returns the user id and what localStorage holds.
   */
  async logInWithoutIndexedDb(appId: string, baseUrl: string) {
    const descriptor = Object.getOwnPropertyDescriptor(globalThis, "indexedDB");
    Object.defineProperty(globalThis, "indexedDB", { value: undefined, configurable: true });
    try {
      const fallback = await App.open({ id: appId, baseUrl });
      const user = await fallback.logIn(Credentials.anonymous());
      return { userId: user.id, legacy: localStorage.getItem(`asymgen:users:${appId}`) };
    } finally {
      if (descriptor !== undefined) Object.defineProperty(globalThis, "indexedDB", descriptor);
      else delete (globalThis as { indexedDB?: unknown }).indexedDB;
    }
  },
  /** App `appId`'s record in the users' IndexedDB database, as JSON (null when there is none), read directly. */
  storedUsers: async (appId: string) => JSON.stringify((await readUserRecord(appId)) ?? null),
  /** What localStorage holds under the key asymgen kept users in before IndexedDB. */
  legacyUsers: (appId: string) => localStorage.getItem(`asymgen:users:${appId}`),
  /** Puts app `appId`'s users back where an older asymgen kept them (localStorage), out of IndexedDB: a page as that version left it. */
  async moveUsersToLocalStorage(appId: string) {
    const record = await readUserRecord(appId);
    localStorage.setItem(`asymgen:users:${appId}`, JSON.stringify(record));
    await userDatabaseRequest("readwrite", (store) => store.delete(appId));
  },
  async close() {
    await realm?.close();
    return realm?.isClosed ?? null;
  },
};

/** Runs `request` on the users' object store (runtime/browser/indexeddb-user-store.ts) in a transaction of `mode`; resolves with its result on complete. */
function userDatabaseRequest(mode: IDBTransactionMode, request: (store: IDBObjectStore) => IDBRequest): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open("asymgen-users");
    // No database yet: not made here (a version without the object store would break the runtime's).
    open.onupgradeneeded = () => open.transaction!.abort();
    open.onerror = () => (open.error?.name === "AbortError" ? resolve(undefined) : reject(open.error));
    open.onsuccess = () => {
      const db = open.result;
      const transaction = db.transaction("users", mode);
      const sent = request(transaction.objectStore("users"));
      transaction.oncomplete = () => {
        db.close();
        resolve(sent.result);
      };
      transaction.onabort = () => reject(transaction.error);
    };
  });
}

function readUserRecord(appId: string): Promise<unknown> {
  return userDatabaseRequest("readonly", (store) => store.get(appId));
}

(globalThis as unknown as { realmTest: typeof api }).realmTest = api;
(globalThis as unknown as { ready: boolean }).ready = true;
