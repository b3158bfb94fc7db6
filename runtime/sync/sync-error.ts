/**
 * The errors a sync session reports through `onError`.
 */
import { AsymgenError } from "../errors.js";
import type { IngestErrorCode, IngestRejectionCode } from "./ingest-protocol.js";

/**
 * Every `SyncError.code` the session reports:
 * - refusals by the server, the data kept and retried: `bad_request`, `unknown_table`,
 *   `invalid_session` (a fresh access token refused), `refused` (another 4xx of the ingest route),
 *   `unexpected_response` (a refusal that did not come from the ingest route: a proxy's);
 * - refusals that stop the session until `resume()`: `forbidden`, `app_not_found`,
 *   `queue_owned_by_another_user`;
 * - `queue_id_rotated`: the queue took a new id after a 403 QueueOwnedByAnotherUser (a notice);
 * - `bad_response`: a 200 answer that is not a valid `IngestResponse`, or acknowledges nothing;
 * - the queue: `queue_failed` (unreadable, or it could not sync or rotate), `acknowledge_failed`
 *   (the cursor could not be written; the upload goes on);
 * - `uploadAllLocalChanges`: `timeout`, `session_closed`;
 * - `bad_configuration` (`openSyncSession` without `flexible: true`), `document_rejected`
 *   (`DocumentRejectedError`), `not_sent` (internal: a request abandoned before it left).
 */
export type SyncErrorCode =
  | "bad_request"
  | "unknown_table"
  | "invalid_session"
  | "refused"
  | "unexpected_response"
  | "forbidden"
  | "app_not_found"
  | "queue_owned_by_another_user"
  | "queue_id_rotated"
  | "bad_response"
  | "queue_failed"
  | "acknowledge_failed"
  | "timeout"
  | "session_closed"
  | "bad_configuration"
  | "document_rejected"
  | "not_sent";

/** A sync problem; `code` is stable and machine-readable. */
export class SyncError extends AsymgenError {
  override name = "SyncError";
  constructor(
    message: string,
    /** Stable and machine-readable: see `SyncErrorCode`. */
    readonly code: SyncErrorCode,
    /** The HTTP status that caused it, when one did. */
    readonly statusCode?: number,
    /**
     * The ingest route's `error_code` (`UnknownTable`, `BadRequest`…), when it sent one. A string:
     * a newer server may send a code this client does not know.
     */
    readonly serverCode?: IngestErrorCode | (string & {}),
  ) {
    super(message);
  }
}

/**
 * The server (or the client, for a document too large to send) refused one document: it is
 * acknowledged as handled and never sent again; the documents behind it carry on.
 */
export class DocumentRejectedError extends SyncError {
  override name = "DocumentRejectedError";
  constructor(
    /** The document's sequence number in the queue. */
    readonly seq: number,
    /** The model's persisted name. */
    readonly table: string,
    /** Why: `invalid_document`, `malformed_document`, `document_too_large`, `duplicate_id` (see ingest-protocol.ts). */
    readonly reasonCode: IngestRejectionCode,
    /** The server's sentence naming the path, e.g. `readings[2].value: expected a finite number`. */
    readonly reason: string,
  ) {
    super(`document ${seq} (${table}) rejected: ${reason}`, "document_rejected");
  }
}
