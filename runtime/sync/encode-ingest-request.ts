/**
 * Builds an ingest request body: the queued BSON documents are embedded byte for byte, never
 * decoded and re-encoded.
 */
import { BsonWriter, encodeStringValue, indexKey, keyBytes } from "../encode/bson-writer.js";
import type { QueuedDocument } from "../queue/upload-source.js";
import { utf8ByteLength } from "./utf8-byte-length.js";

/**
 * Bytes of the request around its documents: the root's length and terminator, the `queueId`
 * element less the id's own bytes, and the `documents` array's header and terminator.
 */
const REQUEST_OVERHEAD_BYTES = 4 + (1 + 8 + 4 + 1) + (1 + 10 + 4 + 1) + 1;
/**
 * Bytes of one array entry less its index key, table name and document: the entry's type byte
 * and key terminator, its length and terminator, `seq` (Int64), `table` (string header and
 * terminator) and `doc` (element header; the document carries its own length).
 */
const ENTRY_OVERHEAD_BYTES = 1 + 1 + 4 + 1 + (1 + 4 + 8) + (1 + 6 + 4 + 1) + (1 + 4);

/** Bytes of the optional `ifAcknowledgedSeq` element: type byte, name and NUL, Int64. */
const GATE_BYTES = 1 + "ifAcknowledgedSeq".length + 1 + 8;

// Pre-encoded keys and table names: the writer reserves exactly their bytes. For a string it
// reserves room for the worst case (three bytes a character), which at the last document of a
// batch could go past the exact size and double the whole request's buffer.
const SEQ_KEY = keyBytes("seq");
const TABLE_KEY = keyBytes("table");
const DOC_KEY = keyBytes("doc");

/** The exact size of the request for `queueId` before any document is added, with or without a gate. */
export function measureIngestRequestBase(queueId: string, gated: boolean): number {
  return REQUEST_OVERHEAD_BYTES + utf8ByteLength(queueId) + (gated ? GATE_BYTES : 0);
}

/** The exact bytes `document` adds to a request as entry number `index`. */
export function measureIngestEntry(document: QueuedDocument, index: number): number {
  return ENTRY_OVERHEAD_BYTES + decimalDigits(index) + utf8ByteLength(document.table) + document.bson.length;
}

/**
 * The longest prefix of `documents` whose request fits in `maxBytes` (always at least one
 * document: a single one that does not fit is the server's to refuse). Room is kept for a gate,
 * so the batch fits whether or not it is sent pipelined.
 */
export function fitIngestRequest(queueId: string, documents: QueuedDocument[], maxBytes: number): QueuedDocument[] {
  let total = measureIngestRequestBase(queueId, true);
  for (let i = 0; i < documents.length; i++) {
    total += measureIngestEntry(documents[i]!, i);
    if (total > maxBytes && i > 0) return documents.slice(0, i);
  }
  return documents;
}

/**
 * The `IngestRequest` for `documents` as one BSON document; with `ifAcknowledgedSeq`, a gated
 * (pipelined) one. Written into `into(size)` when given (a reused buffer of at least `size`
 * bytes, request-body-pool.ts), else into a new buffer of exactly its size; the result is a view
 * of its first `size` bytes.
 */
export function encodeIngestRequest(
  queueId: string,
  documents: readonly QueuedDocument[],
  ifAcknowledgedSeq?: number,
  into?: (size: number) => ArrayBuffer,
): Uint8Array {
  let size = measureIngestRequestBase(queueId, ifAcknowledgedSeq !== undefined);
  for (let i = 0; i < documents.length; i++) size += measureIngestEntry(documents[i]!, i);
  // Sized exactly up front so the writer never grows; the result is a view of the writer's own buffer.
  let writer: BsonWriter;
  if (into === undefined) {
    writer = new BsonWriter(size);
  } else {
    writer = new BsonWriter(16);
    writer.adopt(into(size));
  }
  const root = writer.startDocument();
  writer.string("queueId", queueId);
  if (ifAcknowledgedSeq !== undefined) writer.int64("ifAcknowledgedSeq", ifAcknowledgedSeq);
  const list = writer.startArray("documents");
  // A batch names few tables: each is encoded once.
  const tables = new Map<string, Uint8Array>();
  for (let i = 0; i < documents.length; i++) {
    const document = documents[i]!;
    let table = tables.get(document.table);
    if (table === undefined) tables.set(document.table, (table = encodeStringValue(document.table)));
    const entry = writer.openObject(indexKey(i));
    writer.putInt64(SEQ_KEY, document.seq);
    writer.putEncodedString(TABLE_KEY, table);
    writer.rawDocument(DOC_KEY, document.bson);
    writer.endDocument(entry);
  }
  writer.endDocument(list);
  writer.endDocument(root);
  return writer.subarray();
}

function decimalDigits(n: number): number {
  return n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10_000 ? 4 : String(n).length;
}
