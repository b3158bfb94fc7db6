/**
 * `POST /api/client/v2.0/app/:appId/ingest`: authenticate, read and parse the BSON batch,
 * validate, commit to the store, then answer. The answer is sent only after the commit, so an
 * acknowledgement means "in the database".
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Long, serialize } from "bson";
import type { AuthService } from "../auth/auth-service.js";
import { HttpError } from "../http/http-error.js";
import { readBody } from "../http/read-body.js";
import { sendBson } from "../http/respond.js";
import { parseIngestRequest } from "../ingest/parse-ingest-request.js";
import { prepareStoreBatch } from "../ingest/prepare-store-batch.js";
import type { Logger } from "../logger.js";
import type { IngestStore } from "../stores/store.js";
import type { SchemaScanners } from "../validate/compile-bson-scanners.js";

/** Limits of the ingest route. */
export interface IngestLimits {
  maxBatchDocuments: number;
  maxBatchBytes: number;
  /** Batches processed at once; more are turned away with 503 + Retry-After. */
  maxInFlightBatches: number;
}

/** What the route needs. */
export interface IngestRouteContext {
  store: IngestStore;
  auth: AuthService;
  validators: SchemaScanners;
  limits: IngestLimits;
  logger: Logger;
  /** Test-only crash injection (see createIngestServer). */
  fault: { point: "before-commit" | "after-commit"; afterBatches: number } | null;
  /** Test-only: a pause before each commit, so a test can act while a batch is in flight. */
  commitDelayMs: number;
}

/** The ingest handler and its in-flight gauge (for graceful shutdown). */
export interface IngestRoute {
  handle(req: IncomingMessage, res: ServerResponse, bearer: string | null): Promise<void>;
  inFlight(): number;
}

/** Creates the ingest route. */
export function createIngestRoute(context: IngestRouteContext): IngestRoute {
  const { store, auth, validators, limits, logger, fault, commitDelayMs } = context;
  let inFlight = 0;
  let batches = 0;

  return {
    inFlight: () => inFlight,
    async handle(req, res, bearer) {
      if (inFlight >= limits.maxInFlightBatches)
        throw new HttpError(503, "ServiceUnavailable", "server busy: too many batches in flight", { "retry-after": "1" });
      inFlight++;
      try {
        if (bearer === null) throw new HttpError(401, "InvalidSession", "must authenticate first");
        const user = await auth.authenticate(bearer);
        const body = await readBody(req, limits.maxBatchBytes);
        const request = parseIngestRequest(body, limits.maxBatchDocuments);
        const batch = prepareStoreBatch(request, validators, user.userId, new Date());
        const batchNumber = ++batches;
        logger.log("debug", "batch received", { queueId: request.queueId, documents: request.documents.length, batch: batchNumber });
        if (commitDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, commitDelayMs));
        // Test-only fault injection: the process dies exactly at the chosen point of the N-th batch.
        if (fault && fault.point === "before-commit" && batchNumber === fault.afterBatches) process.kill(process.pid, "SIGKILL");
        const result = await store.ingest(batch);
        if (fault && fault.point === "after-commit" && batchNumber === fault.afterBatches) process.kill(process.pid, "SIGKILL");
        if (result.status === "forbidden") throw new HttpError(403, "QueueOwnedByAnotherUser", "this queue id belongs to another user");
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
        inFlight--;
      }
    },
  };
}
