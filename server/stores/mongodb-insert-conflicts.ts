/**
 * Reading a failed `insertMany` (unordered) of the MongoDB store: the only failure that is not an
 * error is "this `_id` is already stored" (E11000), which the store then judges as a retry or a
 * `duplicate_id`. Anything else, above all a write-concern failure (the write may not be durable,
 * so it must not be acknowledged and the high-water mark must not move), is thrown on.
 */
import type { MongoBulkWriteError } from "mongodb";

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
