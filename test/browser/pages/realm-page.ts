/**
 * The test page of the browser Realm tests (test/browser/realm-*.test.ts): the app the tests
 * drive through `window.realmTest`. It records every message the queue worker sends its page
 * (a spy on `Worker`, installed before the Realm starts one) so that tests can see which owner
 * made each transaction durable, under which sequence numbers.
 */
// The browser entry by path, not "asymgen": the package's types are Node's (exports.d.ts) for
// every condition, so a type check of this page against "asymgen" would see Node's Realm. The
// bundle is the same either way (the page bundler aliases "asymgen" to this file).
import { App, Credentials, Realm } from "../../../runtime/browser/index.js";
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

function describeError(error: unknown): { name: string; message: string; isClass: Record<string, boolean>; fields: Record<string, unknown> } {
  const e = error as Error & Record<string, unknown>;
  return {
    name: e.name,
    message: e.message,
    isClass: Object.fromEntries(
      ["QueueFullError", "QueueDiskFullError", "IngestValidationError", "TransactionStateError", "QueueUnsupportedError", "RealmSchemaError"].map((name) => [name, e.name === name && e instanceof Error]),
    ),
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
    if (options.sync !== undefined) {
      app = new App({ id: options.sync.appId, baseUrl: options.sync.baseUrl });
      const kept = app.currentUser;
      loggedInNow = kept === null;
      user = kept ?? (await app.logIn(Credentials.anonymous()));
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
    return { role: realm.queueRole, persisted: realm.storagePersisted, userId: user?.id ?? null, loggedInNow };
  },
  role: () => realm?.queueRole ?? null,
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
  storedUsers: (appId: string) => localStorage.getItem(`asymgen:users:${appId}`),
  async close() {
    await realm?.close();
    return realm?.isClosed ?? null;
  },
};

(globalThis as unknown as { realmTest: typeof api }).realmTest = api;
(globalThis as unknown as { ready: boolean }).ready = true;
