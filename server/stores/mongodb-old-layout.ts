/**
 * Recognising a MongoDB store written by asymgen 0.1, which wrapped each document in an envelope
 * `{ _id, doc, userId, arrivedAt, queueId, seq }`. The server never mixes that layout with plain
 * documents (a `find()` would meet both shapes), so such a collection is refused at startup.
 */
import type { Document } from "mongodb";
import type { SchemaProblem } from "../tables/plan-schema-change.js";

// The envelope's fields besides `_id`, in 0.1's order.
const envelopeFields = ["doc", "userId", "arrivedAt", "queueId", "seq"];

/**
 * The problem when `first` (any one document of the model's collection, read without its `_id`;
 * null: the collection is empty) is a 0.1 envelope, else null. One document tells: 0.1 wrote
 * nothing else into a model's collection, and a model whose fields are exactly the envelope's is
 * not one a user writes (a plain document with them is refused as well, with the same way out).
 */
export function findOldLayoutCollection(collection: string, first: Document | null): SchemaProblem | null {
  if (first === null) return null;
  const keys = Object.keys(first).sort();
  if (keys.join("\0") !== [...envelopeFields].sort().join("\0")) return null;
  if (typeof first["doc"] !== "object" || first["doc"] === null) return null;
  return {
    kind: "old-layout",
    table: collection,
    column: null,
    was: "the asymgen 0.1 layout (each document wrapped in an envelope: doc, userId, arrivedAt, queueId, seq)",
    now: "plain documents (each document as ingested, deliveries in asymgen_deliveries)",
    wayForward: `this server never mixes the two layouts: start it on a new database (another --store URL); the old one stays readable as it is (db.${collection}.find({}, {doc: 1}))`,
  };
}
