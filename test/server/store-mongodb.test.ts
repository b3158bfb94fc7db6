/**
 * The ingest suite on MongoDB, and what only MongoDB has: plain documents a `find()` reads as
 * ingested, deliveries in `asymgen_deliveries`, the `_id` place MongoDB moves, the 0.1 envelope
 * refused. Runs only with MONGODB_URI (a database named per run is dropped after); the rules that
 * need no server are in mongodb-insert-rules.test.ts.
 */
import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Double, Long, ObjectId, serialize } from "bson";
import type { Document } from "bson";
import { MongoClient } from "mongodb";
import type { Db } from "mongodb";
import { openMongodbStore } from "../../server/stores/mongodb-store.js";
import type { IngestStore } from "../../server/stores/store.js";
import type { StoreBatch } from "../../server/stores/store-batch.js";
import { StoreSchemaError } from "../../server/tables/format-schema-problems.js";
import { storedDocumentText } from "../../server/tables/stored-document-text.js";
import { makeWeatherDoc, newQueueId, testSchema } from "../support/ingest-server-fixtures.js";
import { describeIngestSuite } from "./ingest-suite.js";

const base = process.env["MONGODB_URI"];

/** A batch of WeatherSensor documents (`bson`), seqs from 1. */
function batchOf(queueId: string, documents: Uint8Array[], userId = "user-1"): StoreBatch {
  return {
    queueId,
    ifAcknowledgedSeq: null,
    userId,
    arrivedAt: new Date(),
    entries: documents.map((bson, i) => ({ kind: "document", seq: BigInt(i + 1), table: "WeatherSensor", idKey: storedDocumentText(bson).idKey, bson })),
  };
}

/** A document's BSON in the given field order. */
function bsonOf(fields: [string, unknown][]): Uint8Array {
  return serialize(new Map(fields) as unknown as Document);
}

if (base) {
  const url = new URL(base);
  url.pathname = `/asymgen_test_${crypto.randomBytes(4).toString("hex")}`;
  afterAll(async () => {
    const client = new MongoClient(url.toString());
    await client.connect();
    await client.db().dropDatabase();
    await client.close();
  });
  describeIngestSuite("MongoDB", async () => url.toString());

  describe("MongoDB plain documents", () => {
    const storeUrl = new URL(url.toString());
    storeUrl.pathname = `${url.pathname}_plain`;
    let store: IngestStore;
    let client: MongoClient;
    let db: Db;

    beforeAll(async () => {
      store = await openMongodbStore(storeUrl.toString());
      expect(await store.prepare(testSchema)).toEqual([]);
      client = new MongoClient(storeUrl.toString());
      await client.connect();
      db = client.db();
    });
    afterAll(async () => {
      await store?.close();
      await db?.dropDatabase();
      await client?.close();
    });

    it("stores each document as ingested: find() by a field gives it with no field added, its delivery beside it", async () => {
      const id = new ObjectId();
      const doc = { ...makeWeatherDoc(1, id), deviceId: "plain-1" };
      const queueId = newQueueId();
      expect(await store.ingest(batchOf(queueId, [serialize(doc)]))).toEqual({ status: "ok", acknowledgedSeq: 1n, rejected: [] });
      const found = await db.collection("WeatherSensor").find({ deviceId: "plain-1" }).toArray();
      expect(found.map((d) => Object.keys(d))).toEqual([Object.keys(doc)]);
      const delivery = await db.collection("asymgen_deliveries").findOne({ _id: { collection: "WeatherSensor", id } as never });
      expect(delivery).toMatchObject({ userId: "user-1", queueId, seq: 1 });
      expect(delivery?.["idPosition"]).toBeUndefined();
    });

    it("gives back the exact bytes: an _id not first, integer-like dictionary keys, Int32 beside Double", async () => {
      const id = new ObjectId();
      const bson = bsonOf([
        ["deviceId", "plain-2"],
        ["_id", id],
        ["temperatureInFahrenheit", new Double(60)],
        ["barometricPressureInHg", new Double(29.92)],
        ["windSpeedInMph", Long.fromNumber(3)],
        ["attributes", new Map([["b", "1"], ["10", "2"], ["2", "3"]])],
      ]);
      const result = await store.ingest(batchOf(newQueueId(), [bson]));
      expect(result).toMatchObject({ status: "ok", rejected: [] });
      const stored = (await store.readDocuments("WeatherSensor")).find((d) => d.idKey === storedDocumentText(bson).idKey);
      expect(Buffer.from(stored!.bson).equals(Buffer.from(bson))).toBe(true);
      expect(stored!.ejson).toBe(storedDocumentText(bson).ejson);
      const record = await db.collection("asymgen_deliveries").findOne({ _id: { collection: "WeatherSensor", id } as never });
      expect(record?.["idPosition"]).toBe(1);
    });

    it("treats a re-sent document as a retry, a different one with its _id as duplicate_id, and writes a delivery a crash left out", async () => {
      const id = new ObjectId();
      const doc = { ...makeWeatherDoc(3, id), deviceId: "plain-3" };
      const queueId = newQueueId();
      await store.ingest(batchOf(queueId, [serialize(doc)]));
      // A crash between the documents and their records: the record is missing, the mark is not moved.
      await db.collection("asymgen_deliveries").deleteOne({ _id: { collection: "WeatherSensor", id } as never });
      const again = await store.ingest(batchOf(newQueueId(), [serialize(doc), serialize({ ...doc, deviceId: "other" })]));
      expect(again).toMatchObject({ status: "ok", rejected: [{ seq: 2n, code: "duplicate_id" }] });
      expect(await db.collection("asymgen_deliveries").countDocuments({ _id: { collection: "WeatherSensor", id } as never })).toBe(1);
      expect(await db.collection("WeatherSensor").countDocuments({ _id: id })).toBe(1);
    });

    it("takes a document repeated in one batch once, with one delivery record (the first)", async () => {
      const id = new ObjectId();
      const bson = bsonOf([["deviceId", "plain-4"], ["_id", id], ["temperatureInFahrenheit", new Double(1)]]);
      const queueId = newQueueId();
      expect(await store.ingest(batchOf(queueId, [bson, bson]))).toEqual({ status: "ok", acknowledgedSeq: 2n, rejected: [] });
      const records = await db.collection("asymgen_deliveries").find({ _id: { collection: "WeatherSensor", id } as never }).toArray();
      expect(records).toMatchObject([{ queueId, seq: 1, idPosition: 1 }]);
    });

    it("refuses a database of asymgen 0.1 (envelopes) at startup, naming the collection", async () => {
      const oldUrl = new URL(url.toString());
      oldUrl.pathname = `${url.pathname}_old`;
      const oldDb = client.db(oldUrl.pathname.slice(1));
      await oldDb.collection("WeatherSensor").insertOne({ _id: "k" as never, doc: { _id: "k" }, userId: "u", arrivedAt: new Date(), queueId: "q", seq: Long.fromNumber(1) });
      const old = await openMongodbStore(oldUrl.toString());
      try {
        await expect(old.prepare(testSchema)).rejects.toThrow(StoreSchemaError);
        await expect(old.prepare(testSchema)).rejects.toThrow(/"WeatherSensor": the store has the asymgen 0.1 layout/);
      } finally {
        await old.close();
        await oldDb.dropDatabase();
      }
    });

    it("runs the benchmark ceiling in two steps: rows made untimed, then one insertMany", async () => {
      const documents = Array.from({ length: 20 }, (_, i) => serialize({ ...makeWeatherDoc(i), deviceId: "bench" }));
      const rows = await store.prepareBenchmarkRows("WeatherSensor", documents);
      expect(rows).toMatchObject({ table: "WeatherSensor", count: 20 });
      await store.insertRawForBenchmark(rows);
      expect(await db.collection("WeatherSensor").countDocuments({ deviceId: "bench" })).toBe(20);
    });
  });
} else {
  console.warn("SKIPPED MongoDB store tests: set MONGODB_URI (e.g. mongodb://127.0.0.1:27017) to run them.");
  describe("ingest over HTTP into MongoDB", () => {
    it.skip("MONGODB_URI is not set", () => {});
  });
}
