/**
 * How the MongoDB store wraps a document: `{ _id, doc, userId, arrivedAt, queueId, seq }`, where
 * `doc` is the document exactly as received (field order and numeric types kept) and `_id` its
 * key repeated, with Int32 widened to Int64 so both spellings of one integer key collide.
 *
 * MongoDB refuses documents over 16 MiB, and the envelope adds its fields (and a second copy of
 * the `_id`) to the client's document, which may itself be up to 16 MiB: such a document gets a
 * `document_too_large` verdict instead of failing the whole batch.
 */
import { calculateObjectSize, deserialize, Long } from "bson";
import type { Document } from "mongodb";
import type { StoreDocumentEntry, StoreRejection } from "./store-batch.js";

/** MongoDB's largest document (BSONObjMaxUserSize). */
export const mongoMaxDocumentBytes = 16 * 1024 * 1024;

/** The batch-wide fields of every envelope. */
export interface EnvelopeMeta {
  userId: string;
  arrivedAt: Date;
  queueId: string;
}

// Read documents back with BSON's numeric types kept (Int32 vs Double), as the server received them.
const rawValues = { promoteValues: false } as const;

/** An `_id` with Int32 widened to Int64, so the same integer key is the same key however sent. */
function widenId(id: unknown): unknown {
  if (typeof id === "object" && id !== null && (id as { _bsontype?: string })._bsontype === "Int32")
    return Long.fromNumber((id as { value: number }).value);
  return id;
}

/** The envelope of `entry`, ready for `insertMany`. */
export function buildMongoEnvelope(entry: StoreDocumentEntry, meta: EnvelopeMeta): Document {
  const doc = deserialize(entry.bson, rawValues);
  return {
    _id: widenId(doc["_id"]),
    doc,
    userId: meta.userId,
    arrivedAt: meta.arrivedAt,
    queueId: meta.queueId,
    seq: Long.fromBigInt(entry.seq),
  };
}

/** The `document_too_large` verdict when `entry`'s envelope would exceed MongoDB's limit, else null. */
export function checkMongoEnvelopeSize(entry: StoreDocumentEntry, meta: EnvelopeMeta): StoreRejection | null {
  // The envelope is the document plus fixed fields (a few hundred bytes with a 128-byte queue id)
  // plus the `_id` again, which is part of the document: at most twice the document plus 4 KiB.
  // Only documents that could come near the limit are measured exactly.
  if (2 * entry.bson.length + 4096 < mongoMaxDocumentBytes) return null;
  // The envelope with an empty `doc` (5 bytes) measures everything but the document itself.
  const envelope = { ...buildMongoEnvelope(entry, meta), doc: {} };
  const envelopeBytes = calculateObjectSize(envelope) - 5 + entry.bson.length;
  // The driver refuses a document of exactly the limit too (`>=`).
  if (envelopeBytes < mongoMaxDocumentBytes) return null;
  return {
    seq: entry.seq,
    table: entry.table,
    code: "document_too_large",
    reason: `the document is ${entry.bson.length} bytes of BSON; with the store's envelope it would be ${envelopeBytes}, over MongoDB's limit of ${mongoMaxDocumentBytes}`,
  };
}
