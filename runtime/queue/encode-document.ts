/**
 * Encodes one document at the end of a transaction's writer, the one way both Realms do (Node's
 * transaction buffer, the browser page's transaction): what a failed or refused document wrote is
 * cut back, so the transaction stays usable and holds nothing of it.
 */
import type { BsonWriter } from "../encode/bson-writer.js";
import { AsymgenError, DocumentTooLargeError } from "../errors.js";
import { MAX_DOCUMENT_BYTES } from "./queue-format.js";

/**
 * Appends `value` of `table` with `encode` and returns the offset it starts at. Throws what the
 * encoder threw (a bad value), `DocumentTooLargeError` over 16 MiB, or an `AsymgenError` when the
 * encoder wrote no BSON document at all, with the writer back at its length before the call.
 */
export function encodeDocument<T>(writer: BsonWriter, table: string, encode: (writer: BsonWriter, value: T) => void, value: T): number {
  const start = writer.length;
  try {
    encode(writer, value);
  } catch (error) {
    writer.truncate(start);
    throw error;
  }
  const size = writer.length - start;
  if (size > MAX_DOCUMENT_BYTES) {
    writer.truncate(start);
    throw new DocumentTooLargeError(table, size, MAX_DOCUMENT_BYTES);
  }
  if (size < 5) {
    writer.truncate(start);
    throw new AsymgenError(`the encoder of "${table}" did not write a BSON document (${size} bytes written)`);
  }
  return start;
}
