/**
 * `POST /api/client/v2.0/app/:appId/ingest`: authenticate, read and parse the BSON batch,
 * validate, commit to the store, then answer. The answer is sent only after the commit, so an
 * acknowledgement means "in the database".
 *
 * Memory is bounded however many clients send at once: batches per user (429), body bytes per
 * user (429) and across all users (503), batches being authenticated or processed (503), and a
 * deadline for each body (408). Every one of these refusals comes before anything is written.
 * Body bytes are counted as they arrive (see readBody), and a batch whose body is still arriving
 * holds no batch slot: a request that declares a body and sends nothing holds nothing any other
 * user needs. Past those, at most `maxStoringBatches` batches are validated into Extended JSON and
 * handed to the store at once; the others wait as their bodies, already counted.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Long, serialize } from "bson";
import type { AuthService } from "../auth/auth-service.js";
import { HttpError } from "../http/http-error.js";
import { readBody } from "../http/read-body.js";
import { sendBson } from "../http/respond.js";
import { parseIngestRequest } from "../ingest/parse-ingest-request.js";
import type { ParsedIngestRequest } from "../ingest/parse-ingest-request.js";
import { prepareStoreBatch } from "../ingest/prepare-store-batch.js";
import type { Logger } from "../logger.js";
import type { IngestStore } from "../stores/store.js";
import type { StoreBatchResult } from "../stores/store-batch.js";
import type { SchemaScanners } from "../validate/scanned-document.js";

/** Limits of the ingest route. */
export interface IngestLimits {
  maxBatchDocuments: number;
  /** The whole request body, envelope included (413 past it). */
  maxBatchBytes: number;
  /**
   * Batches being authenticated, or parsed, validated and stored, at once; more are turned away
   * with 503 + Retry-After. A batch whose body is still arriving holds no slot (only its bytes and
   * its user's count), so requests that send nothing cannot take them all.
   */
  maxInFlightBatches: number;
  /** Body bytes held at once across all batches in flight; past it, 503 + Retry-After. At least `maxBatchBytes`. */
  maxInFlightBytes: number;
  /** Batches one user may have in flight at once; more are turned away with 429 + Retry-After. */
  maxInFlightPerUser: number;
  /**
   * Body bytes one user's batches may hold at once, counted before `maxInFlightBytes`; past it,
   * 429 + Retry-After (the user's own doing), so one user cannot take the whole budget. At least `maxBatchBytes`.
   */
  maxInFlightBytesPerUser: number;
  /** How long a client has to send the whole body, from the moment the server starts reading it (408 after). */
  bodyReadTimeoutMs: number;
  /**
   * Batches validated and handed to the store at once. The store commits one (SQLite) or a few
   * (a connection pool) at a time; past this, a batch waits as its body (already counted in
   * `maxInFlightBytes`) instead of as its Extended JSON text, which is larger.
   */
  maxStoringBatches: number;
}

/** The test-only hooks (see createIngestServer): crash injection and a pause before each commit. */
export interface IngestTestHooks {
  fault: { point: "before-commit" | "after-commit"; afterBatches: number } | null;
  commitDelayMs: number;
}

/** What the route needs. */
export interface IngestRouteContext {
  store: IngestStore;
  auth: AuthService;
  validators: SchemaScanners;
  limits: IngestLimits;
  logger: Logger;
  testHooks: IngestTestHooks;
}

/** The ingest handler. */
export interface IngestRoute {
  handle(req: IncomingMessage, res: ServerResponse, bearer: string | null): Promise<void>;
}

const retryAfter = { "retry-after": "1" };

/**
 * How long a pipelined batch whose gate fails waits for the batch before it (see
 * validateAndStore): long enough for a connection to open on a slow link, short enough that a
 * client whose batch before really failed learns it soon.
 */
const gapWaitMs = 500;

/** A counting semaphore whose waiters are served first come, first served: `run` holds a slot while `task` runs. */
function createSlots(size: number): { run<T>(task: () => Promise<T>): Promise<T> } {
  let free = size;
  const waiting: (() => void)[] = [];
  return {
    async run(task) {
      if (free > 0) free--;
      else await new Promise<void>((resolve) => waiting.push(resolve));
      try {
        return await task();
      } finally {
        const next = waiting.shift();
        // A waiter takes the slot over directly, so a newcomer cannot overtake it.
        if (next) next();
        else free++;
      }
    },
  };
}

/** Creates the ingest route. */
export function createIngestRoute(context: IngestRouteContext): IngestRoute {
  const { store, auth, validators, limits, logger } = context;
  const { fault, commitDelayMs } = context.testHooks;
  let inFlight = 0;
  let bytesInFlight = 0;
  // Per user with a batch in flight: its batches and the body bytes they hold (one lookup a request).
  const perUser = new Map<string, { batches: number; bytes: number }>();
  let batches = 0;
  const storing = createSlots(limits.maxStoringBatches);
  const tooManyBatches = () =>
    new HttpError(503, "ServiceUnavailable", `server busy: too many batches in flight (maxInFlightBatches ${limits.maxInFlightBatches})`, retryAfter);
  const userBytesFull = () =>
    new HttpError(
      429,
      "TooManyRequests",
      `too many request bytes in flight for this user (maxInFlightBytesPerUser ${limits.maxInFlightBytesPerUser})`,
      retryAfter,
    );
  const serverBytesFull = () =>
    new HttpError(503, "ServiceUnavailable", `server busy: too many request bytes in flight (maxInFlightBytes ${limits.maxInFlightBytes})`, retryAfter);
  // Per user, the batches waiting for another of that user's batches to start or end (see validateAndStore).
  const changeWaiters = new Map<string, (() => void)[]>();

  /**
   * `changed` resolves when one of the user's batches starts or ends after this call, or after
   * `ms`; `cancel` stops waiting (and leaves nothing behind for a user who never sends again).
   */
  function watchChanges(userId: string, ms: number): { changed: Promise<void>; cancel(): void } {
    let wake = () => {};
    const changed = new Promise<void>((resolve) => (wake = resolve));
    const stop = () => {
      clearTimeout(timer);
      const waiters = changeWaiters.get(userId)?.filter((waiter) => waiter !== done) ?? [];
      if (waiters.length > 0) changeWaiters.set(userId, waiters);
      else changeWaiters.delete(userId);
      wake();
    };
    const done = () => {
      clearTimeout(timer);
      wake();
    };
    const timer = setTimeout(stop, ms);
    const waiters = changeWaiters.get(userId);
    if (waiters) waiters.push(done);
    else changeWaiters.set(userId, [done]);
    return { changed, cancel: stop };
  }

  function userBatchesChanged(userId: string): void {
    const waiters = changeWaiters.get(userId);
    changeWaiters.delete(userId);
    for (const wake of waiters ?? []) wake();
  }

  /**
   * Validates a parsed batch (writing each document's Extended JSON) and commits it, holding a
   * storing slot. Slots are taken in arrival order, so a client's pipelined batches reach the
   * store in the order their bodies arrived; but a pipelined batch's body can arrive first (it
   * took an open connection while the batch before it opened a new one, and may not have reached
   * this route at all yet). Its gate then fails: for up to `gapWaitMs`, check the gate again each
   * time one of the user's batches starts or ends, rather than refuse a batch the client would
   * only send again. A gate nothing meets (the batch before failed) is refused after the wait.
   */
  async function validateAndStore(request: ParsedIngestRequest, userId: string): Promise<StoreBatchResult> {
    const first = await storing.run(async () => {
      const batch = prepareStoreBatch(request, validators, userId, new Date());
      const batchNumber = ++batches;
      logger.log("debug", "batch received", { queueId: request.queueId, documents: request.documents.length, batch: batchNumber });
      if (commitDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, commitDelayMs));
      // Test-only fault injection: the process dies exactly at the chosen point of the N-th batch.
      if (fault && fault.point === "before-commit" && batchNumber === fault.afterBatches) process.kill(process.pid, "SIGKILL");
      const result = await store.ingest(batch);
      if (fault && fault.point === "after-commit" && batchNumber === fault.afterBatches) process.kill(process.pid, "SIGKILL");
      return { batch, result };
    });
    const { batch } = first;
    let { result } = first;
    // The first retry does not wait: the batch before may have ended during the first check.
    // Each later one waits for a change watched from before the previous check, so a batch that
    // ends while the gate is being checked is not missed.
    const deadline = performance.now() + gapWaitMs;
    let watch: ReturnType<typeof watchChanges> | null = null;
    try {
      while (result.status === "sequence_gap" && performance.now() < deadline) {
        if (watch) await watch.changed;
        watch = watchChanges(userId, Math.max(0, deadline - performance.now()));
        result = await storing.run(() => store.ingest(batch));
      }
    } finally {
      watch?.cancel();
    }
    return result;
  }

  return {
    async handle(req, res, bearer) {
      // The slot bounds requests being authenticated (a store lookup each) or processed; it is
      // given back while the body arrives and taken again once it has (see maxInFlightBatches).
      if (inFlight >= limits.maxInFlightBatches) throw tooManyBatches();
      inFlight++;
      let holdsSlot = true;
      let user: { batches: number; bytes: number } | null = null;
      let userId: string | null = null;
      let heldBytes = 0;
      try {
        if (bearer === null) throw new HttpError(401, "InvalidSession", "must authenticate first");
        const authenticated = await auth.authenticate(bearer);
        const owner = perUser.get(authenticated.userId) ?? { batches: 0, bytes: 0 };
        if (owner.batches >= limits.maxInFlightPerUser)
          throw new HttpError(
            429,
            "TooManyRequests",
            `too many batches in flight for this user (maxInFlightPerUser ${limits.maxInFlightPerUser})`,
            retryAfter,
          );
        if (owner.batches === 0) perUser.set(authenticated.userId, owner);
        owner.batches++;
        user = owner;
        userId = authenticated.userId;
        userBatchesChanged(userId);
        inFlight--;
        holdsSlot = false;
        // The user's share first: past it the refusal is the user's own doing (429); past the
        // server's budget, everyone is refused alike (503).
        const refusal = (bytes: number): HttpError | null => {
          if (owner.bytes + bytes > limits.maxInFlightBytesPerUser) return userBytesFull();
          return bytesInFlight + bytes > limits.maxInFlightBytes ? serverBytesFull() : null;
        };
        const body = await readBody(req, {
          maxBytes: limits.maxBatchBytes,
          timeoutMs: limits.bodyReadTimeoutMs,
          budget: {
            check: refusal,
            take(bytes) {
              const refused = refusal(bytes);
              if (refused) return refused;
              owner.bytes += bytes;
              bytesInFlight += bytes;
              heldBytes += bytes;
              return null;
            },
          },
        });
        if (inFlight >= limits.maxInFlightBatches) throw tooManyBatches();
        inFlight++;
        holdsSlot = true;
        const request = parseIngestRequest(body, limits.maxBatchDocuments);
        const result = await validateAndStore(request, userId);
        if (result.status === "forbidden") throw new HttpError(403, "QueueOwnedByAnotherUser", "this queue id belongs to another user");
        if (result.status === "sequence_gap") {
          throw new HttpError(
            409,
            "SequenceGap",
            `ifAcknowledgedSeq ${request.ifAcknowledgedSeq} is above the queue's high-water mark ${result.acknowledgedSeq}: the batch before this one is not stored`,
          );
        }
        logger.log("debug", "batch stored", {
          queueId: request.queueId,
          documents: request.documents.length,
          rejected: result.rejected.length,
          acknowledgedSeq: result.acknowledgedSeq,
        });
        sendBson(
          res,
          serialize({
            acknowledgedSeq: Long.fromBigInt(result.acknowledgedSeq),
            rejected: result.rejected.map((r) => ({ seq: Long.fromBigInt(r.seq), table: r.table, code: r.code, reason: r.reason })),
          }),
        );
      } finally {
        if (holdsSlot) inFlight--;
        bytesInFlight -= heldBytes;
        // Both are set together, once the batch is counted for its user.
        if (user !== null && userId !== null) {
          user.bytes -= heldBytes;
          if (--user.batches === 0) perUser.delete(userId);
          userBatchesChanged(userId);
        }
      }
    },
  };
}
