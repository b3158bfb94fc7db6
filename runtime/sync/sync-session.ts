/**
 * The sync session: uploads the durable queue to the ingest server in batches and acknowledges
 * what the server stored. Upload-only (asymmetric sync): nothing ever comes back down.
 *
 * One batch is in flight at a time, read from the queue's acknowledgement cursor, so the
 * server's per-queue high-water mark makes every retry idempotent. The queue is the only state
 * that matters: a restarted app resumes from its durable cursor.
 */
import { AuthError, NetworkError, SessionExpiredError } from "../app/auth-error.js";
import type { User } from "../app/user.js";
import type { HttpResponse } from "../app/http-request.js";
import type { QueuedDocument, UploadSource } from "../queue/upload-source.js";
import { computeBackoffDelay, defaultBackoffBounds, parseRetryAfter } from "./compute-backoff-delay.js";
import { decodeIngestResponse } from "./decode-ingest-response.js";
import { encodeIngestRequest } from "./encode-ingest-request.js";
import { defaultIngestLimits, ingestPath } from "./ingest-protocol.js";
import { DocumentRejectedError, SyncError } from "./sync-error.js";

/** Realm's session states, plus "paused" for a session paused by the app or by a logout. */
export type SessionState = "active" | "paused" | "inactive";

/** Realm's connection states. */
export type ConnectionState = "disconnected" | "connecting" | "connected";

/** Realm's progress directions; an ingest-only session only ever uploads. */
export type ProgressDirection = "upload" | "download";

/** Realm's progress modes. */
export type ProgressMode = "reportIndefinitely" | "forCurrentlyOutstandingWork";

/** Called with documents acknowledged and documents to acknowledge (see `addProgressNotification`). */
export type ProgressNotificationCallback = (transferred: number, transferable: number) => void;

/** Called when the connection state changes. */
export type ConnectionNotificationCallback = (newState: ConnectionState, oldState: ConnectionState) => void;

/** The `sync` section of `Realm.open`'s configuration. */
export interface SyncConfiguration {
  user: User;
  /** Flexible sync, as in Realm; asymmetric objects need it. Only `true` is supported. */
  flexible: true;
  /** Called with each error the session meets: rejected documents, an ended session, a refusal. */
  onError?: (session: SyncSession, error: Error) => void;
  /** Most documents in one upload batch (default: the protocol's `maxBatchDocuments`). */
  maxBatchDocuments?: number;
  /** Most BSON bytes of documents in one upload batch (default: the protocol's `maxBatchBytes`). */
  maxBatchBytes?: number;
  /** First retry delay in ms (Realm's default: 1 000). */
  initialBackoffMs?: number;
  /** Longest retry delay in ms (Realm's default: 300 000). */
  maxBackoffMs?: number;
  /** Give up on one upload request after this many ms and retry (default 60 000). */
  requestTimeoutMs?: number;
}

interface ProgressListener {
  mode: ProgressMode;
  /** For "forCurrentlyOutstandingWork": the acknowledged and committed seq at registration. */
  from: number;
  until: number;
}

interface UploadWaiter {
  target: number;
  resolve: () => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** Why a session is paused; a logout's pause lifts itself at the next login. */
type PauseReason = "app" | "logged-out";

const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

/** An upload session over one queue: see `openSyncSession`. */
export class SyncSession {
  private sessionState: SessionState = "active";
  private pauseReason: PauseReason | null = null;
  private connection: ConnectionState = "disconnected";
  private closed = false;
  private loopRunning = false;
  /** Consecutive failed attempts: the backoff exponent. */
  private attempt = 0;
  /** The batch size in documents; halved on 413, grown back on success. */
  private countLimit: number;
  private readonly maxCount: number;
  private readonly maxBytes: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly requestTimeoutMs: number;
  /** Acknowledged seq when the session opened: "reportIndefinitely" progress counts from here. */
  private readonly baseSeq: number;
  private wakeWait: (() => void) | null = null;
  private wakeOnCommit = false;
  private readonly connectionListeners = new Set<ConnectionNotificationCallback>();
  private readonly progressListeners = new Map<ProgressNotificationCallback, ProgressListener>();
  private readonly waiters = new Set<UploadWaiter>();
  private readonly unsubscribeCommit: () => void;
  private readonly onUserChange = (): void => this.handleUserChange();

  /** @internal Use `openSyncSession` (or `Realm.open` with a `sync` section). */
  constructor(
    private readonly source: UploadSource,
    /** The configuration the session was opened with. */
    readonly config: SyncConfiguration,
  ) {
    this.maxCount = Math.max(1, config.maxBatchDocuments ?? defaultIngestLimits.maxBatchDocuments);
    this.maxBytes = Math.max(1, config.maxBatchBytes ?? defaultIngestLimits.maxBatchBytes);
    this.countLimit = this.maxCount;
    this.initialBackoffMs = config.initialBackoffMs ?? defaultBackoffBounds.initialMs;
    this.maxBackoffMs = Math.max(this.initialBackoffMs, config.maxBackoffMs ?? defaultBackoffBounds.maxMs);
    this.requestTimeoutMs = config.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.baseSeq = source.acknowledgedSeq();
    this.unsubscribeCommit = source.onCommit(() => this.handleCommit());
    config.user.addListener(this.onUserChange);
    // Start on the next tick: the caller (Realm.open) finishes wiring the session first.
    queueMicrotask(() => this.startLoop());
  }

  /** The user the session uploads as. */
  get user(): User {
    return this.config.user;
  }

  /** "active" while uploading or waiting for data, "paused" by `pause()` or a logout, "inactive" once closed or refused. */
  get state(): SessionState {
    return this.sessionState;
  }

  /** Whether the last exchange with the server got an answer. */
  get connectionState(): ConnectionState {
    return this.connection;
  }

  /** True when `connectionState` is "connected". */
  isConnected(): boolean {
    return this.connection === "connected";
  }

  /** Documents committed to the queue and not yet acknowledged by the server. */
  get pendingDocuments(): number {
    return Math.max(0, this.source.lastCommittedSeq() - this.source.acknowledgedSeq());
  }

  /** Stops uploading after the request in flight; queued data stays and keeps queueing. */
  pause(): void {
    if (this.closed || this.sessionState === "paused") return;
    this.sessionState = "paused";
    this.pauseReason = "app";
    this.setConnection("disconnected");
    this.wake();
  }

  /** Starts uploading again at once (also after a refusal made the session inactive). */
  resume(): void {
    if (this.closed) return;
    if (!this.user.isLoggedIn) {
      // Nothing can upload without a session; resume as soon as the user logs in again.
      this.sessionState = "paused";
      this.pauseReason = "logged-out";
      return;
    }
    this.sessionState = "active";
    this.pauseReason = null;
    this.attempt = 0;
    this.wake();
    this.startLoop();
  }

  /** Retries now instead of waiting out the backoff (e.g. when the app knows the network is back). */
  reconnect(): void {
    if (this.sessionState !== "active") return;
    this.attempt = 0;
    this.wake();
  }

  /**
   * Resolves once every document committed before the call is acknowledged by the server (stored
   * in its database, or rejected and reported); rejects with `SyncError` `timeout` after
   * `timeoutMs`, or `session_closed` if the session closes first.
   */
  uploadAllLocalChanges(timeoutMs?: number): Promise<void> {
    const target = this.source.lastCommittedSeq();
    if (this.source.acknowledgedSeq() >= target) return Promise.resolve();
    if (this.closed) return Promise.reject(new SyncError("the sync session is closed", "session_closed"));
    return new Promise<void>((resolve, reject) => {
      const waiter: UploadWaiter = { target, resolve, reject, timer: undefined };
      if (timeoutMs !== undefined) {
        waiter.timer = setTimeout(() => {
          this.waiters.delete(waiter);
          const left = target - this.source.acknowledgedSeq();
          reject(new SyncError(`uploadAllLocalChanges timed out after ${timeoutMs} ms (${left} documents left)`, "timeout"));
        }, timeoutMs);
      }
      this.waiters.add(waiter);
    });
  }

  /** Calls `callback(newState, oldState)` on every connection state change. */
  addConnectionNotification(callback: ConnectionNotificationCallback): void {
    this.connectionListeners.add(callback);
  }

  /** Stops calling `callback`. */
  removeConnectionNotification(callback: ConnectionNotificationCallback): void {
    this.connectionListeners.delete(callback);
  }

  /**
   * Calls `callback(transferred, transferable)`, counted in documents, as uploads are
   * acknowledged. "reportIndefinitely" (the default) counts from the session's start and keeps
   * reporting; "forCurrentlyOutstandingWork" counts what was pending at registration and stops
   * once it is all acknowledged. "download" never reports: nothing is downloaded.
   */
  addProgressNotification(direction: ProgressDirection, callback: ProgressNotificationCallback): void;
  addProgressNotification(direction: ProgressDirection, mode: ProgressMode, callback: ProgressNotificationCallback): void;
  addProgressNotification(
    direction: ProgressDirection,
    modeOrCallback: ProgressMode | ProgressNotificationCallback,
    maybeCallback?: ProgressNotificationCallback,
  ): void {
    const callback = typeof modeOrCallback === "function" ? modeOrCallback : maybeCallback;
    const mode = typeof modeOrCallback === "function" ? "reportIndefinitely" : modeOrCallback;
    if (callback === undefined || direction !== "upload") return;
    this.progressListeners.set(callback, {
      mode,
      from: this.source.acknowledgedSeq(),
      until: this.source.lastCommittedSeq(),
    });
    queueMicrotask(() => this.notifyProgress());
  }

  /** Stops calling `callback`. */
  removeProgressNotification(callback: ProgressNotificationCallback): void {
    this.progressListeners.delete(callback);
  }

  /**
   * @internal Ends the session for good (`realm.close()` calls it): stops after the request in
   * flight without touching the queue again, and rejects pending `uploadAllLocalChanges`.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sessionState = "inactive";
    this.unsubscribeCommit();
    this.user.removeListener(this.onUserChange);
    this.setConnection("disconnected");
    this.wake();
    for (const waiter of this.waiters) {
      if (waiter.timer !== undefined) clearTimeout(waiter.timer);
      waiter.reject(new SyncError("the sync session was closed before the upload finished", "session_closed"));
    }
    this.waiters.clear();
    this.progressListeners.clear();
    this.connectionListeners.clear();
  }

  private startLoop(): void {
    if (this.loopRunning || this.closed || this.sessionState !== "active") return;
    this.loopRunning = true;
    this.runLoop()
      .catch((error: unknown) => {
        // Only a broken queue gets here (e.g. a checksum error): it cannot be skipped safely.
        this.report(error instanceof Error ? error : new Error(String(error)));
        if (!this.closed) this.sessionState = "inactive";
        this.setConnection("disconnected");
      })
      .finally(() => {
        this.loopRunning = false;
      });
  }

  private async runLoop(): Promise<void> {
    while (this.sessionState === "active" && !this.closed) {
      if (!this.user.isLoggedIn) {
        this.pauseForLogout();
        return;
      }
      const after = this.source.acknowledgedSeq();
      if (this.source.lastCommittedSeq() <= after) {
        await this.waitFor(null, true);
        continue;
      }
      const batch = this.source.readBatch(after, this.countLimit, this.maxBytes);
      if (batch.length === 0) {
        await this.waitFor(null, true);
        continue;
      }
      await this.uploadBatch(batch);
    }
  }

  /** Sends one batch and acts on the answer; every path either progresses or waits. */
  private async uploadBatch(batch: QueuedDocument[]): Promise<void> {
    const body = encodeIngestRequest(this.source.queueId, batch);
    if (this.connection !== "connected") this.setConnection("connecting");
    let response: HttpResponse;
    try {
      response = await this.user.sendAuthorized({
        method: "POST",
        path: ingestPath(this.user.app.id),
        headers: { "content-type": "application/bson", accept: "application/bson" },
        body,
        timeoutMs: this.requestTimeoutMs,
      });
    } catch (error) {
      if (this.closed) return;
      if (error instanceof SessionExpiredError) {
        // The refusal already paused the session through the user's listener; say why.
        this.report(error);
        this.pauseForLogout();
        return;
      }
      if (this.sessionState !== "active") return;
      if (error instanceof NetworkError) {
        this.setConnection("disconnected");
      } else {
        // The refresh route answered oddly (5xx, bad body): the server is there but unwell.
        this.setConnection(error instanceof AuthError ? "connected" : "disconnected");
      }
      await this.backOff(null);
      return;
    }
    // The queue may be closed by now: never acknowledge into it. The server keeps its
    // high-water mark, so the next session re-sends this batch and nothing is stored twice.
    if (this.closed) return;
    this.setConnection("connected");
    const status = response.status;
    if (status === 200) {
      await this.handleAccepted(batch, response);
    } else if (status === 413 || status === 400) {
      this.handleRefusedBatch(batch, status, response);
    } else if (status === 429 || status === 503) {
      await this.backOff(parseRetryAfter(response.headers.get("retry-after")));
    } else if (status >= 500 || status === 408 || status === 401) {
      // 401 here means a freshly refreshed token was refused too: a server hiccup, not a logout.
      await this.backOff(null);
    } else {
      // 403 (queue owned by another user), 404 (unknown app) and other refusals: retrying the
      // same request cannot help, so stop and say so; `resume()` tries again.
      this.report(new SyncError(`the server refused the upload: ${describeRefusal(response)}`, refusalCode(status), status));
      this.sessionState = "inactive";
      this.setConnection("disconnected");
    }
  }

  private async handleAccepted(batch: QueuedDocument[], response: HttpResponse): Promise<void> {
    let answer;
    try {
      answer = decodeIngestResponse(response.body);
    } catch (error) {
      this.report(error as Error);
      await this.backOff(null);
      return;
    }
    for (const rejection of answer.rejected) {
      this.report(new DocumentRejectedError(rejection.seq, rejection.table, rejection.code, rejection.reason));
    }
    const last = batch[batch.length - 1]!.seq;
    // The server's mark may be past this batch (a batch stored before a crash lost its answer);
    // acknowledge only what this batch covered, the rest is re-sent and skipped by the server.
    const acknowledged = Math.min(answer.acknowledgedSeq, last);
    if (acknowledged <= this.source.acknowledgedSeq()) {
      this.report(new SyncError(`the server acknowledged nothing of batch ${batch[0]!.seq}..${last}`, "bad_response", 200));
      await this.backOff(null);
      return;
    }
    this.acknowledge(acknowledged);
    this.attempt = 0;
    this.countLimit = Math.min(this.maxCount, this.countLimit * 2);
  }

  /** 413 or 400: halve the batch; a single document still refused is reported and skipped. */
  private handleRefusedBatch(batch: QueuedDocument[], status: number, response: HttpResponse): void {
    if (batch.length > 1) {
      this.countLimit = Math.max(1, Math.ceil(batch.length / 2));
      return;
    }
    const document = batch[0]!;
    const code = status === 413 ? "document_too_large" : "malformed";
    const reason = `${describeRefusal(response)} (${document.bson.length} bytes of BSON)`;
    this.report(new DocumentRejectedError(document.seq, document.table, code, reason));
    // Handled: every earlier document is acknowledged, so the cursor may move past this one.
    this.acknowledge(document.seq);
    this.countLimit = this.maxCount;
  }

  private acknowledge(seq: number): void {
    this.source.acknowledge(seq);
    this.notifyProgress();
    const acknowledged = this.source.acknowledgedSeq();
    for (const waiter of this.waiters) {
      if (waiter.target > acknowledged) continue;
      if (waiter.timer !== undefined) clearTimeout(waiter.timer);
      this.waiters.delete(waiter);
      waiter.resolve();
    }
  }

  private async backOff(retryAfterMs: number | null): Promise<void> {
    const delay =
      retryAfterMs ?? computeBackoffDelay(this.attempt, { initialMs: this.initialBackoffMs, maxMs: this.maxBackoffMs });
    this.attempt++;
    await this.waitFor(delay, false);
  }

  /** Sleeps `ms` (or until woken when null); commits wake it only when `onCommit` is set. */
  private waitFor(ms: number | null, onCommit: boolean): Promise<void> {
    return new Promise<void>((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        this.wakeWait = null;
        resolve();
      };
      this.wakeWait = done;
      this.wakeOnCommit = onCommit;
      if (ms !== null) timer = setTimeout(done, ms);
    });
  }

  private wake(): void {
    this.wakeWait?.();
  }

  private handleCommit(): void {
    if (this.wakeOnCommit) this.wake();
    this.notifyProgress();
  }

  private handleUserChange(): void {
    if (this.closed) return;
    if (this.user.isLoggedIn) {
      if (this.sessionState === "paused" && this.pauseReason === "logged-out") this.resume();
    } else if (this.sessionState === "active") {
      this.pauseForLogout();
    }
  }

  private pauseForLogout(): void {
    // An app's own pause outlives a logout: the next login must not lift it.
    if (this.sessionState === "paused" && this.pauseReason === "app") return;
    this.sessionState = "paused";
    this.pauseReason = "logged-out";
    this.setConnection("disconnected");
    this.wake();
  }

  private setConnection(next: ConnectionState): void {
    const previous = this.connection;
    if (previous === next) return;
    this.connection = next;
    for (const listener of [...this.connectionListeners]) {
      try {
        listener(next, previous);
      } catch (error) {
        this.report(error as Error);
      }
    }
  }

  private notifyProgress(): void {
    if (this.progressListeners.size === 0) return;
    const acknowledged = this.source.acknowledgedSeq();
    const committed = this.source.lastCommittedSeq();
    for (const [callback, listener] of [...this.progressListeners]) {
      try {
        if (listener.mode === "reportIndefinitely") {
          callback(acknowledged - this.baseSeq, committed - this.baseSeq);
        } else {
          const transferable = listener.until - listener.from;
          callback(Math.min(transferable, acknowledged - listener.from), transferable);
          if (acknowledged >= listener.until) this.progressListeners.delete(callback);
        }
      } catch (error) {
        this.report(error as Error);
      }
    }
  }

  private report(error: Error): void {
    try {
      this.config.onError?.(this, error);
    } catch {
      // An onError that throws must not stop the upload loop; the app sees its own exception nowhere else.
    }
  }
}

/** Opens an upload session over `source` (called by `Realm.open` when it has a `sync` section). */
export function openSyncSession(source: UploadSource, config: SyncConfiguration): SyncSession {
  if (config.flexible !== true) throw new SyncError("only flexible sync (flexible: true) is supported", "bad_configuration");
  return new SyncSession(source, config);
}

/** The server's `{ error }` sentence, or the status. */
function describeRefusal(response: HttpResponse): string {
  try {
    const answer = JSON.parse(new TextDecoder().decode(response.body)) as { error?: unknown };
    if (typeof answer.error === "string") return `HTTP ${response.status}: ${answer.error}`;
  } catch {
    // Not JSON: fall through to the bare status.
  }
  return `HTTP ${response.status}`;
}

function refusalCode(status: number): string {
  if (status === 403) return "forbidden";
  if (status === 404) return "app_not_found";
  return "refused";
}
