/**
 * The MongoDB store (official driver): one collection per asymmetric model holding each document
 * as ingested — its own `_id` and fields, nothing added — so `db.WeatherSensor.find({deviceId})`
 * finds it. Who delivered it (user, queue, sequence, arrival) is in `asymgen_deliveries`
 * (mongodb-deliveries.ts says why a side collection); how the exact bytes survive the driver
 * and MongoDB moving `_id` first is in mongodb-document.ts.
 *
 * Batches do not use multi-document transactions (a standalone mongod has none). Each step is
 * idempotent, in this order: the documents, their delivery records, the verdicts, the high-water
 * mark last. A crash in between leaves the mark behind, so the client retries the batch: a
 * document already stored with the same bytes is a no-op (its delivery record is written then if
 * it was missing), a delivery record already there is kept (the first delivery wins), a verdict
 * is upserted, and the mark only rises. Every write uses write concern `{ w: "majority", journal:
 * true }`: an acknowledgement means the data is in the journal of a majority, and a write-concern
 * failure fails the batch.
 */
import type { AnyBulkWriteOperation, Collection, Document } from "mongodb";
import { Long, serialize } from "bson";
import type { CanonicalObjectSchema } from "asymgen/schema";
import { StoreSchemaError } from "../tables/format-schema-problems.js";
import type { SchemaProblem } from "../tables/plan-schema-change.js";
import { storedDocumentText } from "../tables/stored-document-text.js";
import { buildDeliveryRecord, deliveriesCollection, deliveriesOfCollection, deliveryKey, readDeliveryRecord } from "./mongodb-deliveries.js";
import type { Delivery, DeliveryMeta } from "./mongodb-deliveries.js";
import { checkMongoDocumentSize, restoreIdPosition, toMongoDocument } from "./mongodb-document.js";
import type { MongoDocument } from "./mongodb-document.js";
import { conflictsOfInsertError, judgeStoredConflict } from "./mongodb-insert-conflicts.js";
import { findOldLayoutCollection } from "./mongodb-old-layout.js";
import { loadMongodb } from "./load-store-driver.js";
import type { ImportDriver } from "./import-driver.js";
import { planBatch, sortRejections } from "./plan-batch.js";
import { redactUrl } from "./redact-url.js";
import { assertUsableTableName, checkGate } from "./store.js";
import type { BenchmarkRows, IngestStore, StoredDocument } from "./store.js";
import type { RejectionCode, StoreBatchResult, StoreDocumentEntry, StoreEntry, StoreRejection } from "./store-batch.js";

// MongoDB's limit on a namespace ("db.collection") is 255 bytes; leave room for the database name.
const maxCollectionBytes = 120;
// Read documents back with BSON's numeric types kept (Int32 vs Double), as the server received them.
const rawValues = { promoteValues: false } as const;

// "In the database" means durable: journaled on a majority of the replica set.
const durable = { w: "majority", journal: true } as const;

/** Benchmark rows: the documents already made into the driver's values (prepareBenchmarkRows). */
interface MongoBenchmarkRows extends BenchmarkRows {
  readonly documents: Document[];
}

/**
 * Opens the MongoDB store at `url`; the database is the URL's path (default `asymgen`). The
 * `mongodb` package is loaded now (StoreDriverMissingError when it is not installed).
 */
export async function openMongodbStore(url: string, options: { importDriver?: ImportDriver } = {}): Promise<IngestStore> {
  const { MongoClient, MongoBulkWriteError } = await loadMongodb(options.importDriver);
  const client = new MongoClient(url, { writeConcern: durable });
  await client.connect();
  // Not `new URL`: a replica-set URL lists several hosts ("a:1,b:2"), which WHATWG URLs refuse.
  const dbName = /^mongodb(?:\+srv)?:\/\/[^/?]*\/([^?]+)/.exec(url)?.[1];
  const db = client.db(dbName ? decodeURIComponent(dbName) : "asymgen");
  const queues = db.collection<Document>("asymgen_queues");
  const rejections = db.collection<Document>("asymgen_rejections");
  const deliveries = db.collection<Document>(deliveriesCollection);
  const auth = db.collection<Document>("asymgen_auth");
  const tables = new Map<string, Collection<Document>>();

  function tableOrThrow(table: string): Collection<Document> {
    const collection = tables.get(table);
    if (!collection) throw new Error(`mongodb store: no collection for model "${table}"`);
    return collection;
  }

  /** Inserts documents (unordered); returns the indexes of those whose `_id` was already stored. */
  async function insertIgnoringDuplicates(collection: Collection<Document>, documents: Document[]): Promise<number[]> {
    const indexes = documents.map((_, index) => index);
    try {
      await collection.insertMany(documents, { ordered: false, writeConcern: durable });
      return [];
    } catch (error) {
      return conflictsOfInsertError(error, indexes, MongoBulkWriteError);
    }
  }

  /** The raw bytes stored under `prepared`'s `_id` (MongoDB moved `_id` first) and that document's delivery record. */
  async function readStored(table: string, prepared: MongoDocument): Promise<{ stored: Uint8Array | null; delivery: Delivery | null }> {
    // `raw`: the stored bytes themselves, not values the driver would re-serialise.
    const stored = (await tableOrThrow(table).findOne({ _id: prepared.id as never }, { raw: true })) as Uint8Array | null;
    if (stored === null) return { stored, delivery: null };
    const record = await deliveries.findOne({ _id: deliveryKey(table, prepared.id) as never }, rawValues);
    return { stored, delivery: record === null ? null : readDeliveryRecord(record) };
  }

  /** The batch's entries with documents MongoDB cannot hold turned into verdicts. */
  function checkSizes(entries: readonly StoreEntry[]): StoreEntry[] {
    return entries.map((entry) => {
      if (entry.kind !== "document") return entry;
      const verdict = checkMongoDocumentSize(entry);
      return verdict ? { kind: "rejected", ...verdict } : entry;
    });
  }

  return {
    kind: "mongodb",
    location: redactUrl(url),
    async prepare(schema: readonly CanonicalObjectSchema[]) {
      // A collection per asymmetric model; embedded models live inside their documents.
      const models = schema.filter((model) => model.asymmetric);
      for (const model of models) assertUsableTableName(model.name, maxCollectionBytes);
      // A store of asymgen 0.1 wraps each document in an envelope: refuse it, never mix the two.
      const problems: SchemaProblem[] = [];
      for (const model of models) {
        const first = await db.collection<Document>(model.name).findOne({}, { projection: { _id: 0 } });
        const problem = findOldLayoutCollection(model.name, first);
        if (problem) problems.push(problem);
      }
      if (problems.length > 0) throw new StoreSchemaError(problems);
      for (const model of models) {
        const collection = db.collection<Document>(model.name);
        tables.set(model.name, collection);
        // `@Indexed` properties get an index, as the SQL stores' columns do (idempotent).
        for (const property of Object.values(model.properties))
          if (property.indexed && property.mapTo !== "_id") await collection.createIndex({ [property.mapTo]: 1 });
      }
      await rejections.createIndex({ queueId: 1, seq: 1 }, { unique: true });
      return [];
    },
    async ingest(batch): Promise<StoreBatchResult> {
      // A gated batch for a queue not seen yet is refused before the upsert below creates its row.
      if (batch.ifAcknowledgedSeq !== null && (await queues.findOne({ _id: batch.queueId as never })) === null) {
        return { status: "sequence_gap", acknowledgedSeq: 0n };
      }
      const queue = await queues.findOneAndUpdate(
        { _id: batch.queueId as never },
        { $setOnInsert: { userId: batch.userId, highSeq: Long.fromNumber(0) } },
        { upsert: true, returnDocument: "after", writeConcern: durable },
      );
      if (!queue || queue["userId"] !== batch.userId) return { status: "forbidden" };
      const highSeq = BigInt(String(queue["highSeq"]));
      // No transaction here, and none needed: the mark only rises after a batch's documents are
      // in, so a gate that passes always follows a batch that is wholly stored.
      const gap = checkGate(batch, highSeq);
      if (gap) return gap;
      const plan = planBatch(checkSizes(batch.entries), highSeq);
      const rejected: StoreRejection[] = [];
      if (plan.replaySeqs.length > 0) {
        const rows = await rejections
          .find({ queueId: batch.queueId, seq: { $in: plan.replaySeqs.map((s) => Long.fromBigInt(s)) } })
          .toArray();
        // The collection holds only verdicts this server wrote, so only their codes.
        for (const row of rows)
          rejected.push({ seq: BigInt(String(row["seq"])), table: row["table"], code: row["code"] as RejectionCode, reason: row["reason"] });
      }
      const meta: DeliveryMeta = batch;
      const records: Document[] = [];
      // The documents this batch stored (their records are written after the conflicts): the
      // `_id` place of each, for a later entry of the batch with the same `_id`.
      const storedByBatch: [StoreDocumentEntry, MongoDocument][] = [];
      const conflicts: [StoreDocumentEntry, MongoDocument][] = plan.followers.map((entry) => [entry, toMongoDocument(entry.bson)]);
      for (const [table, entries] of plan.inserts) {
        const prepared = entries.map((entry) => toMongoDocument(entry.bson));
        const duplicates = new Set(await insertIgnoringDuplicates(tableOrThrow(table), prepared.map((p) => p.document)));
        entries.forEach((entry, index) => {
          const document = prepared[index]!;
          if (duplicates.has(index)) return void conflicts.push([entry, document]);
          records.push(buildDeliveryRecord(table, document.id, document.idPosition, entry.seq, meta));
          storedByBatch.push([entry, document]);
        });
      }
      if (conflicts.length > 0) {
        // Keyed as plan-batch.ts tells repeated `_id`s apart.
        const placeInBatch = new Map(storedByBatch.map(([entry, document]) => [`${entry.table}\0${entry.idKey}`, document.idPosition]));
        for (const [entry, prepared] of conflicts) {
          const key = `${entry.table}\0${entry.idKey}`;
          const { stored, delivery } = await readStored(entry.table, prepared);
          const { verdict, writeDelivery } = judgeStoredConflict(entry, prepared.idPosition, stored, delivery, placeInBatch.get(key));
          if (verdict) plan.rejections.push(verdict);
          if (!writeDelivery) continue;
          // The same document, stored by an earlier try whose record was not written: write it now (once).
          records.push(buildDeliveryRecord(entry.table, prepared.id, prepared.idPosition, entry.seq, meta));
          placeInBatch.set(key, prepared.idPosition);
        }
      }
      // A record already there (an earlier try's) is kept: the first delivery wins.
      if (records.length > 0) await insertIgnoringDuplicates(deliveries, records);
      if (plan.rejections.length > 0) {
        const ops: AnyBulkWriteOperation<Document>[] = plan.rejections.map((r) => ({
          updateOne: {
            filter: { queueId: batch.queueId, seq: Long.fromBigInt(r.seq) },
            update: { $setOnInsert: { table: r.table, code: r.code, reason: r.reason } },
            upsert: true,
          },
        }));
        await rejections.bulkWrite(ops, { ordered: false, writeConcern: durable });
      }
      if (plan.highSeq !== highSeq)
        await queues.updateOne({ _id: batch.queueId as never }, { $max: { highSeq: Long.fromBigInt(plan.highSeq) } }, { writeConcern: durable });
      rejected.push(...plan.rejections);
      return { status: "ok", acknowledgedSeq: plan.highSeq, rejected: sortRejections(rejected) };
    },
    async getAuthRecord(kind, key) {
      const row = await auth.findOne({ _id: `${kind}:${key}` as never });
      return row ? String(row["value"]) : null;
    },
    async putAuthRecord(kind, key, value, ifAbsent) {
      const id = `${kind}:${key}` as never;
      if (!ifAbsent) {
        await auth.updateOne({ _id: id }, { $set: { value } }, { upsert: true });
        return true;
      }
      const result = await auth.updateOne({ _id: id }, { $setOnInsert: { value } }, { upsert: true });
      return result.upsertedCount > 0;
    },
    async deleteAuthRecord(kind, key) {
      return (await auth.deleteOne({ _id: `${kind}:${key}` as never })).deletedCount > 0;
    },
    async listAuthRecords(kind, afterKey, limit) {
      // `_id` is "kind:key", and ";" is the character after ":", so the kind's records are exactly
      // the ids between "kind:" and "kind;" (strings compare by bytes: no collation here).
      const rows = await auth
        .find({ _id: { $gt: `${kind}:${afterKey}`, $lt: `${kind};` } as never })
        .sort({ _id: 1 })
        .limit(limit)
        .toArray();
      return rows.map((row) => ({ key: String(row._id).slice(kind.length + 1), value: String(row["value"]) }));
    },
    async deleteAuthRecords(kind, keys) {
      if (keys.length === 0) return 0;
      return (await auth.deleteMany({ _id: { $in: keys.map((key) => `${kind}:${key}`) } as never })).deletedCount;
    },
    async countRows() {
      const counts: Record<string, number> = {};
      for (const [name, collection] of tables) counts[name] = await collection.countDocuments();
      counts["asymgen_queues"] = await queues.countDocuments();
      counts["asymgen_rejections"] = await rejections.countDocuments();
      counts[deliveriesCollection] = await deliveries.countDocuments();
      return counts;
    },
    async readDocuments(table) {
      const byIdKey = new Map<string, Delivery>();
      for (const record of await deliveries.find(deliveriesOfCollection(table), rawValues).toArray()) {
        // The record's key written as a document's `_id` is: the same text as storedDocumentText's idKey.
        const id = (record["_id"] as Document)["id"];
        byIdKey.set(storedDocumentText(serialize({ _id: id })).idKey, readDeliveryRecord(record));
      }
      const rows = (await tableOrThrow(table).find({}, { raw: true }).toArray()) as unknown as Uint8Array[];
      const documents: StoredDocument[] = rows.map((row) => {
        const { idKey } = storedDocumentText(row);
        const delivery = byIdKey.get(idKey);
        const bson = restoreIdPosition(row, delivery?.idPosition ?? 0);
        const { ejson } = storedDocumentText(bson);
        // No record: the batch that stored it stopped before its records and has not been retried yet.
        return { idKey, bson, ejson, userId: delivery?.userId ?? "", arrivedAt: delivery?.arrivedAt ?? new Date(0), queueId: delivery?.queueId ?? "", seq: delivery?.seq ?? 0n };
      });
      return documents.sort((a, b) => (a.idKey < b.idKey ? -1 : a.idKey > b.idKey ? 1 : 0));
    },
    async readQueue(queueId) {
      const row = await queues.findOne({ _id: queueId as never });
      return row ? { userId: String(row["userId"]), highSeq: BigInt(String(row["highSeq"])) } : null;
    },
    async prepareBenchmarkRows(table, documents): Promise<BenchmarkRows> {
      tableOrThrow(table);
      const rows: MongoBenchmarkRows = { table, count: documents.length, documents: documents.map((bson) => toMongoDocument(bson).document) };
      return rows;
    },
    async insertRawForBenchmark(rows) {
      const { table, documents } = rows as MongoBenchmarkRows;
      if (documents === undefined) throw new Error("mongodb store: insertRawForBenchmark takes rows from this store's prepareBenchmarkRows");
      // The driver may add nothing (every document has its `_id`), so the same rows can be inserted again: duplicates are ignored.
      await insertIgnoringDuplicates(tableOrThrow(table), documents);
    },
    broken() {
      return null;
    },
    async close() {
      await client.close();
    },
  };
}
