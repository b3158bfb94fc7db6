/**
 * The ingest wire protocol, shared by the client's sync session and the server's ingest route.
 *
 * `POST /api/client/v2.0/app/:appId/ingest`, `Authorization: Bearer <access token>`,
 * `Content-Type: application/bson`, body: an `IngestRequest` as one BSON document, where each
 * `doc` is the queued document embedded as-is (no re-encoding on the client).
 *
 * 200 answers `application/bson`: an `IngestResponse`. The server processes documents in order
 * in one store transaction: a document whose `seq` is at or below the queue's stored high-water
 * mark was handled before and is skipped (a retry); others are validated against the schema and
 * stored, or rejected with a verdict (the verdict is stored too, so a retry after a lost answer
 * reports it again); the high-water mark moves to the batch's highest `seq` in the same
 * transaction. An acknowledgement therefore means "in the database".
 *
 * Pipelining: a client may send the next batch before the answer to the one before it arrives,
 * with `ifAcknowledgedSeq` set to that earlier batch's last `seq`, to `pipelinedIngestPath`. The
 * server stores a gated batch only if the queue's high-water mark has reached the gate (checked
 * inside the store's transaction). If it has not, the server waits up to 500 ms for the user's
 * batches in flight (the batch before may still be arriving on another connection), then writes
 * nothing and answers 409 `SequenceGap`. So a later batch is never stored ahead of an earlier one
 * that failed, and the high-water mark never skips documents. A client gates only a batch that
 * directly follows one still in flight under the same queue id; a gated batch whose batch before
 * is not acknowledged in full (a failure, or a document the client then skips itself) is
 * abandoned and sent again ungated. The reference client keeps at most three batches of a queue
 * in flight (`PIPELINE_DEPTH` in upload-pipeline.ts), under the server's default limit of 8 per
 * user (`maxInFlightPerUser`, `defaultServerLimits` in server/create-server.ts), and pipelines
 * only full batches.
 *
 * Anything wrong with ONE document (schema mismatch, damaged bytes inside it, too large, a
 * duplicate `_id`) is a verdict in a 200 answer, never a non-200 status: so a client can always
 * tell "this document is bad" (report it, move on) from "this request failed" (keep the data).
 *
 * Every other answer is JSON `{ error, error_code }`, and nothing is written for it. The complete
 * list the ingest route answers, and what a client must do with each, is `ingestRefusals` below:
 * data, so the client's classifier (classify-ingest-answer.ts) derives its verdicts from the same
 * rows the server documents.
 *
 * A 4xx WITHOUT a JSON `{ error, error_code }` body did not come from this server's ingest route
 * (a proxy's 413 or 400, or Node's own 400 for an unparseable HTTP request): keep the data, back
 * off and retry, and report it; never split or skip documents on it. Rows marked `anySource`
 * hold whoever answered (a proxy's 503 with `Retry-After` is honoured too). Any other status:
 * keep the data, back off, retry.
 */
/** The path of the ingest route for an app. */
export function ingestPath(appId: string): string {
  return `/api/client/v2.0/app/${encodeURIComponent(appId)}/ingest`;
}

/**
 * Where a gated (pipelined) batch goes: the same route under a path that a server from before
 * the gate answers 404 to. Such a server would skip the unknown `ifAcknowledgedSeq` and store
 * the batch even when the batch before it failed, moving its high-water mark past documents it
 * never stored.
 */
export function pipelinedIngestPath(appId: string): string {
  return `${ingestPath(appId)}/pipelined`;
}

/** The request body. */
export interface IngestRequest {
  /** The client queue's id (UUID string): the key of the server's high-water mark. */
  queueId: string;
  /** Store this batch only if the queue's high-water mark is at least this (Int64); see "Pipelining". */
  ifAcknowledgedSeq?: number;
  documents: IngestDocument[];
}

/** One document in a batch. */
export interface IngestDocument {
  /** Sequence number in the client's queue (BSON Int64 on the wire). */
  seq: number;
  /** The model's persisted name. */
  table: string;
  doc: Record<string, unknown>;
}

/** The 200 answer. */
export interface IngestResponse {
  /** Everything up to and including this sequence is handled: stored or rejected (Int64). */
  acknowledgedSeq: number;
  /** The rejected documents of this batch (including verdicts replayed for a retry). */
  rejected: IngestRejection[];
}

/**
 * Why one document was not stored, machine-readable and stable:
 * - `invalid_document`: the document does not match its model's schema (the reason names the path);
 * - `malformed_document`: the document's own bytes are damaged (bad lengths, terminators, UTF-8,
 *   nesting deeper than `maxNestingDepth`) while the envelope around it is intact;
 * - `document_too_large`: more than `maxDocumentBytes` of BSON, or too large for the store (MongoDB's
 *   16 MiB limit applies to the document plus the store's small envelope);
 * - `duplicate_id`: a different document with this `_id` is already stored (an identical one is
 *   accepted silently);
 * - `rejected`: never sent by this server; what the client reads for a code it does not know (a
 *   newer server's) or a missing one, the server's code then leading the reason.
 * The client reports it and moves on; the document is never retried.
 */
export type IngestRejectionCode = "invalid_document" | "malformed_document" | "document_too_large" | "duplicate_id" | "rejected";

/** The rejection codes a server sends (every one of `IngestRejectionCode` but the client's own `rejected`). */
export type ServerRejectionCode = Exclude<IngestRejectionCode, "rejected">;

/** Why one document was not stored. */
export interface IngestRejection {
  seq: number;
  table: string;
  code: IngestRejectionCode;
  /** A sentence naming the path: `readings[2].value: expected a finite number`. */
  reason: string;
}

/** The largest document, in BSON bytes: MongoDB's limit, which the client's queue also enforces. */
export const maxDocumentBytes = 16 * 1024 * 1024;

/**
 * Room for the request envelope around one maximal document (`queueId`, `seq`, `table`, field
 * names and lengths) in the server's default body cap, so a batch of one maximal document is
 * always accepted. A client packing many documents into a batch must count each one's envelope
 * (about 40 bytes plus its table name) against `maxBatchBytes` too.
 */
export const batchEnvelopeAllowanceBytes = 64 * 1024;

/**
 * How deep a document may nest, counting the document itself as level 1 and each embedded
 * object, list or dictionary as one more: far beyond real models, and inside MongoDB's 100 levels
 * even with the store's envelope around the document.
 */
export const maxNestingDepth = 64;

/** Server limits a client should respect (the server answers 413 past them). */
export const defaultIngestLimits = {
  maxBatchDocuments: 1000,
  /** The whole request body, envelope included. */
  maxBatchBytes: maxDocumentBytes + batchEnvelopeAllowanceBytes,
} as const;

/** The `error_code` of each refusal the ingest route sends (the JSON body of a non-200 answer). */
export type IngestErrorCode =
  | "BadRequest"
  | "UnknownTable"
  | "InvalidSession"
  | "QueueOwnedByAnotherUser"
  | "AppNotFound"
  | "NotFound"
  | "SequenceGap"
  | "RequestTimeout"
  | "PayloadTooLarge"
  | "TooManyRequests"
  | "ServiceUnavailable"
  | "InternalServerError";

/**
 * What a client does with a refusal. Every one but `split` keeps the data:
 * - `retry`: report (once while it repeats), back off and retry: the server may be upgraded or
 *   reconfigured meanwhile;
 * - `refresh-and-retry`: refresh the access token once and retry; refused again, report and back
 *   off (the session may be gone: log in again);
 * - `new-queue-id`: the queue id belongs to another user: take a new id and re-send, or stop;
 * - `stop`: stop uploading and report (a configuration error): only the app can fix it;
 * - `resend-ungated`: send the batch again without its gate once the batch before is acknowledged;
 * - `retry-smaller`: the body was too slow to arrive: halve the batch, back off, retry;
 * - `split`: halve the batch; a batch of one document: reject that document (report it, skip it);
 * - `retry-after`: back off for `Retry-After` seconds (the backoff schedule when absent);
 * - `back-off`: back off and retry, without a report (a server fault).
 */
export type IngestRemedy =
  | "retry"
  | "refresh-and-retry"
  | "new-queue-id"
  | "stop"
  | "resend-ungated"
  | "retry-smaller"
  | "split"
  | "retry-after"
  | "back-off";

/** One row of the ingest route's status table. */
export interface IngestRefusal {
  readonly status: number;
  readonly errorCode: IngestErrorCode;
  /** When the server answers it. */
  readonly meaning: string;
  readonly remedy: IngestRemedy;
  /**
   * True when the remedy holds for this status whoever answered (a proxy's 503 or 408 too, JSON
   * body or not); false when only the ingest route's own `{ error, error_code }` answer means it.
   */
  readonly anySource: boolean;
}

/** The complete list of refusals the ingest route answers, and what a client must do with each. */
export const ingestRefusals: readonly IngestRefusal[] = [
  {
    status: 400,
    errorCode: "BadRequest",
    meaning:
      "the envelope is malformed (not one BSON document, `queueId` missing or not 1-128 of `[A-Za-z0-9._:-]`, `documents` not an array of `{seq, table, doc}`, `seq` not a positive Int64 strictly increasing)",
    remedy: "retry",
    anySource: false,
  },
  {
    status: 400,
    errorCode: "UnknownTable",
    meaning: "a `table` that is not an asymmetric model of the server's schema: a client built against another schema (the whole batch is refused)",
    remedy: "retry",
    anySource: false,
  },
  { status: 401, errorCode: "InvalidSession", meaning: "no, bad, expired or revoked access token", remedy: "refresh-and-retry", anySource: false },
  { status: 403, errorCode: "QueueOwnedByAnotherUser", meaning: "this `queueId` was first used by another user", remedy: "new-queue-id", anySource: false },
  { status: 404, errorCode: "AppNotFound", meaning: "wrong app id", remedy: "stop", anySource: false },
  { status: 404, errorCode: "NotFound", meaning: "wrong path (a server from before pipelining answers it to the pipelined path)", remedy: "stop", anySource: false },
  {
    status: 409,
    errorCode: "SequenceGap",
    meaning: "the batch's `ifAcknowledgedSeq` is above the queue's high-water mark, after the wait: the batch it was pipelined behind is not stored",
    remedy: "resend-ungated",
    anySource: false,
  },
  { status: 408, errorCode: "RequestTimeout", meaning: "the body did not arrive within the server's body-read timeout (30 s by default)", remedy: "retry-smaller", anySource: true },
  { status: 413, errorCode: "PayloadTooLarge", meaning: "more than `maxBatchDocuments` documents or `maxBatchBytes` bytes of body", remedy: "split", anySource: false },
  { status: 429, errorCode: "TooManyRequests", meaning: "this user already has its limit of batches (8 by default) or body bytes in flight", remedy: "retry-after", anySource: true },
  { status: 503, errorCode: "ServiceUnavailable", meaning: "the server is busy (too many batches or body bytes in flight) or shutting down", remedy: "retry-after", anySource: true },
  { status: 500, errorCode: "InternalServerError", meaning: "a server fault", remedy: "back-off", anySource: true },
];

