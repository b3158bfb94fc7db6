/**
 * The errors a sync session reports through `onError`.
 */
import { AsymgenError } from "../errors.js";

/** A sync problem; `code` is stable and machine-readable. */
export class SyncError extends AsymgenError {
  override name = "SyncError";
  constructor(
    message: string,
    /**
     * e.g. `timeout`, `session_closed`, `bad_request`, `unknown_table`, `unexpected_response`
     * (a refusal that did not come from the ingest route: a proxy's), `queue_owned_by_another_user`,
     * `forbidden`, `app_not_found`, `bad_response`, `acknowledge_failed`, `queue_failed`.
     */
    readonly code: string,
    /** The HTTP status that caused it, when one did. */
    readonly statusCode?: number,
    /** The ingest route's `error_code` (`UnknownTable`, `BadRequest`…), when it sent one. */
    readonly serverCode?: string,
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
    readonly reasonCode: string,
    /** The server's sentence naming the path, e.g. `readings[2].value: expected a finite number`. */
    readonly reason: string,
  ) {
    super(`document ${seq} (${table}) rejected: ${reason}`, "document_rejected");
  }
}
