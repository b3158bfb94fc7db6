/**
 * Reading a failed `insertMany` (unordered) of the MongoDB store: the only failure that is not an
 * error is "this `_id` is already stored" (E11000), which the store then judges as a retry or a
 * `duplicate_id`. Anything else, above all a write-concern failure (the write may not be durable,
 * so it must not be acknowledged and the high-water mark must not move), is thrown on. Then the
 * judgement of such a conflict against the stored document's exact bytes.
 */
import type { MongoBulkWriteError } from "mongodb";
import type { Delivery } from "./mongodb-deliveries.js";
import { restoreIdPosition } from "./mongodb-document.js";
import { judgeConflict } from "./plan-batch.js";
import type { StoreDocumentEntry, StoreRejection } from "./store-batch.js";

const duplicateKeyCode = 11000;

/**
 * The entries whose insert failed only on a duplicate `_id`; rethrows `error` for any other failure.
 * `bulkWriteError` is the driver's class (the driver is loaded only when a MongoDB store opens).
 */
export function conflictsOfInsertError<T>(error: unknown, entries: readonly T[], bulkWriteError: typeof MongoBulkWriteError): T[] {
  if (!(error instanceof bulkWriteError)) throw error;
  const withConcern = error as MongoBulkWriteError & { writeConcernError?: unknown };
  if (withConcern.err !== undefined || withConcern.writeConcernError != null || error.result?.getWriteConcernError?.() != null) throw error;
  const writeErrors = Array.isArray(error.writeErrors) ? error.writeErrors : error.writeErrors ? [error.writeErrors] : [];
  if (writeErrors.length === 0) throw error;
  const conflicts: T[] = [];
  for (const writeError of writeErrors) {
    if (writeError.code !== duplicateKeyCode) throw error;
    const entry = entries[writeError.index];
    if (entry === undefined) throw error;
    conflicts.push(entry);
  }
  return conflicts;
}

/** What to do about a document whose insert met a stored `_id`. */
export interface StoredConflictOutcome {
  /** `duplicate_id` when the stored document is another one; null when it is this one (a retry). */
  verdict: StoreRejection | null;
  /** Write this entry's delivery record: the same document is stored, but its record is not. */
  writeDelivery: boolean;
}

/**
 * Judges `entry` against the document stored under its `_id`: `stored` is MongoDB's raw bytes
 * (`_id` moved first; null: gone since), `delivery` that document's record (null: none). The `_id`
 * goes back to the place its record names. With no record: when this batch stored that document
 * (`batchIdPosition`: its `_id` place; its record is written after the conflicts), that place;
 * else a crash came between an earlier try's documents and records, so the stored document came
 * from this entry's batch, and the entry's own `_id` place (`idPosition`) is the one to restore.
 */
export function judgeStoredConflict(
  entry: StoreDocumentEntry,
  idPosition: number,
  stored: Uint8Array | null,
  delivery: Delivery | null,
  batchIdPosition?: number,
): StoredConflictOutcome {
  if (stored === null) return { verdict: judgeConflict(entry, undefined), writeDelivery: false };
  const position = delivery?.idPosition ?? batchIdPosition ?? idPosition;
  const verdict = judgeConflict(entry, restoreIdPosition(stored, position));
  return { verdict, writeDelivery: verdict === null && delivery === null && batchIdPosition === undefined };
}
