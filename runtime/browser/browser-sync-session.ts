/**
 * The page's view of the sync session, which runs in the owning tab's queue worker
 * (docs/browser-runtime-design.md, decision 7): the same names as `SyncSession`, answered from
 * what the owner reports after every change (state, connection, progress) and by requests the
 * owner answers, wherever it is (`pause`, `resume`, `reconnect`, `uploadAllLocalChanges`). One
 * session uploads a queue for all of an origin's tabs: pausing it from any tab pauses it for all,
 * until a new owner (the tab that owned it closed) starts its own, active, session.
 */
import type { User } from "../app/user.js";
import type {
  ConnectionNotificationCallback,
  ConnectionState,
  ProgressDirection,
  ProgressMode,
  ProgressNotificationCallback,
  SessionState,
} from "../sync/sync-session.js";
import { SyncError } from "../sync/sync-error.js";
import type { QueueRequest, SessionReport } from "./queue-worker-protocol.js";

/** How the view reaches the owner: a request, answered or rejected with the owner's error. */
export type OwnerRequest = (request: QueueRequest) => Promise<unknown>;

interface ProgressListener {
  mode: ProgressMode;
  /** For "forCurrentlyOutstandingWork": the counts at the first report after registration. */
  from: number | null;
  until: number;
}

/** The page-side sync session: see the module comment. */
export class BrowserSyncSession {
  #report: SessionReport = { state: "active", connectionState: "disconnected", pendingDocuments: 0, transferred: 0, transferable: 0 };
  #closed = false;
  readonly #connectionListeners = new Set<ConnectionNotificationCallback>();
  readonly #progressListeners = new Map<ProgressNotificationCallback, ProgressListener>();

  /** @internal Made by the browser `Realm.open`. */
  constructor(
    private readonly request: OwnerRequest,
    /** The user the session uploads as (the page's copy). */
    readonly user: User,
    /** Waits until every transaction this page sent is durable (or failed), so an upload-all counts them. */
    private readonly whenSent: () => Promise<void>,
  ) {}

  /** "active", "paused" or "inactive", as the owner last reported. */
  get state(): SessionState {
    return this.#closed ? "inactive" : this.#report.state;
  }

  /** The owner's connection to the server, as it last reported. */
  get connectionState(): ConnectionState {
    return this.#closed ? "disconnected" : this.#report.connectionState;
  }

  /** True when `connectionState` is "connected". */
  isConnected(): boolean {
    return this.connectionState === "connected";
  }

  /** Documents in the queue not yet acknowledged by the server, as the owner last reported. */
  get pendingDocuments(): number {
    return this.#report.pendingDocuments;
  }

  /** Stops uploading (for every tab of the queue); queued data stays and keeps queueing. */
  pause(): Promise<void> {
    return this.#send({ kind: "pause" });
  }

  /** Starts uploading again at once. */
  resume(): Promise<void> {
    return this.#send({ kind: "resume" });
  }

  /** Retries now instead of waiting out the backoff. */
  reconnect(): Promise<void> {
    return this.#send({ kind: "reconnect" });
  }

  /**
   * Resolves once every document this page wrote before the call (after its transactions are
   * durable in the owner's queue) and everything else the queue held is acknowledged by the
   * server; rejects as `SyncSession.uploadAllLocalChanges` does (the owner's error), and with
   * `SyncError` code "timeout" once `timeoutMs` have passed, whatever it was waiting for.
   */
  async uploadAllLocalChanges(timeoutMs?: number): Promise<void> {
    if (timeoutMs === undefined) {
      await this.whenSent();
      await this.#send({ kind: "upload-all" });
      return;
    }
    const started = Date.now();
    // One deadline for all of it, here: the page's transactions may wait for an owner (none
    // while the queue changes hands) and so may the request; the owner bounds only its own part.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new SyncError(`uploadAllLocalChanges timed out after ${timeoutMs} ms (${this.pendingDocuments} documents left, as the owner last reported)`, "timeout"));
      }, timeoutMs);
    });
    const upload = (async () => {
      await this.whenSent();
      await this.#send({ kind: "upload-all", timeoutMs: Math.max(0, timeoutMs - (Date.now() - started)) });
    })();
    // Lost the race: its outcome is no one's any more.
    upload.catch(() => undefined);
    try {
      await Promise.race([upload, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Calls `callback(newState, oldState)` on every connection state change the owner reports. */
  addConnectionNotification(callback: ConnectionNotificationCallback): void {
    this.#connectionListeners.add(callback);
  }

  /** Stops calling `callback`. */
  removeConnectionNotification(callback: ConnectionNotificationCallback): void {
    this.#connectionListeners.delete(callback);
  }

  /**
   * Calls `callback(transferred, transferable)`, in documents, as the owner reports uploads.
   * "reportIndefinitely" counts from the owner's session start (a new owner starts again from 0);
   * "forCurrentlyOutstandingWork" counts from the first report after registration and stops once
   * that is all acknowledged. "download" never reports.
   */
  addProgressNotification(direction: ProgressDirection, callback: ProgressNotificationCallback): void;
  addProgressNotification(direction: ProgressDirection, mode: ProgressMode, callback: ProgressNotificationCallback): void;
  addProgressNotification(direction: ProgressDirection, modeOrCallback: ProgressMode | ProgressNotificationCallback, maybeCallback?: ProgressNotificationCallback): void {
    const callback = typeof modeOrCallback === "function" ? modeOrCallback : maybeCallback;
    const mode = typeof modeOrCallback === "function" ? "reportIndefinitely" : modeOrCallback;
    if (callback === undefined || direction !== "upload") return;
    this.#progressListeners.set(callback, { mode, from: null, until: 0 });
  }

  /** Stops calling `callback`. */
  removeProgressNotification(callback: ProgressNotificationCallback): void {
    this.#progressListeners.delete(callback);
  }

  /** @internal The owner's report: updates the state and tells the listeners. */
  receive(report: SessionReport): void {
    if (this.#closed) return;
    const before = this.#report.connectionState;
    this.#report = report;
    if (report.connectionState !== before) {
      for (const listener of [...this.#connectionListeners]) listener(report.connectionState, before);
    }
    for (const [callback, listener] of [...this.#progressListeners]) {
      if (listener.mode === "reportIndefinitely") {
        callback(report.transferred, report.transferable);
        continue;
      }
      if (listener.from === null) {
        listener.from = report.transferred;
        listener.until = report.transferable;
      }
      const transferable = listener.until - listener.from;
      callback(Math.min(transferable, Math.max(0, report.transferred - listener.from)), transferable);
      if (report.transferred >= listener.until) this.#progressListeners.delete(callback);
    }
  }

  /** @internal The Realm closed: no more reports, listeners forgotten. */
  close(): void {
    this.#closed = true;
    this.#connectionListeners.clear();
    this.#progressListeners.clear();
  }

  async #send(request: QueueRequest): Promise<void> {
    await this.request(request);
  }
}
