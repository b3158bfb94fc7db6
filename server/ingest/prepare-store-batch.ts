/**
 * Turns a parsed batch into the store's entries: scans each document against its model (checking
 * it and writing its `_id` key's canonical Extended JSON in one pass), or records why it was rejected.
 */
import { maxDocumentBytes } from "asymgen/protocol";
import { MalformedBsonError } from "../bson/bson-cursor.js";
import { EjsonOutput } from "../ejson/ejson-output.js";
import { HttpError } from "../http/http-error.js";
import type { StoreBatch, StoreEntry } from "../stores/store-batch.js";
import type { SchemaScanners } from "../validate/scanned-document.js";
import type { ParsedIngestRequest } from "./parse-ingest-request.js";
import { ScannedEntry } from "./scanned-entry.js";

const maxReasonLength = 500;

// Reasons echo field names chosen by the client: keep them short and free of control characters
// (PostgreSQL text cannot hold NUL).
function cleanReason(reason: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = reason.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return clean.length > maxReasonLength ? `${clean.slice(0, maxReasonLength)}…` : clean;
}

/**
 * Builds the store batch. A table not in the schema makes the whole request a 400 (nothing is
 * written): that is a client built against another schema, not one bad document. Everything
 * wrong with one document is a verdict for that document, so the client can tell it from a
 * failed request: `invalid_document` (schema), `malformed_document` (damaged bytes or nesting
 * too deep inside an intact envelope), `document_too_large` (over `maxDocumentBytes`).
 */
export function prepareStoreBatch(request: ParsedIngestRequest, scanners: SchemaScanners, userId: string, arrivedAt: Date): StoreBatch {
  const entries: StoreEntry[] = [];
  // The batch's `_id` keys: 35 bytes for an ObjectId's `{"$oid":"…"}`, 64 for a UUID's; a long
  // string key needs more, and the output grows by copying when this is too little.
  const output = new EjsonOutput(Math.max(1024, request.documents.length * 64));
  const { body } = request;
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  for (const { seq, table, start, end } of request.documents) {
    const scan = scanners.get(table);
    if (!scan) {
      throw new HttpError(
        400,
        "UnknownTable",
        `unknown_table: "${cleanReason(table).slice(0, 100)}" is not an asymmetric model in this server's schema`,
      );
    }
    if (end - start > maxDocumentBytes) {
      entries.push({
        kind: "rejected",
        seq,
        table,
        code: "document_too_large",
        reason: `the document is ${end - start} bytes of BSON, over the limit of ${maxDocumentBytes}`,
      });
      continue;
    }
    let result;
    try {
      result = scan(body, start, output, view);
    } catch (error) {
      if (!(error instanceof MalformedBsonError)) throw error;
      entries.push({ kind: "rejected", seq, table, code: "malformed_document", reason: cleanReason(`damaged BSON: ${error.message}`) });
      continue;
    }
    if (!result.ok) {
      entries.push({ kind: "rejected", seq, table, code: "invalid_document", reason: cleanReason(`${result.path}: ${result.message}`) });
      continue;
    }
    entries.push(new ScannedEntry(seq, table, output, result, request.body, start, end));
  }
  return { queueId: request.queueId, ifAcknowledgedSeq: request.ifAcknowledgedSeq, userId, arrivedAt, entries, body: request.body };
}
