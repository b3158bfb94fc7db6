/**
 * The MongoDB store's delivery records: who sent each stored document, from which queue, at
 * which sequence, when — kept in their own collection `asymgen_deliveries`, keyed by
 * `{ collection, id }` (the model's collection and the document's `_id`), never in the document.
 *
 * Why a side collection rather than a sub-document of each document: `db.Model.find()` then gives
 * exactly the documents that were ingested, nothing added, and no field of ours can ever meet a
 * user's (a sub-document would need a reserved name and would show up in every query, export and
 * `$project`). The cost is one more `insertMany` per batch (one round trip, not one per document).
 *
 * A record also keeps `idPosition` when the document's `_id` was not its first field (MongoDB
 * moves `_id` first; mongodb-document.ts moves it back). Absent, the usual case, means first.
 */
import { Long, MaxKey, MinKey } from "bson";
import type { Document } from "mongodb";

/** The side collection's name (a model's name can never take it: `asymgen_` names are the store's). */
export const deliveriesCollection = "asymgen_deliveries";

/** The batch-wide part of every delivery record. */
export interface DeliveryMeta {
  userId: string;
  arrivedAt: Date;
  queueId: string;
}

/** A delivery record read back. */
export interface Delivery {
  userId: string;
  arrivedAt: Date;
  queueId: string;
  seq: bigint;
  /** The `_id`'s top-level position in the document as ingested (0: first). */
  idPosition: number;
}

/** An `_id` with Int32 widened to Int64, so one integer key is one delivery key however it was sent (MongoDB's `_id` index already treats them as equal). */
function widenId(id: unknown): unknown {
  if (typeof id === "object" && id !== null && (id as { _bsontype?: string })._bsontype === "Int32")
    return Long.fromNumber((id as { value: number }).value);
  return id;
}

/** The record's `_id`: the collection and the document's `_id`. */
export function deliveryKey(collection: string, id: unknown): Document {
  return { collection, id: widenId(id) };
}

/** The delivery record of a document of `collection` with `_id` `id`, ready for `insertMany`. */
export function buildDeliveryRecord(collection: string, id: unknown, idPosition: number, seq: bigint, meta: DeliveryMeta): Document {
  const record: Document = {
    _id: deliveryKey(collection, id),
    userId: meta.userId,
    queueId: meta.queueId,
    seq: Long.fromBigInt(seq),
    arrivedAt: meta.arrivedAt,
  };
  if (idPosition > 0) record["idPosition"] = idPosition;
  return record;
}

/** A record as stored (read with `promoteValues: false`) turned back into a Delivery. */
export function readDeliveryRecord(record: Document): Delivery {
  const position = record["idPosition"] as { valueOf(): number } | number | undefined;
  return {
    userId: String(record["userId"]),
    arrivedAt: record["arrivedAt"] as Date,
    queueId: String(record["queueId"]),
    seq: BigInt(String(record["seq"])),
    idPosition: position === undefined ? 0 : Number(position.valueOf()),
  };
}

/** The filter for every delivery of `collection`, as a range over the `_id` index (`{collection, id}` sorts by collection first). */
export function deliveriesOfCollection(collection: string): Document {
  return { _id: { $gte: { collection, id: new MinKey() }, $lte: { collection, id: new MaxKey() } } };
}
