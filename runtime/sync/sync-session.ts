/**
 * The sync session: uploads the durable queue to the ingest server in batches and acknowledges
 * what the server stored. Upload-only (asymmetric sync): nothing ever comes back down.
 *
 * Up to three batches are in flight, each gated on the one before ("Pipelining" in
 * ingest-protocol.ts; the rules are on `SyncSession`): the server never waits for the client
 * between batches, and its per-queue high-water mark still makes every retry idempotent and
 * never lets a document be skipped. What the server acknowledged is recorded in the queue's
 * durable cursor at most `ACK_FLUSH_INTERVAL_MS` later, also when the upload has caught up (at
 * once when it pauses, closes or someone waits for it): a crash in between only re-sends
 * documents the server skips. The queue is the only state that matters: a restarted app
 * resumes from its durable cursor.
 */
import { AuthError, NetworkError, ResponseTooLargeError, SessionExpiredError } from "../app/auth-error.js";
import type { User } from "../app/user.js";
import type { HttpResponse } from "../app/http-transport.js";
import { QueueFailedError } from "../errors.js";
import type { QueuedDocument, UploadRead, UploadSource } from "../queue/upload-source.js";
import { computeBackoffDelay, defaultBackoffBounds, parseRetryAfter } from "./compute-backoff-delay.js";
import { decodeIngestResponse } from "./decode-ingest-response.js";
import { encodeIngestRequest, fitIngestRequest, measureIngestRequestBase } from "./encode-ingest-request.js";
import { defaultIngestLimits, ingestPath, pipelinedIngestPath } from "./ingest-protocol.js";
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
  /** Most bytes of one upload request, envelope included (default: the protocol's `maxBatchBytes`, the server's body cap). */
  maxBatchBytes?: number;
  /** First retry delay in ms (Realm's default: 1 000). */
  initialBackoffMs?: number;
  /** Longest retry delay in ms (Realm's default: 300 000). */
  maxBackoffMs?: number;
  /** Give up on one upload request after this many ms and retry with a halved batch (default 60 000). */
  requestTimeoutMs?: number;
}

/** A batch read from the queue; it is encoded when sent, with or without a gate. */
interface PreparedBatch {
  batch: QueuedDocument[];
  queueId: string;
  /** Settles when the batch is on the device's stable storage (null: it is): the request waits for it. */
  onStableStorage: Promise<void> | null;
}

/** How one request ended: the server's answer, or what `sendAuthorized` threw. */
type SendOutcome = { response: HttpResponse; error?: never } | { response?: never; error: unknown };

/** One upload request on its way. */
interface InFlight {
  prepared: PreparedBatch;
  /** Settles with the outcome; never rejects. */
  sending: Promise<SendOutcome>;
  /** The last seq of the batch it was pipelined behind (its `ifAcknowledgedSeq`), or null when sent ungated. */
  gate: number | null;
  /** Set when a batch before it failed: if it is still waiting for its sync, it is never posted. */
  abandoned: boolean;
  /** The request body's size in bytes. */
  bytes: number;
}

/** The ingest route's JSON refusal, or null when the answer is not one (a proxy's). */
interface RouteRefusal {
  error: string;
  errorCode: string;
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
 * The largest ingest answer a batch of `documents` can get (the cap passed to sendHttpRequest).
 * The worst case is every document rejected: per rejection the server sends its seq, table,
 * code and a reason of at most 500 UTF-16 units plus "…" (≤ 1 503 bytes of UTF-8, see
 * prepare-store-batch.ts), about 1.6 KiB with BSON framing; 4 KiB leaves room for long table
 * names. A batch of 1 000 documents thus allows about 4 MiB.
 */
function maxIngestAnswerBytes(documents: number): number {
  return 64 * 1024 + documents * 4 * 1024;
}
/**
 * Longest delay before an acknowledgement reaches the queue's durable cursor during a long
 * upload. Each cursor write costs two fsyncs; doing it per batch took ~10% of a batch's time.
 */
const ACK_FLUSH_INTERVAL_MS = 1000;
/**
 * Upload requests in flight at most, each but the oldest gated on the one before it. Three
 * gave one client in bench:sync about 10% more documents per second than two; four gave no more
 * than three. Two queues of one user (two devices) fit in the server's default limit of eight
 * batches in flight per user.
 */
export const PIPELINE_DEPTH = 3;

/**
 * An upload session over one queue: see `openSyncSession`.
 *
 * Pipelining, the rules that keep it exactly-once and in order:
 * - While batch N is the last in flight and a whole batch is committed after it, that batch is
 *   read and, when it directly follows N (first seq = N's last + 1, same queue id), sent at once
 *   gated on N's last seq; a partial batch waits for N's answer (see fillsABatch). At most
 *   `PIPELINE_DEPTH` requests are in flight; a batch with nothing in flight before it (the first
 *   one, a retry, the one after a document skipped on a 413, the first after a queue-id
 *   rotation) is ungated.
 * - Answers are handled strictly in order, through the same paths as ever. When the oldest
 *   batch in flight is acknowledged in full, the one behind it becomes the oldest and another
 *   is pipelined behind the last.
 * - A gated batch's answer counts only when it is a 200 and every batch before it was
 *   acknowledged in full. Any other answer (one before it failed in any way; or a 409, 429,
 *   5xx, 413, 401, network error or timeout of its own) is dropped without a report, a backoff
 *   or a split, and the batch is sent again ungated, where the normal path meets whatever went
 *   wrong. A dropped 200's rejections are reported when the re-send replays them, so once.
 *   After a batch fails, the ones behind it that still wait for their sync to disk are never
 *   posted, and nothing new is sent until the abandoned requests settle. The one exception: a
 *   refused refresh (the login session is over) is reported from a gated batch too, since the
 *   session pauses and no re-send follows.
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
  /**
   * When the queue's cursor was last written (`performance.now()`: a clock set back must not hold
   * it up). Opening counts as a write: the first one waits like the others, rather than blocking
   * on two fsyncs at the first answer (16 clients in one bench process did 6% more without).
   */
  private lastAckFlush = performance.now();
  private ackTimer: ReturnType<typeof setTimeout> | undefined;
  private ackFailureReported = false;
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
      this.flushAcknowledgement();
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
    this.flushAcknowledgement();
    this.closed = true;
    clearTimeout(this.ackTimer);
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
        if (!this.closed) this.flushAcknowledgement();
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
      // From the first document not handled, under the current queue id and batch size: a batch
      // read ahead went out pipelined behind the one before it, or was abandoned with it.
      const next = this.prepareBatch(this.handledSeq);
      if (next === null) {
        this.flushAcknowledgementSoon();
        await this.waitFor(null, true);
        continue;
      }
      await this.uploadBatch(next);
    }
  }

  /**
   * Reads the batch after `after`, or null when nothing is committed past it. The byte cap is
   * the server's body cap, envelope included: read up to it in document bytes, then keep the
   * prefix whose request fits (gated or not), so no batch is refused for its size.
   */
  private prepareBatch(after: number): PreparedBatch | null {
    if (this.source.lastCommittedSeq() <= after) return null;
    const read: UploadRead = this.source.readBatchToUpload?.(after, this.countLimit, this.maxBytes) ?? {
      documents: this.source.readBatch(after, this.countLimit, this.maxBytes),
      onStableStorage: null,
    };
    if (read.documents.length === 0) return null;
    const queueId = this.source.queueId;
    return { batch: fitIngestRequest(queueId, read.documents, this.maxBytes), queueId, onStableStorage: read.onStableStorage };
  }

  /**
   * Sends `prepared` ungated, then keeps the pipeline going: up to `PIPELINE_DEPTH` requests in
   * flight, each gated on the one before it. Answers are handled in order; while each is stored
   * in full the next takes its place and the pipeline is refilled. Otherwise the batches behind
   * are abandoned: their requests settle before anything else is sent, their answers are
   * dropped, and the loop reads from the first document not handled and sends that ungated.
   */
  private async uploadBatch(prepared: PreparedBatch): Promise<void> {
    const flights: InFlight[] = [this.send(prepared, null)];
    while (flights.length > 0) {
      // Once the requests before are on their way, read ahead and send behind the last of them.
      const filling = new Promise<void>((resolve) => setImmediate(() => resolve(this.fillPipeline(flights))));
      const outcome = await flights[0]!.sending;
      await filling;
      // The queue may be closed by now: never acknowledge into it. The server keeps its
      // high-water mark, so the next session re-sends these batches and nothing is stored twice.
      if (this.closed) return;
      const stored = await this.handleOutcome(flights.shift()!, outcome).catch((error: unknown) => {
        for (const flight of flights) flight.abandoned = true;
        throw error;
      });
      if (stored && !this.closed) continue;
      for (const flight of flights) flight.abandoned = true;
      for (const abandoned of flights) this.noteOldServer(await abandoned.sending);
      return;
    }
  }

  /** Sends batches gated behind the last one in flight until `PIPELINE_DEPTH` are, or none is ready. */
  private fillPipeline(flights: InFlight[]): void {
    while (flights.length > 0 && flights.length < PIPELINE_DEPTH) {
      const behind = this.sendBehind(flights[flights.length - 1]!);
      if (behind === null) return;
      flights.push(behind);
    }
  }

  /** Puts one request on its way; `gate` is the last seq of the batch still in flight before it. */
  private send(prepared: PreparedBatch, gate: number | null): InFlight {
    if (this.connection !== "connected") this.setConnection("connecting");
    const body = encodeIngestRequest(prepared.queueId, prepared.batch, gate ?? undefined);
    const flight = { prepared, gate, abandoned: false, bytes: body.length } as InFlight;
    const post = (): Promise<HttpResponse> => {
      // While its sync ran, the session may have closed or a batch before it failed: then it
      // stays home (the outcome of such a request is never acted on).
      if (this.closed || flight.abandoned) return Promise.reject(new SyncError("not sent: the upload it belonged to was abandoned", "not_sent"));
      return this.user.sendAuthorized({
        method: "POST",
        path: gate === null ? ingestPath(this.user.appId) : pipelinedIngestPath(this.user.appId),
        headers: { "content-type": "application/bson", accept: "application/bson" },
        body,
        timeoutMs: this.requestTimeoutMs,
        maxResponseBytes: maxIngestAnswerBytes(prepared.batch.length),
      });
    };
    // Nothing leaves the device before it is on stable storage (see UploadSource.readBatchToUpload).
    flight.sending = (prepared.onStableStorage === null ? post() : prepared.onStableStorage.then(post)).then(
      (response): SendOutcome => ({ response }),
      (error: unknown): SendOutcome => ({ error }),
    );
    return flight;
  }

  /**
   * Reads the batch after `current` and sends it gated on `current`'s last seq; null when there
   * is no whole batch yet (see fillsABatch), the session stopped meanwhile, or the queue cannot be
   * read now (the loop's own read reports that).
   */
  private sendBehind(current: InFlight): InFlight | null {
    if (!this.serverPipelines) return null;
    if (this.closed || this.sessionState !== "active") return null;
    const { batch, queueId } = current.prepared;
    const last = batch[batch.length - 1]!.seq;
    if (!this.fillsABatch(last, current)) return null;
    let next: PreparedBatch | null;
    try {
      next = this.prepareBatch(last);
    } catch {
      return null;
    }
    // The gate only means "the batch before me is stored" when it directly precedes this one
    // under the same queue id (the server keys its mark by queue id).
    if (next === null || next.queueId !== queueId || next.batch[0]!.seq !== last + 1) return null;
    try {
      return this.send(next, last);
    } catch {
      // Not sent: the loop reads it again once `current` is answered, and meets the error there.
      return null;
    }
  }

  /**
   * Whether the documents committed after `last` fill a whole batch: by count, or by request
   * bytes at the average size of an entry of `sent` (the request just before them, envelope
   * included, as fitIngestRequest counts them). Only a full batch is sent behind one in
   * flight; a partial one waits for the answers before it and takes in what is written
   * meanwhile, as Nagle's algorithm does for TCP. A client writing steadily then sends a few
   * large requests instead of many small ones (in bench:sync's 16-client cell, a batch per
   * write transaction of 100 documents), and each request costs both sides a fixed amount of
   * work. A client writing now and then has nothing in flight, and its batch goes out at once.
   */
  private fillsABatch(last: number, sent: InFlight): boolean {
    const pending = this.source.lastCommittedSeq() - last;
    if (pending >= this.countLimit) return true;
    const { batch, queueId } = sent.prepared;
    const entryBytes = (sent.bytes - measureIngestRequestBase(queueId, sent.gate !== null)) / batch.length;
    // Full by bytes when one more entry of that size would not fit.
    return measureIngestRequestBase(queueId, true) + (pending + 1) * entryBytes > this.maxBytes;
  }

  /**
   * Acts on one request's outcome through the normal paths; true when the server acknowledged
   * the whole batch, which is what a batch pipelined behind it was gated on. A gated batch's
   * answer other than a 200 is dropped: the loop sends the batch again ungated and the normal
   * path meets whatever went wrong (a 409 only says the batch before was not stored in time).
   */
  private async handleOutcome(flight: InFlight, outcome: SendOutcome): Promise<boolean> {
    const { batch } = flight.prepared;
    // The queue failed to sync the batch (it was not sent): the loop stops, as when a read fails.
    if (outcome.error instanceof QueueFailedError) throw outcome.error;
    if (outcome.response === undefined) {
      if (flight.gate === null || outcome.error instanceof SessionExpiredError) await this.handleSendError(batch, outcome.error);
      return false;
    }
    const { response } = outcome;
    if (flight.gate !== null && response.status !== 200) {
      this.noteOldServer(outcome);
      return false;
    }
    this.setConnection("connected");
    if (response.status !== 200) {
      await this.handleRefusal(batch, response);
      return false;
    }
    await this.handleAccepted(batch, response);
    return this.handledSeq === batch[batch.length - 1]!.seq;
  }

  /** A gated batch answered 404: the server predates pipelining (no pipelined path); stop pipelining (safe either way). */
  private noteOldServer(outcome: SendOutcome): void {
    if (outcome.response?.status === 404) this.serverPipelines = false;
  }

  /**
   * A request that got no answer. The end of the login session is acted on even for a gated
   * batch: the session pauses, so no ungated re-send would meet it again and say why.
   */
  private async handleSendError(batch: QueuedDocument[], error: unknown): Promise<void> {
    if (error instanceof SessionExpiredError) {
      // The refusal already paused the session through the user's listener; say why, once:
      // nothing is sent again until a login, so nothing meets the refusal again.
      this.report(error);
      this.pauseForLogout();
      if (this.pauseReason === "logged-out") this.sessionEndedError = error;
      // As Realm ends pending waits when a session goes inactive: only a login can resume this
      // one, and a caller waiting for the upload would otherwise wait out its whole timeout.
      this.rejectWaiters(error);
      return;
    }
    if (this.sessionState !== "active") return;
    if (error instanceof NetworkError) {
      this.setConnection("disconnected");
      // A slow link: a smaller batch has a better chance to arrive within the timeout. An answer
      // over its cap (a server or proxy gone wrong) is smaller for a smaller batch too.
      if (error.timedOut || error instanceof ResponseTooLargeError) this.shrinkBatch(batch);
    } else {
      // The refresh route answered oddly (5xx, bad body): the server is there but unwell.
      this.setConnection(error instanceof AuthError ? "connected" : "disconnected");
    }
    await this.backOff(null);
  }

  /**
   * Acts on a non-200 answer as the protocol's table says (ingest-protocol.ts). Only the ingest
   * route's own JSON refusals may split or skip; anything else (a proxy's 413 or 400) keeps the
   * data and retries.
   */
  private async handleRefusal(batch: QueuedDocument[], response: HttpResponse): Promise<void> {
    const status = response.status;
    const refusal = readRouteRefusal(response);
    const describe = `HTTP ${status}${refusal === null ? "" : ` ${refusal.errorCode}: ${refusal.error}`}`;
    if (status === 429 || status === 503) {
      const retryAfter = parseRetryAfter(response.headers.get("retry-after"));
      await this.backOff(retryAfter === null ? null : Math.min(retryAfter, this.maxBackoffMs));
      return;
    }
    if (status >= 500) {
      await this.backOff(null);
      return;
    }
    if (status === 408) {
      // The body did not reach the server in time: a slow link, so send less at once.
      this.shrinkBatch(batch);
      await this.backOff(null);
      return;
    }
    if (refusal === null) {
      // Not the ingest route's answer (a proxy, a WAF, an HTTP parser): never split or skip on
      // it, the data is fine as far as anyone knows.
      this.reportOnce(new SyncError(`the upload was refused by something other than the ingest server (${describe}); retrying`, "unexpected_response", status));
      await this.backOff(null);
      return;
    }
    if (status === 413 && refusal.errorCode === "PayloadTooLarge") {
      this.handleTooLarge(batch, describe);
      return;
    }
    if (status === 401) {
      // A freshly refreshed token was refused too: a server hiccup or a session being revoked.
      this.reportOnce(new SyncError(`the server refused a fresh access token (${describe}); retrying`, "invalid_session", status, refusal.errorCode));
      await this.backOff(null);
      return;
    }
    if (status === 403 && refusal.errorCode === "QueueOwnedByAnotherUser") {
      this.handleQueueOwnedByAnotherUser(describe);
      return;
    }
    if (status === 403 || status === 404) {
      const code = status === 404 ? "app_not_found" : "forbidden";
      this.stop(new SyncError(`the server refused the upload (${describe}); queued data is kept, resume() tries again`, code, status, refusal.errorCode));
      return;
    }
    // 400 BadRequest or UnknownTable (a client built against another schema), or another 4xx:
    // the server may be upgraded or reconfigured, so the data waits.
    const code = refusal.errorCode === "UnknownTable" ? "unknown_table" : status === 400 ? "bad_request" : "refused";
    this.reportOnce(new SyncError(`the server refused the batch (${describe}); queued data is kept and retried`, code, status, refusal.errorCode));
    await this.backOff(null);
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
    if (acknowledged <= this.handledSeq) {
      this.report(new SyncError(`the server acknowledged nothing of batch ${batch[0]!.seq}..${last}`, "bad_response", 200));
      await this.backOff(null);
      return;
    }
    this.markHandled(acknowledged);
    this.attempt = 0;
    this.lastReported = null;
    this.rotatedForOwner = false;
    this.countLimit = Math.min(this.maxCount, this.countLimit * 2);
  }

  /** The server's 413 PayloadTooLarge: halve the batch; a single document still refused is rejected. */
  private handleTooLarge(batch: QueuedDocument[], describe: string): void {
    if (batch.length > 1) {
      this.shrinkBatch(batch);
      return;
    }
    const document = batch[0]!;
    const reason = `${describe} (${document.bson.length} bytes of BSON)`;
    this.report(new DocumentRejectedError(document.seq, document.table, "document_too_large", reason));
    // Handled: every earlier document is acknowledged, so the cursor may move past this one.
    this.markHandled(document.seq);
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
  private shrinkBatch(batch: QueuedDocument[]): void {
    this.countLimit = Math.max(1, Math.ceil(batch.length / 2));
  }

  /**
   * Records that the server handled everything up to `seq`: progress and waiters see it now,
   * the queue's durable cursor within `ACK_FLUSH_INTERVAL_MS` (or at once for a waiter).
   */
  private markHandled(seq: number): void {
    if (seq <= this.handledSeq) return;
    this.handledSeq = seq;
    if (performance.now() - this.lastAckFlush >= ACK_FLUSH_INTERVAL_MS) this.flushAcknowledgement();
    this.notifyProgress();
    let flushed = false;
    for (const waiter of this.waiters) {
      if (waiter.target > seq) continue;
      // A waiter expects the queue to be empty of what it waited for (queueStats says so).
      if (!flushed) this.flushAcknowledgement();
      flushed = true;
      if (waiter.timer !== undefined) clearTimeout(waiter.timer);
      this.waiters.delete(waiter);
      waiter.resolve();
    }
  }

  /**
   * Caught up: the cursor is written within `ACK_FLUSH_INTERVAL_MS` of the last write, not at
   * once. An app writing a little at a time catches up after almost every batch, and a cursor
   * write (two blocking fsyncs) each time took 5–7% of the time of 16 such sessions in bench:sync.
   */
  private flushAcknowledgementSoon(): void {
    const due = this.lastAckFlush + ACK_FLUSH_INTERVAL_MS - performance.now();
    if (due <= 0) {
      this.flushAcknowledgement();
      return;
    }
    if (this.ackTimer !== undefined) return;
    this.ackTimer = setTimeout(() => {
      this.ackTimer = undefined;
      this.flushAcknowledgement();
    }, due);
    // Never what keeps a process alive: a cursor not written only means a re-send the server skips.
    this.ackTimer.unref?.();
  }

  /**
   * Moves the queue's durable cursor to what the server handled. A failed write (the disk is
   * full) is reported once and retried at the next flush: the upload goes on, since the server
   * holds its high-water mark and a restart only re-sends what it skips.
   */
  private flushAcknowledgement(): void {
    if (this.closed || this.handledSeq <= this.source.acknowledgedSeq()) return;
    this.lastAckFlush = performance.now();
    try {
      this.source.acknowledge(this.handledSeq);
      this.ackFailureReported = false;
    } catch (error) {
      if (this.ackFailureReported) return;
      this.ackFailureReported = true;
      this.report(
        new SyncError(
          `the queue could not record the acknowledgement of ${this.handledSeq}: ${(error as Error).message}; the upload goes on and it is retried`,
          "acknowledge_failed",
        ),
      );
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

/** The ingest route's `{ error, error_code }` refusal, or null when the body is not one. */
function readRouteRefusal(response: HttpResponse): RouteRefusal | null {
  try {
    const answer = JSON.parse(new TextDecoder().decode(response.body)) as unknown;
    if (typeof answer !== "object" || answer === null) return null;
    const { error, error_code: errorCode } = answer as { error?: unknown; error_code?: unknown };
    if (typeof error === "string" && typeof errorCode === "string" && errorCode !== "") return { error, errorCode };
  } catch {
    // Not JSON: not the ingest route's answer.
  }
  return null;
}
