/**
 * The MongoDB store (official driver): one collection per asymmetric model, each document kept as
 * BSON inside a small envelope `{ _id, doc, userId, arrivedAt, queueId, seq }` (the envelope keeps
 * the document byte-for-byte: MongoDB would move a top-level `_id` first and the metadata would
 * otherwise mix with the model's fields).
 *
 * Batches do not need multi-document transactions (which a standalone mongod lacks): documents
 * go in first, verdicts next, the high-water mark last. A crash in between leaves the mark behind,
 * so the client retries; re-inserting an identical document is a no-op, so nothing is stored twice.
 * Every write uses write concern `{ w: "majority", journal: true }`: an acknowledgement means the
 * data is in the database's journal on a majority, and a write-concern failure fails the batch.
 */
import type { AnyBulkWriteOperation, Collection, Document } from "mongodb";
import { EJSON, Long, serialize } from "bson";
import type { CanonicalObjectSchema } from "asymgen/schema";
import { buildMongoEnvelope, checkMongoEnvelopeSize } from "./mongodb-envelope.js";
import type { EnvelopeMeta } from "./mongodb-envelope.js";
import { conflictsOfInsertError } from "./mongodb-insert-conflicts.js";
import { loadMongodb } from "./load-store-driver.js";
import type { ImportDriver } from "./import-driver.js";
import { judgeConflict, planBatch, sortRejections } from "./plan-batch.js";
import { redactUrl } from "./redact-url.js";
import { assertUsableTableName, checkGate } from "./store.js";
import type { IngestStore, RawBenchmarkRow } from "./store.js";
import type { RejectionCode, StoreBatchResult, StoreDocumentEntry, StoreEntry, StoreRejection } from "./store-batch.js";

// MongoDB's limit on a namespace ("db.collection") is 255 bytes; leave room for the database name.
const maxCollectionBytes = 120;
// Read documents back with BSON's numeric types kept (Int32 vs Double), as the server received them.
const rawValues = { promoteValues: false } as const;

// "In the database" means durable: journaled on a majority of the replica set.
const durable = { w: "majority", journal: true } as const;

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
  const auth = db.collection<Document>("asymgen_auth");
  const tables = new Map<string, Collection<Document>>();

  function tableOrThrow(table: string): Collection<Document> {
    const collection = tables.get(table);
    if (!collection) throw new Error(`mongodb store: no collection for model "${table}"`);
    return collection;
  }

  async function insertDocuments(collection: Collection<Document>, meta: EnvelopeMeta, entries: StoreDocumentEntry[]) {
    try {
      await collection.insertMany(
        entries.map((e) => buildMongoEnvelope(e, meta)),
        { ordered: false, writeConcern: durable },
      );
      return [];
    } catch (error) {
      return conflictsOfInsertError(error, entries, MongoBulkWriteError);
    }
  }

  /** The batch's entries with documents too large for an envelope turned into verdicts. */
  function checkSizes(entries: readonly StoreEntry[], meta: EnvelopeMeta): StoreEntry[] {
    return entries.map((entry) => {
      if (entry.kind !== "document") return entry;
      const verdict = checkMongoEnvelopeSize(entry, meta);
      return verdict ? { kind: "rejected", ...verdict } : entry;
    });
  }

  return {
    kind: "mongodb",
    location: redactUrl(url),
    async prepare(models: readonly CanonicalObjectSchema[]) {
      for (const model of models) {
        assertUsableTableName(model.name, maxCollectionBytes);
        tables.set(model.name, db.collection<Document>(model.name));
      }
      await rejections.createIndex({ queueId: 1, seq: 1 }, { unique: true });
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
      const plan = planBatch(checkSizes(batch.entries, batch), highSeq);
      const rejected: StoreRejection[] = [];
      if (plan.replaySeqs.length > 0) {
        const rows = await rejections
          .find({ queueId: batch.queueId, seq: { $in: plan.replaySeqs.map((s) => Long.fromBigInt(s)) } })
          .toArray();
        // The collection holds only verdicts this server wrote, so only their codes.
        for (const row of rows)
          rejected.push({ seq: BigInt(String(row["seq"])), table: row["table"], code: row["code"] as RejectionCode, reason: row["reason"] });
      }
      const conflicts = [...plan.followers];
      for (const [table, entries] of plan.inserts) conflicts.push(...(await insertDocuments(tableOrThrow(table), batch, entries)));
      for (const entry of conflicts) {
        const stored = await tableOrThrow(entry.table).findOne({ _id: buildMongoEnvelope(entry, batch)["_id"] as never }, rawValues);
        // Byte comparison: MongoDB keeps the envelope's `doc` field order as sent.
        const same = stored !== null && Buffer.from(serialize(stored["doc"] as Document)).equals(Buffer.from(entry.bson));
        const storedEjson = stored === null ? undefined : same ? entry.ejson : "(a different document)";
        const verdict = judgeConflict(entry, storedEjson);
        if (verdict) plan.rejections.push(verdict);
      }
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
      return counts;
    },
    async readDocuments(table) {
      const rows = await tableOrThrow(table).find({}, rawValues).toArray();
      const documents = rows.map((row) => ({
        idKey: EJSON.stringify(row._id, { relaxed: false }),
        ejson: EJSON.stringify(row["doc"], { relaxed: false }),
        userId: String(row["userId"]),
        arrivedAt: row["arrivedAt"] as Date,
        queueId: String(row["queueId"]),
        seq: BigInt(String(row["seq"])),
      }));
      return documents.sort((a, b) => (a.idKey < b.idKey ? -1 : a.idKey > b.idKey ? 1 : 0));
    },
    async readQueue(queueId) {
      const row = await queues.findOne({ _id: queueId as never });
      return row ? { userId: String(row["userId"]), highSeq: BigInt(String(row["highSeq"])) } : null;
    },
    async insertRawForBenchmark(table: string, rows: readonly RawBenchmarkRow[]) {
      const collection = tableOrThrow(table);
      const docs = rows.map((r) => ({
        _id: r.id ?? r.idKey,
        doc: r.doc ?? EJSON.parse(r.ejson, { relaxed: false }),
        userId: "benchmark",
        arrivedAt: new Date(),
        queueId: "benchmark",
        seq: 0,
      }));
      await collection.insertMany(docs as Document[], { ordered: false }).catch((error: unknown) => {
        if (!(error instanceof MongoBulkWriteError)) throw error;
      });
    },
    broken() {
      return null;
    },
    async close() {
      await client.close();
    },
  };
}
