/**
 * Turns a parsed batch into the store's entries: validates each document against its model,
 * computes its canonical key and Extended JSON, or records why it was rejected.
 */
import { Long } from "bson";
import { HttpError } from "../http/http-error.js";
import type { StoreBatch, StoreEntry } from "../stores/store.js";
import type { SchemaValidators } from "../validate/compile-schema-validators.js";
import type { ParsedIngestRequest } from "./parse-ingest-request.js";
import { writeCanonicalEjson } from "./write-canonical-ejson.js";

const maxReasonLength = 500;

/** The canonical text of an `_id` value: EJSON (canonical mode), Int32 widened to Int64 first. */
export function canonicalIdKey(id: unknown): string {
  return writeCanonicalEjson(widenId(id));
}

/** An `_id` with Int32 widened to Int64, so the same integer key is the same key however sent. */
export function widenId(id: unknown): unknown {
  if (typeof id === "object" && id !== null && (id as { _bsontype?: string })._bsontype === "Int32")
    return Long.fromNumber((id as { value: number }).value);
  return id;
}

/** A document as canonical Extended JSON: the lossless text the SQL stores keep. */
export function toCanonicalEjson(doc: Record<string, unknown>): string {
  return writeCanonicalEjson(doc);
}

// Reasons echo field names chosen by the client: keep them short and free of control characters
// (PostgreSQL text cannot hold NUL).
function cleanReason(reason: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = reason.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return clean.length > maxReasonLength ? `${clean.slice(0, maxReasonLength)}…` : clean;
}

/**
 * Builds the store batch. A table not in the schema makes the whole request a 400 (nothing is
 * written): that is a client built against another schema, not one bad document.
 */
export function prepareStoreBatch(request: ParsedIngestRequest, validators: SchemaValidators, userId: string, arrivedAt: Date): StoreBatch {
  const entries: StoreEntry[] = [];
  for (const { seq, table, doc } of request.documents) {
    const validate = validators.get(table);
    if (!validate)
      throw new HttpError(
        400,
        "UnknownTable",
        `unknown_table: "${cleanReason(table).slice(0, 100)}" is not an asymmetric model in this server's schema`,
      );
    const failure = validate(doc);
    if (failure) {
      entries.push({ kind: "rejected", seq, table, code: "invalid_document", reason: cleanReason(`${failure.path}: ${failure.message}`) });
      continue;
    }
    const id = widenId(doc["_id"]);
    entries.push({ kind: "document", seq, table, id, idKey: canonicalIdKey(id), doc, ejson: toCanonicalEjson(doc) });
  }
  return { queueId: request.queueId, userId, arrivedAt, entries };
}
