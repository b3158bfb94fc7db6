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
 * in flight (`PIPELINE_DEPTH` in sync-session.ts), under the server's default limit of eight per
 * user, and pipelines only full batches.
 *
 * Anything wrong with ONE document (schema mismatch, damaged bytes inside it, too large, a
 * duplicate `_id`) is a verdict in a 200 answer, never a non-200 status: so a client can always
 * tell "this document is bad" (report it, move on) from "this request failed" (keep the data).
 *
 * Every other answer is JSON `{ error, error_code }`, and nothing is written for it. The complete
 * list the ingest route answers, and what a client must do with each:
 *
 * | status | error_code | meaning | the client |
 * |---|---|---|---|
 * | 400 | `BadRequest` | the envelope is malformed (not one BSON document, `queueId` missing or not 1-128 of `[A-Za-z0-9._:-]`, `documents` not an array of `{seq, table, doc}`, `seq` not a positive Int64 strictly increasing) | keep the data, report, back off and retry (a newer server may accept it) |
 * | 400 | `UnknownTable` | a `table` that is not an asymmetric model of the server's schema: a client built against another schema (the whole batch is refused) | keep the data, report, back off and retry (the server may be upgraded later) |
 * | 401 | `InvalidSession` | no, bad, expired or revoked access token | refresh the access token once and retry; if it fails again, back off (the session may be gone: log in again) |
 * | 403 | `QueueOwnedByAnotherUser` | this `queueId` was first used by another user | keep the data, stop uploading and report: the queue uploads only as the user who owns it |
 * | 404 | `AppNotFound`, `NotFound` | wrong app id or path | keep the data, stop uploading and report (a configuration error) |
 * | 409 | `SequenceGap` | the batch's `ifAcknowledgedSeq` is above the queue's high-water mark, after the wait: the batch it was pipelined behind is not stored | send it again, without the gate, once the batch before it is acknowledged |
 * | 408 | `RequestTimeout` | the body did not arrive within the server's body-read timeout (30 s by default) | keep the data, back off and retry |
 * | 413 | `PayloadTooLarge` | more than `maxBatchDocuments` documents or `maxBatchBytes` bytes of body | split the batch; a batch of ONE document still 413 with this JSON body: reject that document (report it, skip it) |
 * | 429 | `TooManyRequests` | this user already has its limit of batches in flight (8 by default) | back off for `Retry-After` seconds |
 * | 503 | `ServiceUnavailable` | the server is busy (too many batches or body bytes in flight) or shutting down | back off for `Retry-After` seconds |
 * | 500 | `InternalServerError` | a server fault | keep the data, back off and retry |
 *
 * A 4xx WITHOUT a JSON `{ error, error_code }` body did not come from this server's ingest route
 * (a proxy's 413 or 400, or Node's own 400 for an unparseable HTTP request): keep the data, back
 * off and retry, and report it; never split or skip documents on it. Any other status: keep the
 * data, back off, retry.
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

/** Why one document was not stored. */
export interface IngestRejection {
  seq: number;
  table: string;
  /**
   * A stable machine-readable code:
   * - `invalid_document`: the document does not match its model's schema (the reason names the path);
   * - `malformed_document`: the document's own bytes are damaged (bad lengths, terminators, UTF-8,
   *   nesting deeper than `maxNestingDepth`) while the envelope around it is intact;
   * - `document_too_large`: more than `maxDocumentBytes` of BSON, or too large for the store (MongoDB's
   *   16 MiB limit applies to the document plus the store's small envelope);
   * - `duplicate_id`: a different document with this `_id` is already stored (an identical one is
   *   accepted silently).
   * The client reports it and moves on; the document is never retried.
   */
  code: string;
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
