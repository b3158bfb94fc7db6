/**
 * Builds an ingest request body: the queued BSON documents are embedded byte for byte, never
 * decoded and re-encoded.
 */
import { BsonWriter, arrayKey } from "../encode/bson-writer.js";
import type { QueuedDocument } from "../queue/upload-source.js";

// Per-document envelope: keys, seq (Int64), table string, element headers; generous on purpose.
const ENVELOPE_BYTES = 64;

/** The `IngestRequest` for `documents` as one BSON document. */
export function encodeIngestRequest(queueId: string, documents: readonly QueuedDocument[]): Uint8Array {
  let estimate = 128 + queueId.length;
  for (const document of documents) estimate += document.bson.length + document.table.length * 3 + ENVELOPE_BYTES;
  // Sized up front so the writer never grows; the result is a view of the writer's own buffer.
  const writer = new BsonWriter(estimate);
  const root = writer.startDocument();
  writer.string("queueId", queueId);
  const list = writer.startArray("documents");
  for (let i = 0; i < documents.length; i++) {
    const document = documents[i]!;
    const entry = writer.startObject(arrayKey(i));
    writer.int64("seq", document.seq);
    writer.string("table", document.table);
    writer.rawDocument("doc", document.bson);
    writer.endDocument(entry);
  }
  writer.endDocument(list);
  writer.endDocument(root);
  return writer.subarray();
}
