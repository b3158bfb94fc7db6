/**
 * The queue worker: the dedicated module worker each tab's `Realm` starts
 * (docs/browser-runtime-design.md, decisions 1–3 and 7). It tries to own the queue (open its
 * store, which takes the queue's Web Lock). The owner appends every tab's transactions, answers
 * each once durable and runs the sync session; any other worker is a follower: it forwards its
 * page's transactions and requests on the queue's BroadcastChannel, keeps them until the owner
 * answers, sends them again to each new owner (an owner announces itself), and waits to become
 * the owner when the current one goes.
 */
import type { UserRecord } from "../app/user-record.js";
import { QueueStorageMismatchError, TransactionStateError } from "../errors.js";
import { DurableQueue } from "../queue/durable-queue.js";
import { SyncError } from "../sync/sync-error.js";
import { acquireQueueOwnership } from "./acquire-queue-ownership.js";
import { openBrowserLogStore, resolveStorageKind, type BrowserLogStore } from "./open-browser-log-store.js";
import { LeftForNextOwnerError, QueueOwner } from "./queue-owner.js";
import {
  queueChannelName,
  type ChannelMessage,
  type DurableAnswer,
  type EncodedTransaction,
  type OpenMessage,
  type OwnerSettings,
  type PageToWorkerMessage,
  type QueueRequest,
  type SessionReport,
  type WorkerToPageMessage,
} from "./queue-worker-protocol.js";
import { toTransferableError, type TransferableError } from "./transferable-error.js";
import { installWasmCrc32 } from "./wasm-crc32.js";
import { getWorkerScope, openBroadcastChannel, type WebBroadcastChannel, type WorkerScope } from "./web-apis.js";
import { openWorkerSyncSession, updateWorkerUser } from "./worker-sync.js";

/**
 * How long a new follower waits for the owner to tell its settings before it opens anyway: an
 * owner still opening its queue tells them when it is done (its "owner" announcement), and an
 * owner of an older asymgen never answers.
 */
const OWNER_SETTINGS_WAIT_MS = 1000;

/** One tab's queue worker. */
class QueueWorker {
  readonly #scope: WorkerScope;
  /** This worker's id: names it as a sender and as an owner. */
  readonly #id = crypto.randomUUID();
  #config: OpenMessage | null = null;
  #channel: WebBroadcastChannel | null = null;
  #owner: QueueOwner | null = null;
  /** The settings this worker announces while it owns the queue. */
  #ownerSettings: OwnerSettings | null = null;
  /** Set once this worker cannot reach a queue any more (its takeover failed): every call fails with it. */
  #failure: TransferableError | null = null;
  /** A follower opens once the owner's settings are checked (or after `OWNER_SETTINGS_WAIT_MS`). */
  #settingsTimer: ReturnType<typeof setTimeout> | null = null;
  #opened = false;
  #closing = false;
  readonly #abort = new AbortController();
  /** This page's transactions sent to the owner and not yet answered, in order. */
  readonly #pendingTxns = new Map<string, EncodedTransaction>();
  /** This page's requests sent to the owner and not yet answered. */
  readonly #pendingRequests = new Map<string, QueueRequest>();
  /** Called once no transaction is pending (a follower's close waits for their answers). */
  #onDrained: (() => void) | null = null;

  constructor(scope: WorkerScope) {
    this.#scope = scope;
    scope.addEventListener("message", ({ data }) => this.#fromPage(data as PageToWorkerMessage));
    // The network is back: upload now rather than at the end of the backoff. Where the worker
    // gets no "online" event (Chromium), its page forwards the window's ({ type: "online" }).
    scope.addEventListener("online", () => this.#owner?.session?.reconnect());
  }

  #post(message: WorkerToPageMessage, transfer?: ArrayBuffer[]): void {
    this.#scope.postMessage(message, transfer);
  }

  #broadcast(message: ChannelMessage): void {
    this.#channel?.postMessage(message);
  }

  #fromPage(message: PageToWorkerMessage): void {
    switch (message.type) {
      case "open":
        void this.#open(message);
        return;
      case "txn":
        this.#submitTxn(message.txn);
        return;
      case "request":
        this.#submitRequest(message.id, message.request);
        return;
      case "user":
        this.#updateUser(message.user);
        return;
      case "online":
        this.#owner?.session?.reconnect();
        return;
      case "close":
        void this.#close();
        return;
    }
  }

  async #open(config: OpenMessage): Promise<void> {
    if (this.#config !== null) return;
    this.#config = config;
    const channel = openBroadcastChannel(queueChannelName(config.path));
    if (channel === null) {
      this.#post({ type: "open-failed", error: { name: "QueueUnsupportedError", message: "BroadcastChannel is missing in the queue worker", fields: {} } });
      return;
    }
    this.#channel = channel;
    channel.onmessage = ({ data }) => this.#fromChannel(data as ChannelMessage);
    try {
      const opened = await acquireQueueOwnership(config.path, () => openBrowserLogStore(config.path, config.storage), this.#abort.signal, () => this.#becomeFollower());
      // Closed while waiting, with nothing left to append: no need to own the queue.
      if (this.#closing && this.#pendingTxns.size === 0) {
        opened.store.close();
        return;
      }
      this.#becomeOwner(opened);
    } catch (error) {
      // Aborted by close, with nothing pending (close aborts only then).
      if (this.#abort.signal.aborted || this.#failure !== null) return;
      const transferable = toTransferableError(error);
      // A follower's takeover failed (a corrupted queue, no room, a bad setting): what its page
      // sent can no longer be appended by anyone it knows of, and nothing later can.
      if (this.#opened) {
        this.#fail(transferable);
      } else {
        if (this.#settingsTimer !== null) clearTimeout(this.#settingsTimer);
        this.#post({ type: "open-failed", error: transferable });
      }
    }
  }

  /**
   * Another tab owns the queue: ask it for its settings (see `#checkOwnerSettings`) before
   * telling the page the Realm is open.
   */
  #becomeFollower(): void {
    this.#post({ type: "role", role: "follower" });
    this.#broadcast({ type: "who-owns", from: this.#id });
    this.#settingsTimer = setTimeout(() => this.#markOpened(), OWNER_SETTINGS_WAIT_MS);
  }

  /**
   * What the owner says its queue is: a page that asked for the other storage kind would write
   * into a store it did not choose, so its Realm fails to open (or fails, when this is a later
   * owner) with `QueueStorageMismatchError`. A Realm with sync under an owner without is told
   * in the console: its documents wait in the queue until a tab with sync owns it.
   */
  #checkOwnerSettings(settings: Partial<OwnerSettings>): void {
    const config = this.#config;
    if (config === null || this.#owner !== null || this.#failure !== null || this.#closing) return;
    // An owner of an older asymgen tells nothing.
    if (settings.storage !== undefined && config.storage !== "auto" && config.storage !== settings.storage) {
      const error = toTransferableError(new QueueStorageMismatchError(config.path, config.storage, settings.storage));
      if (this.#opened) {
        this.#fail(error);
        return;
      }
      if (this.#settingsTimer !== null) clearTimeout(this.#settingsTimer);
      // Not opened: stop waiting to own the queue and end, as a failed open does.
      this.#closing = true;
      this.#abort.abort();
      this.#channel?.close();
      this.#channel = null;
      this.#post({ type: "open-failed", error });
      this.#scope.close();
      return;
    }
    if (settings.sync === false && config.sync !== null) {
      console.warn(`asymgen: the tab that owns the queue "${config.path}" opened it without sync: this tab's documents are queued, and uploaded once a tab with sync owns the queue`);
    }
    this.#markOpened(settings.storage);
  }

  /** Tells the page the Realm is open, on the owner's store kind when it is known (else what this tab's setting means here). */
  #markOpened(ownerStorage?: "opfs" | "indexeddb"): void {
    if (this.#settingsTimer !== null) clearTimeout(this.#settingsTimer);
    this.#settingsTimer = null;
    if (this.#opened) return;
    this.#opened = true;
    this.#post({ type: "opened", worker: this.#id, storageKind: ownerStorage ?? resolveStorageKind(this.#config!.storage) });
  }

  /**
   * This worker's page can no longer reach a queue: each of its pending transactions and requests
   * fails with `error`, and so does everything it sends from now on (the page's Realm is failed).
   */
  #fail(error: TransferableError): void {
    this.#failure = error;
    // Nor will it own the queue later: its page is told it failed.
    this.#abort.abort();
    if (this.#settingsTimer !== null) clearTimeout(this.#settingsTimer);
    for (const id of [...this.#pendingTxns.keys()]) this.#settleTxn(id, null, error);
    for (const id of [...this.#pendingRequests.keys()]) {
      this.#pendingRequests.delete(id);
      this.#post({ type: "answer", id, error });
    }
    this.#post({ type: "failed", error });
  }

  #becomeOwner({ store, kind, durableAfter, whenStored, syncsOnlyStart, whenReadyToRollOver }: BrowserLogStore): void {
    const config = this.#config!;
    const queue = DurableQueue.open({
      store,
      warn: ({ code, message }) => console.warn(`${code}: ${message}`),
      ...(config.durability !== undefined && { durability: config.durability }),
      ...(config.maxQueueBytes !== undefined && { maxQueueBytes: config.maxQueueBytes }),
      ...(config.segmentBytes !== undefined && { segmentBytes: config.segmentBytes }),
      ...(config.repair !== undefined && { repair: config.repair }),
      // What opening cut goes to this tab's page (the one that opened the queue, as on Node).
      onRecovery: (report) => this.#post({ type: "recovery", report }),
    });
    const owner = new QueueOwner(this.#id, queue, durableAfter, { appendBetweenFlushes: syncsOnlyStart, ...(whenReadyToRollOver !== null && { whenReadyToRollOver }) });
    if (config.sync !== null) {
      try {
        const session = openWorkerSyncSession(queue, { durableAfter, whenStored }, config.sync, (error) => {
          const message = { type: "sync-error", error: toTransferableError(error) } as const;
          this.#post(message);
          this.#broadcast(message);
        });
        owner.attachSession(session, session.user, (report) => this.#reportSession(report));
      } catch (error) {
        owner.close();
        throw error;
      }
    }
    this.#owner = owner;
    this.#ownerSettings = { storage: kind, sync: config.sync !== null };
    this.#post({ type: "role", role: "owner" });
    this.#markOpened(kind);
    this.#broadcast({ type: "owner", owner: this.#id, ...this.#ownerSettings });
    // What this page sent to the previous owner and got no answer for: now ours to append.
    for (const txn of [...this.#pendingTxns.values()]) this.#commitOwn(owner, txn);
    for (const [id, request] of [...this.#pendingRequests]) this.#answerOwn(owner, id, request);
    owner.report();
  }

  #reportSession(report: SessionReport): void {
    this.#post({ type: "session", report });
    this.#broadcast({ type: "session", report });
  }

  #submitTxn(txn: EncodedTransaction): void {
    if (this.#failure !== null) {
      this.#post({ type: "txn-failed", id: txn.id, error: this.#failure });
      return;
    }
    this.#pendingTxns.set(txn.id, txn);
    const owner = this.#owner;
    if (owner !== null) this.#commitOwn(owner, txn);
    else this.#broadcast({ type: "txn", from: this.#id, txn: compact(txn) });
  }

  #commitOwn(owner: QueueOwner, txn: EncodedTransaction): void {
    owner.commit(txn).then(
      (answer) => this.#settleTxn(txn.id, answer, null),
      (error: unknown) => this.#settleTxn(txn.id, null, toTransferableError(error)),
    );
  }

  #settleTxn(id: string, answer: DurableAnswer | null, error: TransferableError | null): void {
    const txn = this.#pendingTxns.get(id);
    if (txn === undefined) return;
    this.#pendingTxns.delete(id);
    // An encoding buffer goes back with the answer, for the page to write its next transaction
    // into (no copy, no fresh buffer): the page's own (a follower kept it for re-sending until
    // now; an owner copied a small one's documents into its queue's transaction), or, when the
    // queue wrote the frame from the page's buffer and keeps it, the one the queue held before.
    const buffer = this.#owner?.bufferToReturn(txn) ?? (txn.bytes.buffer as ArrayBuffer);
    if (answer !== null) this.#post({ type: "durable", id, ...answer, buffer }, [buffer]);
    else this.#post({ type: "txn-failed", id, error: error!, buffer }, [buffer]);
    this.#checkDrained();
  }

  #submitRequest(id: string, request: QueueRequest): void {
    if (this.#failure !== null) {
      this.#post({ type: "answer", id, error: this.#failure });
      return;
    }
    this.#pendingRequests.set(id, request);
    const owner = this.#owner;
    if (owner !== null) this.#answerOwn(owner, id, request);
    else this.#broadcast({ type: "request", from: this.#id, id, request });
  }

  #answerOwn(owner: QueueOwner, id: string, request: QueueRequest): void {
    owner.answer(request).then(
      (result) => this.#settleRequest(id, result, null),
      (error: unknown) => this.#settleRequest(id, undefined, error),
    );
  }

  #settleRequest(id: string, result: unknown, error: unknown): void {
    if (!this.#pendingRequests.delete(id)) return;
    if (error === null) this.#post({ type: "answer", id, result });
    else this.#post({ type: "answer", id, error: toTransferableError(error) });
    this.#checkDrained();
  }

  #fromChannel(message: ChannelMessage): void {
    const owner = this.#owner;
    switch (message.type) {
      case "owner":
        this.#checkOwnerSettings(message);
        if (this.#failure !== null) return;
        // A new owner: it never saw what this page is still waiting for (or saw it and died).
        for (const txn of this.#pendingTxns.values()) this.#broadcast({ type: "txn", from: this.#id, txn: compact(txn) });
        for (const [id, request] of this.#pendingRequests) this.#broadcast({ type: "request", from: this.#id, id, request });
        return;
      case "who-owns":
        if (owner !== null) this.#broadcast({ type: "owner-settings", to: message.from, owner: this.#id, ...this.#ownerSettings! });
        return;
      case "owner-settings":
        if (message.to === this.#id) this.#checkOwnerSettings(message);
        return;
      case "txn":
        if (owner === null) return;
        owner.commit(message.txn).then(
          (answer) => this.#broadcast({ type: "durable", to: message.from, id: message.txn.id, ...answer }),
          (error: unknown) => {
            // Unanswered on purpose: its tab sends it to the next owner.
            if (error instanceof LeftForNextOwnerError) return;
            this.#broadcast({ type: "txn-failed", to: message.from, id: message.txn.id, error: toTransferableError(error) });
          },
        );
        return;
      case "request":
        if (owner === null) return;
        owner.answer(message.request).then(
          (result) => this.#broadcast({ type: "answer", to: message.from, id: message.id, result }),
          (error: unknown) => this.#broadcast({ type: "answer", to: message.from, id: message.id, error: toTransferableError(error) }),
        );
        return;
      case "durable":
        if (message.to === this.#id) this.#settleTxn(message.id, { owner: message.owner, firstSeq: message.firstSeq, lastSeq: message.lastSeq }, null);
        return;
      case "txn-failed":
        if (message.to === this.#id) this.#settleTxn(message.id, null, message.error);
        return;
      case "answer":
        if (message.to !== this.#id || !this.#pendingRequests.delete(message.id)) return;
        this.#post(message.error === undefined ? { type: "answer", id: message.id, result: message.result } : { type: "answer", id: message.id, error: message.error });
        this.#checkDrained();
        return;
      case "session":
      case "sync-error":
        if (owner === null) this.#post(message);
        return;
      case "user":
        if (owner?.user != null) updateWorkerUser(owner.user, message.user);
        return;
    }
  }

  /** The page logged in again: the owner's copy of the user takes the new tokens (wherever the owner is). */
  #updateUser(record: UserRecord): void {
    const config = this.#config;
    // Kept for when this worker becomes the owner.
    if (config?.sync != null) config.sync = { ...config.sync, user: record };
    const user = this.#owner?.user;
    if (user != null) updateWorkerUser(user, record);
    else this.#broadcast({ type: "user", user: record });
  }

  #checkDrained(): void {
    if (this.#pendingTxns.size === 0) this.#onDrained?.();
  }

  /**
   * Closes: a follower first waits for the owner's answers to the transactions its page sent
   * (they were written: `close` does not drop them); not for its requests, which may wait on the
   * network for ever (an upload-all offline) and are refused instead. The owner closes its session
   * and queue (flushing what is committed, which releases the lock to the next tab).
   */
  async #close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    if (this.#pendingTxns.size > 0) await new Promise<void>((resolve) => (this.#onDrained = resolve));
    this.#abort.abort();
    if (this.#settingsTimer !== null) clearTimeout(this.#settingsTimer);
    let failure: unknown = null;
    const owner = this.#owner;
    try {
      owner?.close();
    } catch (error) {
      failure = error;
    }
    this.#owner = null;
    // The close flushed what other tabs sent: let their answers go out before the channel closes
    // (an unanswered one would be appended again by the next owner; a failed one retried by its app).
    if (owner !== null) await owner.whenAnswered();
    await new Promise((resolve) => setTimeout(resolve, 0));
    // What the session's close did not answer (this page's requests to another tab's owner).
    for (const [id, request] of [...this.#pendingRequests]) {
      this.#pendingRequests.delete(id);
      const error =
        request.kind === "upload-all"
          ? new SyncError("the Realm was closed before the upload finished", "session_closed")
          : new TransactionStateError(`the Realm was closed before the queue's owner answered its ${request.kind} request`);
      this.#post({ type: "answer", id, error: toTransferableError(error) });
    }
    this.#channel?.close();
    this.#channel = null;
    if (failure !== null) this.#post({ type: "sync-error", error: toTransferableError(failure) });
    this.#post({ type: "closed" });
    this.#scope.close();
  }
}

// The frame checksums: the WebAssembly CRC-32 where the page's CSP lets it compile (the browser
// has no native one, as Node's zlib), else the core's JS fallback.
installWasmCrc32();

/**
 * `txn` with its bytes alone in a buffer of their own, to forward on the channel: a structured
 * clone copies a view's whole buffer, and the page's encoding buffer may be much longer than the
 * transaction (64 KiB for a one-document transaction).
 */
function compact(txn: EncodedTransaction): EncodedTransaction {
  const { bytes } = txn;
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? txn : { ...txn, bytes: bytes.slice() };
}

new QueueWorker(getWorkerScope());
