/**
 * How the MongoDB store hands a document to the driver and gets the exact bytes back. The Node
 * driver takes JavaScript values, not BSON bytes, so every document is deserialised once and the
 * driver serialises it again; this module makes that round trip exact:
 * - numeric types are kept (`promoteValues: false`: an Int32 stays an Int32, 5.0 a Double);
 * - a plain JavaScript object moves integer-like keys ("7", "10") first and `bson` turns
 *   `{$ref, $id}` into a DBRef, so a document holding such keys (a dictionary's, a mixed object's)
 *   is built as Maps instead, which `bson` serialises in insertion order (the common document has
 *   none and takes the fast path);
 * - MongoDB itself moves a top-level `_id` to the front of the stored document: the `_id`'s place
 *   among the top-level fields is recorded (`idPositionOf`, kept in the delivery record only when
 *   it is not 0) and `restoreIdPosition` moves it back when the document is read.
 */
import { DBRef, deserialize } from "bson";
import type { Document } from "mongodb";
import { readBsonDocument } from "../tables/bson-tree.js";
import { readTopLevelElements } from "../tables/top-level-elements.js";
import type { BsonContainer, BsonNode } from "../tables/bson-tree.js";
import type { StoreDocumentEntry, StoreRejection } from "./store-batch.js";

/** MongoDB's largest document (BSONObjMaxUserSize); the driver refuses one of exactly this size too. */
export const mongoMaxDocumentBytes = 16 * 1024 * 1024;

// Every BSON type kept as sent: wrappers for Int32/Double/Long, Binary for bytes, BSONRegExp.
const keepTypes = { promoteValues: false, promoteLongs: false, promoteBuffers: false, bsonRegExp: true } as const;

/** A document ready for `insertMany`, with its `_id` value (for lookups) and the `_id`'s top-level position. */
export interface MongoDocument {
  readonly document: Document;
  /** The document's `_id` as the driver gives it (undefined: the document has none). */
  readonly id: unknown;
  /** The `_id`'s index among the top-level fields as received (0: first, MongoDB keeps it there). */
  readonly idPosition: number;
}

/** Whether a key would not keep its place (or its meaning) in a plain object that `bson` serialises. */
function isMovableKey(key: string): boolean {
  const first = key.charCodeAt(0);
  // Digits: integer-like keys go first in a JS object. "$": `$ref`/`$id`/`$db` make a DBRef.
  return (first >= 0x30 && first <= 0x39) || first === 0x24 || key === "__proto__";
}

/** Whether a deserialised value holds a document that a plain object cannot give back in order. */
function needsOrderedBuild(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (Array.isArray(value)) return value.some(needsOrderedBuild);
  if (value instanceof DBRef) return true;
  // A BSON wrapper (Int32, Long, ObjectId, Binary…) is a leaf.
  if ((value as { _bsontype?: unknown })._bsontype !== undefined) return false;
  if (value instanceof Date) return false;
  for (const key in value) {
    if (isMovableKey(key)) return true;
    if (needsOrderedBuild((value as Record<string, unknown>)[key])) return true;
  }
  return false;
}

/** A document or array of the tree as Maps and arrays, elements in byte order. */
function buildOrdered(node: BsonNode): unknown {
  if (node.kind === "scalar") return node.value;
  // 0x04: a BSON array.
  if (node.type === 0x04) return node.entries.map(([, child]) => buildOrdered(child));
  return new Map(node.entries.map(([key, child]) => [key, buildOrdered(child)]));
}

/** The top-level document as a Map in byte order; `_id` also as an own property, which the driver reads to decide whether to add one. */
function buildOrderedDocument(tree: BsonContainer): Document {
  const map = buildOrdered(tree) as Map<string, unknown>;
  // `bson` serialises a Map's entries only, so this property is never written.
  if (map.has("_id")) Object.defineProperty(map, "_id", { value: map.get("_id"), enumerable: false });
  return map as unknown as Document;
}

/** The index of the top-level `_id` among the document's fields (-1: none). */
export function idPositionOf(bson: Uint8Array): number {
  const buf = Buffer.from(bson.buffer, bson.byteOffset, bson.byteLength);
  // The usual case without a walk: the first element is `_id` (type byte, "_id\0").
  if (buf[5] === 0x5f && buf[6] === 0x69 && buf[7] === 0x64 && buf[8] === 0) return 0;
  return readTopLevelElements(bson).findIndex((element) => element.key === "_id");
}

/** `entry`'s document for the driver, its `_id` and the `_id`'s position. */
export function toMongoDocument(bson: Uint8Array): MongoDocument {
  const plain = deserialize(bson, keepTypes);
  const idPosition = idPositionOf(bson);
  if (!needsOrderedBuild(plain)) return { document: plain, id: plain["_id"], idPosition };
  return { document: buildOrderedDocument(readBsonDocument(bson)), id: plain["_id"], idPosition };
}

/**
 * The document as ingested from the bytes MongoDB stored (`_id` first): the `_id` element moved
 * back to top-level index `position`. Returns `stored` itself when nothing moves.
 */
export function restoreIdPosition(stored: Uint8Array, position: number): Uint8Array {
  if (position <= 0) return stored;
  const buf = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
  const elements = readTopLevelElements(stored);
  const at = elements.findIndex((element) => element.key === "_id");
  if (at < 0) return stored;
  const [id] = elements.splice(at, 1);
  elements.splice(Math.min(position, elements.length), 0, id!);
  // Same elements, same length: only their order changes.
  return Buffer.concat([buf.subarray(0, 4), ...elements.map((element) => buf.subarray(element.start, element.end)), buf.subarray(buf.length - 1)]);
}

/**
 * The `document_too_large` verdict for a document MongoDB cannot hold, else null. The plain
 * document is exactly the BSON received (no envelope grows it), and the ingest route refuses more
 * than 16 MiB already; what remains is the driver's refusal of a document of exactly 16 MiB,
 * which would otherwise fail the whole batch.
 */
export function checkMongoDocumentSize(entry: StoreDocumentEntry): StoreRejection | null {
  if (entry.bson.length < mongoMaxDocumentBytes) return null;
  return {
    seq: entry.seq,
    table: entry.table,
    code: "document_too_large",
    reason: `the document is ${entry.bson.length} bytes of BSON; MongoDB takes less than ${mongoMaxDocumentBytes}`,
  };
}
