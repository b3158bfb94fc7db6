/**
 * The text a stored document is read back with (StoredDocument's `idKey` and `ejson`): canonical
 * Extended JSON written from the BSON in its byte order, as the ingest route's scanner wrote it
 * (a JavaScript object would move integer-like keys of a dictionary first).
 */
import { writeCanonicalEjson } from "../ejson/write-canonical-ejson.js";
import { readBsonDocument } from "./bson-tree.js";
import type { BsonNode } from "./bson-tree.js";

function write(node: BsonNode): string {
  if (node.kind === "scalar") return writeCanonicalEjson(node.value);
  const parts = node.entries.map(([key, child]) => (node.type === 0x04 ? write(child) : `${JSON.stringify(key)}:${write(child)}`));
  return node.type === 0x04 ? `[${parts.join(",")}]` : `{${parts.join(",")}}`;
}

/** Canonical Extended JSON of a document (`bson`) and of its `_id` (Int32 widened to Int64, "" when it has none). */
export function storedDocumentText(bson: Uint8Array, primaryKey = "_id"): { idKey: string; ejson: string } {
  const document = readBsonDocument(bson);
  const id = document.entries.find(([key]) => key === primaryKey)?.[1];
  let idKey = id === undefined ? "" : write(id);
  if (id?.kind === "scalar" && id.type === 0x10) idKey = idKey.replace('{"$numberInt":', '{"$numberLong":');
  return { idKey, ejson: write(document) };
}
