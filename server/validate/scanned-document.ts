/**
 * What scanning a document produces: where its `_id` value's canonical Extended JSON was written,
 * or why it does not match its schema; and the scanners' own types.
 */
import type { BufferSlicers } from "../bson/buffer-slicers.js";
import type { EjsonOutput } from "../ejson/ejson-output.js";


/** Why a document does not match its schema: the path (persisted names) and what went wrong. */
export interface ValidationFailure {
  ok: false;
  path: string;
  message: string;
}

/** A document that matches its schema: where its `_id` text is in the EjsonOutput it was scanned into. */
export interface ScannedDocument {
  ok: true;
  /** The canonical Extended JSON of its `_id` value: bytes `[idStart, idEnd)` of the output (-1 when it has none). */
  idStart: number;
  idEnd: number;
  /** The text is all ASCII (latin1 decodes it, faster than UTF-8). */
  ascii: boolean;
  /** The `_id` is an Int32: its key is the Int64 it widens to, so both spell one key (see scannedIdKey). */
  widenId: boolean;
}

/**
 * Scans the document whose bytes start at `start` in `buf` (its length prefix bounds it), appending
 * its `_id` text to `output`. `view`: a DataView over exactly `buf`'s bytes (its buffer, offset and
 * length: field names are compared through it), made once for a batch's documents
 * (making one per document cost more than the four-byte name comparisons it serves save).
 */
export type DocumentScanner = (buf: Buffer, start: number, output: EjsonOutput, view?: DataView) => ScannedDocument | ValidationFailure;

/** A scanned document's `_id` key (Int32 widened to Int64): what the stores need of its text (they keep the BSON). */
export function scannedIdKey(output: EjsonOutput, doc: ScannedDocument): string {
  // ASCII through Buffer's own slicer: toString's argument checks cost more than the slice of a short key.
  const idKey = doc.ascii
    ? (output.buf as unknown as BufferSlicers).latin1Slice(doc.idStart, doc.idEnd)
    : output.buf.toString("utf8", doc.idStart, doc.idEnd);
  return doc.widenId ? idKey.replace('{"$numberInt":', '{"$numberLong":') : idKey;
}

/** The compiled scanners of every asymmetric model, keyed by persisted model name. */
export type SchemaScanners = ReadonlyMap<string, DocumentScanner>;
