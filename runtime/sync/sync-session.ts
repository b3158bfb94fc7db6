/**
 * The sync session: uploads the durable queue to the ingest server in batches and acknowledges
 * what the server stored. Upload-only (asymmetric sync): nothing ever comes back down.
 *
 * This file is the public API (`SyncSession`, `openSyncSession`) and the orchestration: the
 * session's states, listeners and waiters, and what it does with each verdict. Its parts:
 * upload-pipeline.ts sends up to three batches at once, each gated on the one before (the server
 * never waits for the client between batches, and its per-queue high-water mark still makes
 * every retry idempotent and never lets a document be skipped); classify-ingest-answer.ts says
 * what each answer means; acknowledgement-flusher.ts records what the server acknowledged in the
 * queue's durable cursor at most a second later (a crash in between only re-sends documents the
 * server skips). The queue is the only state that matters: a restarted app resumes from its
 * durable cursor.
 */
import type { SessionExpiredError } from "../app/auth-error.js";
import type { User } from "../app/user.js";
import type { UploadRead, UploadSource } from "../queue/upload-source.js";
import { AcknowledgementFlusher } from "./acknowledgement-flusher.js";
import { classifyIngestAnswer, type IngestAnswer, type IngestVerdict } from "./classify-ingest-answer.js";
import { computeBackoffDelay, defaultBackoffBounds } from "./compute-backoff-delay.js";
import { fitIngestRequest } from "./encode-ingest-request.js";
import { defaultIngestLimits, type IngestResponse } from "./ingest-protocol.js";
import { RequestBodyPool } from "./request-body-pool.js";
import { DocumentRejectedError, SyncError } from "./sync-error.js";
import { sendUngated, uploadPipelined, type InFlight, type PipelineHost, type PreparedBatch, type SentBatch } from "./upload-pipeline.js";

export { PIPELINE_DEPTH } from "./upload-pipeline.js";

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
  /** Most bytes of one upload request, envelope included (default: the protocol's `maxBatchBytes`, the server's body cap). */
  maxBatchBytes?: number;
  /** First retry delay in ms (Realm's default: 1 000). */
  initialBackoffMs?: number;
  /** Longest retry delay in ms (Realm's default: 300 000). */
  maxBackoffMs?: number;
  /** Give up on one upload request after this many ms and retry with a halved batch (default 60 000). */
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

/**
 * An upload session over one queue: see `openSyncSession`.
 *
 * Pipelining (the rules are in upload-pipeline.ts): a gated batch's answer counts only when it
 * is a 200 and every batch before it was acknowledged in full; any other is dropped without a
 * report, a backoff or a split, and the batch is sent again ungated, where the normal path meets
 * whatever went wrong. A dropped 200's rejections are reported when the re-send replays them, so
 * once. The one exception: a refused refresh (the login session is over) is reported from a
 * gated batch too, since the session pauses and no re-send follows.
 */
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
  /** Why the session last went inactive (a refusal or a broken queue); `resume()` clears it. */
  private stopError: SyncError | null = null;
  /** Why the session paused when the server refused the user's refresh token; a login (resume) clears it. */
  private sessionEndedError: SessionExpiredError | null = null;
  /** The refusal last reported, so a refusal repeated on every retry is reported once. */
  private lastReported: string | null = null;
  /** Everything up to here is handled by the server (stored or rejected); the queue's cursor may lag. */
  private handledSeq: number;
  /** Writes `handledSeq` into the queue's durable cursor, debounced. */
  private readonly acknowledgements: AcknowledgementFlusher;
  /** What the upload pipeline asks of this session (one object for the session's life). */
  private readonly pipelineHost: PipelineHost;
  /** False once a gated batch met a 404: the server predates pipelining (see pipelinedIngestPath). */
  private serverPipelines = true;
  /** Whether the queue id was rotated after a 403 since the last accepted batch. */
  private rotatedForOwner = false;
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
    this.handledSeq = this.baseSeq;
    this.acknowledgements = new AcknowledgementFlusher(source, () => this.handledSeq, (error) => this.report(error));
    this.pipelineHost = this.createPipelineHost();
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
    return Math.max(0, this.source.lastCommittedSeq() - this.handledSeq);
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
    this.stopError = null;
    this.sessionEndedError = null;
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
   * Resolves once every document committed before the call (including `writeAsync`
   * transactions not yet flushed) is acknowledged by the server (stored in its database, or
   * rejected and reported); rejects with `SyncError` `timeout` after `timeoutMs`,
   * `session_closed` if the session closes first, the error that made the session inactive
   * (a 404, a broken queue…), or the `SessionExpiredError` of a session the server ended (until
   * the user logs in again).
   */
  uploadAllLocalChanges(timeoutMs?: number): Promise<void> {
    if (this.closed) return Promise.reject(new SyncError("the sync session is closed", "session_closed"));
    // Transactions committed but not yet durable (writeAsync) are not in lastCommittedSeq: aim at
    // the last written one and start their flush (uploads only ever read durable documents).
    const target = this.source.lastWrittenSeq();
    const durable = target > this.source.lastCommittedSeq() ? this.source.whenDurable() : null;
    if (this.handledSeq >= target) {
      this.acknowledgements.flush();
      return Promise.resolve();
    }
    if (this.sessionState === "inactive" && this.stopError !== null) return Promise.reject(this.stopError);
    // Only a login can resume a session the server ended: waiting would last the whole timeout.
    if (this.sessionState === "paused" && this.pauseReason === "logged-out" && this.sessionEndedError !== null) {
      return Promise.reject(this.sessionEndedError);
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: UploadWaiter = { target, resolve, reject, timer: undefined };
      if (timeoutMs !== undefined) {
        waiter.timer = setTimeout(() => {
          this.waiters.delete(waiter);
          const left = target - this.handledSeq;
          reject(new SyncError(`uploadAllLocalChanges timed out after ${timeoutMs} ms (${left} documents left)`, "timeout"));
        }, timeoutMs);
      }
      this.waiters.add(waiter);
      durable?.catch((error: unknown) => {
        if (!this.waiters.delete(waiter)) return;
        if (waiter.timer !== undefined) clearTimeout(waiter.timer);
        reject(new SyncError(`the queue could not flush the transactions to upload: ${(error as Error).message}`, "queue_failed"));
      });
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
      from: this.handledSeq,
      until: this.source.lastCommittedSeq(),
    });
    queueMicrotask(() => this.notifyProgress());
  }

  /** Stops calling `callback`. */
  removeProgressNotification(callback: ProgressNotificationCallback): void {
    this.progressListeners.delete(callback);
  }

  /**
   * @internal Ends the session for good (`realm.close()` calls it, before closing the queue):
   * records in the queue what the server acknowledged so far, then never touches the queue
   * again (an answer still in flight is dropped: the server skips that batch when a later
   * session re-sends it), and rejects pending `uploadAllLocalChanges`.
   */
  close(): void {
    if (this.closed) return;
    // The queue is still open here (Realm.close closes the session first): record what the
    // server acknowledged, so a restart does not re-send it.
    this.acknowledgements.flush();
    this.closed = true;
    this.acknowledgements.close();
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
        const message = error instanceof Error ? error.message : String(error);
        const stop = new SyncError(`the queue cannot be read for upload: ${message}`, "queue_failed");
        if (error instanceof Error) Object.defineProperty(stop, "cause", { value: error });
        this.stop(stop);
      })
      .finally(() => {
        this.loopRunning = false;
        // Paused, stopped or logged out: the cursor catches up with what the server has.
        if (!this.closed) this.acknowledgements.flush();
        // `resume()` may have run after the loop saw a pause but before this line: it found the
        // loop still marked running and left it to us.
        if (!this.closed && this.sessionState === "active") this.startLoop();
      });
  }

  private async runLoop(): Promise<void> {
    while (this.sessionState === "active" && !this.closed) {
      if (!this.user.isLoggedIn) {
        this.pauseForLogout();
        return;
      }
      const run = this.startUploadRun();
      if (run === null) {
        this.acknowledgements.flushSoon();
        await this.waitFor(null, true);
        continue;
      }
      await run;
    }
  }

  /**
   * Reads and sends ungated the batch from the first document not handled, under the current
   * queue id and batch size (a batch read ahead went out pipelined behind the one before it, or
   * was abandoned with it), and keeps the pipeline going behind it; null when nothing is
   * committed past it. Not inlined into `runLoop`: its async frame would keep the batch read, or
   * the first request, alive for the whole upload run (see sendUngated).
   */
  private startUploadRun(): Promise<void> | null {
    const prepared = this.prepareBatch(this.handledSeq);
    return prepared === null ? null : uploadPipelined(this.pipelineHost, [sendUngated(this.pipelineHost, prepared)]);
  }

  /**
   * Reads the batch after `after`, or null when nothing is committed past it. The byte cap is
   * the server's body cap, envelope included: read up to it in document bytes, then keep the
   * prefix whose request fits (gated or not), so no batch is refused for its size.
   */
  private prepareBatch(after: number): PreparedBatch | null {
    if (this.source.lastCommittedSeq() <= after) return null;
    // Transient: every batch read here is encoded into its request, and summed up (SentBatch),
    // in the same turn (sendBatch); nothing of its documents is read afterwards, so the queue may
    // reuse one buffer for the bytes of every read.
    const read: UploadRead = this.source.readBatchToUpload?.(after, this.countLimit, this.maxBytes, true) ?? {
      documents: this.source.readBatch(after, this.countLimit, this.maxBytes),
      onStableStorage: null,
    };
    if (read.documents.length === 0) return null;
    const queueId = this.source.queueId;
    return { batch: fitIngestRequest(queueId, read.documents, this.maxBytes), queueId, onStableStorage: read.onStableStorage };
  }

  /** The session as the upload pipeline sees it. */
  private createPipelineHost(): PipelineHost {
    return {
      appId: this.user.appId,
      maxBytes: this.maxBytes,
      requestTimeoutMs: this.requestTimeoutMs,
      // A user stand-in without the getter (a test's) counts as a transport that keeps bodies.
      ...(this.user.transportReleasesRequestBodies === true && { requestBodies: new RequestBodyPool() }),
      countLimit: () => this.countLimit,
      lastCommittedSeq: () => this.source.lastCommittedSeq(),
      prepareBatch: (after) => this.prepareBatch(after),
      mayPipeline: () => this.serverPipelines && !this.closed && this.sessionState === "active",
      isClosed: () => this.closed,
      willSend: () => {
        if (this.connection !== "connected") this.setConnection("connecting");
      },
      post: (request) => this.user.sendAuthorized(request),
      handleAnswer: (flight, answer) => this.handleAnswer(flight, answer),
      // Only a 404 says something here: the server predates pipelining (no pipelined path). An
      // abandoned 200 is not decoded: its batch is re-sent and the server replays its verdicts.
      noteAbandoned: (_flight, answer) => {
        if (answer.response?.status === 404) this.serverPipelines = false;
      },
    };
  }

  /**
   * Acts on one request's answer as its verdict says (classify-ingest-answer.ts); true when the
   * server acknowledged the whole batch, which is what a batch pipelined behind it was gated on.
   */
  private async handleAnswer(flight: InFlight, answer: IngestAnswer): Promise<boolean> {
    const { batch } = flight;
    const verdict = classifyIngestAnswer(answer, { gated: flight.gate !== null, documents: batch.count });
    // Any answer to an ungated batch shows the server is there, and so does a gated batch's 200
    // (its other answers are dropped: the batch goes again ungated).
    if (answer.response !== undefined && (flight.gate === null || verdict.kind === "acknowledged")) this.setConnection("connected");
    switch (verdict.kind) {
      case "acknowledged":
        await this.handleAccepted(batch, verdict.response);
        return this.handledSeq === batch.lastSeq;
      case "resend-ungated":
        // A 404 to the pipelined path: the server predates pipelining; stop pipelining (safe either way).
        if (verdict.serverPredatesPipelining) this.serverPipelines = false;
        return false;
      case "fatal":
        // The queue failed to sync the batch (it was not sent): the loop stops, as when a read fails.
        throw verdict.error;
      case "session-expired":
        this.handleSessionExpired(verdict.error);
        return false;
      case "retry":
        await this.retryLater(batch, verdict, answer.response === undefined);
        return false;
      case "split":
        this.shrinkBatch(batch.count);
        return false;
      case "reject-document":
        this.rejectTooLargeDocument(batch, verdict.describe);
        return false;
      case "rotate-queue-id":
        this.handleQueueOwnedByAnotherUser(verdict.describe);
        return false;
      case "stop":
        this.stop(verdict.error);
        return false;
    }
  }

  /**
   * The refusal of the user's refresh token already paused the session through the user's
   * listener; say why, once: nothing is sent again until a login, so nothing meets the refusal again.
   */
  private handleSessionExpired(error: SessionExpiredError): void {
    this.report(error);
    this.pauseForLogout();
    if (this.pauseReason === "logged-out") this.sessionEndedError = error;
    // As Realm ends pending waits when a session goes inactive: only a login can resume this
    // one, and a caller waiting for the upload would otherwise wait out its whole timeout.
    this.rejectWaiters(error);
  }

  /** Keeps the batch and backs off; `unanswered` when the request got no answer at all. */
  private async retryLater(batch: SentBatch, verdict: Extract<IngestVerdict, { kind: "retry" }>, unanswered: boolean): Promise<void> {
    // Paused or closed while the request was out: the failure is nobody's business now.
    if (unanswered && this.sessionState !== "active") return;
    if (verdict.connection !== null) this.setConnection(verdict.connection);
    if (verdict.shrinkBatch) this.shrinkBatch(batch.count);
    if (verdict.report !== null) {
      if (verdict.reportOnce) this.reportOnce(verdict.report);
      else this.report(verdict.report);
    }
    const retryAfter = verdict.retryAfterMs;
    await this.backOff(retryAfter === null ? null : Math.min(retryAfter, this.maxBackoffMs));
  }

  /** A valid 200: reports its rejections and acknowledges what the batch covered. */
  private async handleAccepted(batch: SentBatch, answer: IngestResponse): Promise<void> {
    for (const rejection of answer.rejected) {
      this.report(new DocumentRejectedError(rejection.seq, rejection.table, rejection.code, rejection.reason));
    }
    const last = batch.lastSeq;
    // The server's mark may be past this batch (a batch stored before a crash lost its answer);
    // acknowledge only what this batch covered, the rest is re-sent and skipped by the server.
    const acknowledged = Math.min(answer.acknowledgedSeq, last);
    if (acknowledged <= this.handledSeq) {
      this.report(new SyncError(`the server acknowledged nothing of batch ${batch.firstSeq}..${last}`, "bad_response", 200));
      await this.backOff(null);
      return;
    }
    this.markHandled(acknowledged);
    this.attempt = 0;
    this.lastReported = null;
    this.rotatedForOwner = false;
    this.countLimit = Math.min(this.maxCount, this.countLimit * 2);
  }

  /** The server's 413 PayloadTooLarge to a batch of one document: that document is rejected. */
  private rejectTooLargeDocument(batch: SentBatch, describe: string): void {
    const reason = `${describe} (${batch.firstBytes} bytes of BSON)`;
    this.report(new DocumentRejectedError(batch.firstSeq, batch.firstTable, "document_too_large", reason));
    // Handled: every earlier document is acknowledged, so the cursor may move past this one.
    this.markHandled(batch.firstSeq);
    this.countLimit = this.maxCount;
  }

  /**
   * 403 QueueOwnedByAnotherUser: this queue uploaded as another user before (the device logged
   * in again as someone new). The server keys its high-water mark by queue id and user, so the
   * queue takes a new id and re-sends what is not acknowledged; a document the old user's
   * batches already stored is accepted again silently (same `_id`, same bytes), never twice.
   */
  private handleQueueOwnedByAnotherUser(describe: string): void {
    const rotateQueueId = this.source.rotateQueueId?.bind(this.source);
    if (this.rotatedForOwner || rotateQueueId === undefined) {
      this.stop(
        new SyncError(
          `this queue uploads as another user (${describe}); queued data is kept: log in as the queue's user, or resume() with a queue that can take a new id`,
          "queue_owned_by_another_user",
          403,
          "QueueOwnedByAnotherUser",
        ),
      );
      return;
    }
    const previous = this.source.queueId;
    let next: string;
    try {
      next = rotateQueueId();
    } catch (error) {
      this.stop(new SyncError(`the queue could not take a new id for user ${this.user.id}: ${(error as Error).message}`, "queue_failed", 403, "QueueOwnedByAnotherUser"));
      return;
    }
    // At most one rotation until a batch is accepted: a second 403 means something else is wrong.
    this.rotatedForOwner = true;
    this.attempt = 0;
    this.report(
      new SyncError(`queue ${previous} belongs to another user; it uploads as user ${this.user.id} under the new id ${next}`, "queue_id_rotated", 403, "QueueOwnedByAnotherUser"),
    );
  }

  /** Halves the batch (never below one document); it grows back with each accepted batch. */
  private shrinkBatch(count: number): void {
    this.countLimit = Math.max(1, Math.ceil(count / 2));
  }

  /**
   * Records that the server handled everything up to `seq`: progress and waiters see it now,
   * the queue's durable cursor within `ACK_FLUSH_INTERVAL_MS` (acknowledgement-flusher.ts), at once for a waiter.
   */
  private markHandled(seq: number): void {
    if (seq <= this.handledSeq) return;
    this.handledSeq = seq;
    this.acknowledgements.flushSoon();
    this.notifyProgress();
    let flushed = false;
    for (const waiter of this.waiters) {
      if (waiter.target > seq) continue;
      // A waiter expects the queue to be empty of what it waited for (queueStats says so).
      if (!flushed) this.acknowledgements.flush();
      flushed = true;
      if (waiter.timer !== undefined) clearTimeout(waiter.timer);
      this.waiters.delete(waiter);
      waiter.resolve();
    }
  }

  /** Makes the session inactive (resume() tries again), reports why and fails pending waits with it. */
  private stop(error: SyncError): void {
    this.report(error);
    if (this.closed) return;
    this.sessionState = "inactive";
    this.stopError = error;
    this.setConnection("disconnected");
    this.wake();
    this.rejectWaiters(error);
  }

  /** Fails every pending `uploadAllLocalChanges` with `error`. */
  private rejectWaiters(error: Error): void {
    for (const waiter of this.waiters) {
      if (waiter.timer !== undefined) clearTimeout(waiter.timer);
      waiter.reject(error);
    }
    this.waiters.clear();
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
    const acknowledged = this.handledSeq;
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

  /** Reports a refusal that repeats on every retry only the first time (until a batch succeeds). */
  private reportOnce(error: SyncError): void {
    const key = `${error.code}:${error.statusCode ?? ""}:${error.serverCode ?? ""}`;
    if (key === this.lastReported) return;
    this.lastReported = key;
    this.report(error);
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
