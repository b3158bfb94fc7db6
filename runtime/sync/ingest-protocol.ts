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
 * stored, or rejected with a reason (the verdict is stored too, so a retry after a lost answer
 * reports it again); the high-water mark moves to the batch's highest `seq` in the same
 * transaction. An acknowledgement therefore means "in the database".
 *
 * Errors answer JSON `{ error, error_code }`: 400 malformed, 401 token, 403 queue owned by
 * another user, 404 unknown app id, 413 batch too large (the client splits), 429/503 with
 * Retry-After (the client backs off), 5xx (the client retries). Nothing is written for them.
 */

/** The path of the ingest route for an app. */
export function ingestPath(appId: string): string {
  return `/api/client/v2.0/app/${encodeURIComponent(appId)}/ingest`;
}

/** The request body. */
export interface IngestRequest {
  /** The client queue's id (UUID string): the key of the server's high-water mark. */
  queueId: string;
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
  /** A stable machine-readable code: `invalid_document`, `unknown_table`, `duplicate_id`. */
  code: string;
  /** A sentence naming the path: `readings[2].value: expected a finite number`. */
  reason: string;
}

/** Server limits a client should respect (the server answers 413 past them). */
export const defaultIngestLimits = {
  maxBatchDocuments: 1000,
  maxBatchBytes: 16 * 1024 * 1024,
} as const;
