/**
 * The MongoDB store's rules that need no server (MongoDB cannot run here; the full suite runs in
 * store-mongodb.test.ts when MONGODB_URI is set): how a failed insert is read (only duplicate
 * `_id`s are conflicts; a write-concern failure must fail the batch, so the high-water mark does
 * not move); the plain document handed to the driver serialises to exactly the bytes received;
 * MongoDB's `_id`-first storage is undone; delivery records; conflicts judged on exact bytes;
 * the size rule; the 0.1 layout recognised.
 */
import { describe, expect, it } from "@jest/globals";
import { Binary, Decimal128, deserialize, Double, Int32, Long, ObjectId, serialize, UUID } from "bson";
import type { Document } from "bson";
import { MongoBulkWriteError, MongoServerError } from "mongodb";
import { maxDocumentBytes } from "../../runtime/sync/ingest-protocol.js";
import { buildDeliveryRecord, deliveryKey, readDeliveryRecord } from "../../server/stores/mongodb-deliveries.js";
import { checkMongoDocumentSize, idPositionOf, mongoMaxDocumentBytes, restoreIdPosition, toMongoDocument } from "../../server/stores/mongodb-document.js";
import { conflictsOfInsertError, judgeStoredConflict } from "../../server/stores/mongodb-insert-conflicts.js";
import { findOldLayoutCollection } from "../../server/stores/mongodb-old-layout.js";
import { storedDocumentText } from "../../server/tables/stored-document-text.js";
import type { StoreDocumentEntry } from "../../server/stores/store-batch.js";
import { makeWeatherDoc } from "../support/ingest-server-fixtures.js";

/** A bulk write error as the driver builds it: write errors, and the result's write-concern error. */
function bulkError(writeErrors: { code: number; index: number }[], writeConcernError: unknown = null): MongoBulkWriteError {
  const result = { getWriteConcernError: () => writeConcernError } as unknown as ConstructorParameters<typeof MongoBulkWriteError>[1];
  const first = writeErrors[0];
  return new MongoBulkWriteError(
    first
      ? { message: "E11000 duplicate key error", code: first.code, writeErrors: writeErrors.map((e) => ({ ...e, errmsg: "x" })) as never }
      : { message: "waiting for replication timed out", code: 64 },
    result,
  );
}

describe("conflictsOfInsertError", () => {
  const entries = ["a", "b", "c"];

  it("returns the entries whose insert failed on a duplicate _id", () => {
    expect(
      conflictsOfInsertError(
        bulkError([
          { code: 11000, index: 0 },
          { code: 11000, index: 2 },
        ]),
        entries,
        MongoBulkWriteError,
      ),
    ).toEqual(["a", "c"]);
  });

  it("rethrows a write-concern failure, even alongside duplicate keys (the writes may not be durable)", () => {
    const concern = { code: 64, errmsg: "waiting for replication timed out" };
    const withDuplicates = bulkError([{ code: 11000, index: 1 }], concern);
    expect(() => conflictsOfInsertError(withDuplicates, entries, MongoBulkWriteError)).toThrow(withDuplicates);
    const alone = bulkError([], concern);
    expect(() => conflictsOfInsertError(alone, entries, MongoBulkWriteError)).toThrow(alone);
    const flagged = Object.assign(bulkError([{ code: 11000, index: 1 }]), { writeConcernError: concern });
    expect(() => conflictsOfInsertError(flagged, entries, MongoBulkWriteError)).toThrow(flagged);
  });

  it("rethrows a bulk error without write errors, with another code, or with an index outside the batch", () => {
    for (const error of [
      bulkError([]),
      bulkError([
        { code: 11000, index: 0 },
        { code: 2, index: 1 },
      ]),
      bulkError([{ code: 11000, index: 7 }]),
    ])
      expect(() => conflictsOfInsertError(error, entries, MongoBulkWriteError)).toThrow(error);
  });

  it("rethrows anything that is not a bulk write error", () => {
    const server = new MongoServerError({ message: "not primary", code: 10107 });
    expect(() => conflictsOfInsertError(server, entries, MongoBulkWriteError)).toThrow(server);
    expect(() => conflictsOfInsertError(new Error("network"), entries, MongoBulkWriteError)).toThrow("network");
  });
});

/** An entry of `bson` (a document of WeatherSensor). */
function entryOf(bson: Uint8Array, seq = 1n): StoreDocumentEntry {
  return { kind: "document", seq, table: "WeatherSensor", idKey: storedDocumentText(bson).idKey, bson };
}

/** A document's BSON in the given field order (a Map keeps it; an object would not for "10"). */
function bsonOf(fields: [string, unknown][]): Uint8Array {
  return serialize(new Map(fields) as unknown as Document);
}

/** What MongoDB stores for `fields`: the same document with `_id` moved to the front. */
function storedByMongo(fields: [string, unknown][]): Uint8Array {
  const id = fields.filter(([key]) => key === "_id");
  return bsonOf([...id, ...fields.filter(([key]) => key !== "_id")]);
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

describe("toMongoDocument", () => {
  // Documents the driver must give MongoDB byte for byte (it serialises the values with `bson`).
  const nanWithPayload = new Double(Buffer.from([1, 0, 0, 0, 0, 0, 0xf8, 0x7f]).readDoubleLE(0));
  const cases: [string, [string, unknown][]][] = [
    ["a weather reading", Object.entries(makeWeatherDoc(3))],
    ["numeric types (Int32 and a whole Double stay apart), -0, NaN, ±Infinity", [["_id", Long.fromNumber(5)], ["i", new Int32(5)], ["d", new Double(5)], ["z", new Double(-0)], ["n", new Double(NaN)], ["p", nanWithPayload], ["inf", new Double(Infinity)], ["ninf", new Double(-Infinity)]]],
    ["Int64 extremes, Decimal128 edges, UUID, binary, dates before 1970", [["_id", "s"], ["max", Long.MAX_VALUE], ["min", Long.MIN_VALUE], ["dec", Decimal128.fromString("-0E+6111")], ["dnan", Decimal128.fromString("NaN")], ["u", new UUID("0f8fad5b-d9cb-469f-a165-70867728950e").toBinary()], ["bin", new Binary(Buffer.from([0, 1, 2, 255]))], ["old", new Date(-86_400_000 * 365 * 100)]]],
    ["a dictionary with integer-like keys (a JS object would move them first)", [["_id", new ObjectId()], ["counts", new Map<string, unknown>([["b", new Int32(1)], ["10", new Int32(2)], ["2", new Int32(3)]])]]],
    ["integer-like keys deep inside a list", [["_id", new ObjectId()], ["list", [{ x: 1 }, new Map([["z", 1], ["7", 2]])]]]],
    ["$ref and $id keys (bson would make a DBRef) and __proto__", [["_id", new ObjectId()], ["ref", new Map<string, unknown>([["$id", 1], ["$ref", "x"], ["__proto__", "y"]])]]],
    ["_id not first", [["deviceId", "WX1"], ["_id", new ObjectId()], ["value", new Double(1.5)]]],
  ];

  it.each(cases)("serialises back to the exact bytes: %s", (_name, fields) => {
    const bson = bsonOf(fields);
    const { document } = toMongoDocument(bson);
    expect(same(serialize(document), bson)).toBe(true);
  });

  it("takes the plain-object path for an ordinary document, Maps only when keys would move, and keeps the _id for the driver either way", () => {
    const id = new ObjectId();
    const plain = toMongoDocument(serialize(makeWeatherDoc(1, id)));
    expect(plain.document instanceof Map).toBe(false);
    expect(plain.id).toEqual(id);
    expect(plain.idPosition).toBe(0);
    const ordered = toMongoDocument(bsonOf([["_id", id], ["counts", new Map([["10", 1]])]]));
    expect(ordered.document instanceof Map).toBe(true);
    // The driver reads `document._id` to decide whether to generate one.
    expect(ordered.document["_id"]).toEqual(id);
    expect(ordered.id).toEqual(id);
  });
});

describe("idPositionOf and restoreIdPosition", () => {
  it("find the _id's place among the top-level fields", () => {
    expect(idPositionOf(serialize({ _id: 1, a: 2 }))).toBe(0);
    expect(idPositionOf(bsonOf([["a", 1], ["b", { _id: 3 }], ["_id", 2]]))).toBe(2);
    expect(idPositionOf(serialize({ a: 1 }))).toBe(-1);
  });

  it("give back the bytes ingested from what MongoDB stored (_id first)", () => {
    const fields: [string, unknown][] = [["deviceId", "WX1"], ["nested", { _id: 9, a: [1, 2] }], ["_id", new ObjectId()], ["value", new Double(1.5)]];
    const ingested = bsonOf(fields);
    const stored = storedByMongo(fields);
    expect(same(stored, ingested)).toBe(false);
    expect(same(restoreIdPosition(stored, idPositionOf(ingested)), ingested)).toBe(true);
    // Last place, too.
    const last: [string, unknown][] = [["a", 1], ["_id", "k"]];
    expect(same(restoreIdPosition(storedByMongo(last), 1), bsonOf(last))).toBe(true);
  });

  it("leave a document whose _id is first untouched (the same bytes, no copy)", () => {
    const stored = serialize({ _id: 1, a: 2 });
    expect(restoreIdPosition(stored, 0)).toBe(stored);
  });
});

describe("delivery records", () => {
  const meta = { userId: "0123456789abcdef01234567", arrivedAt: new Date(1_700_000_000_000), queueId: "q1" };

  it("are keyed by (collection, _id) with an Int32 _id widened, and keep the _id place only when it is not first", () => {
    const record = buildDeliveryRecord("WeatherSensor", new Int32(7), 0, 42n, meta);
    expect(record).toEqual({ _id: { collection: "WeatherSensor", id: Long.fromNumber(7) }, userId: meta.userId, queueId: "q1", seq: Long.fromBigInt(42n), arrivedAt: meta.arrivedAt });
    expect(same(serialize(deliveryKey("W", new Int32(7))), serialize(deliveryKey("W", Long.fromNumber(7))))).toBe(true);
    expect(buildDeliveryRecord("WeatherSensor", "k", 3, 1n, meta)["idPosition"]).toBe(3);
  });

  it("read back as stored (promoteValues: false), and their key gives the document's idKey", () => {
    const stored = deserialize(serialize(buildDeliveryRecord("WeatherSensor", new Int32(7), 2, 42n, meta)), { promoteValues: false });
    expect(readDeliveryRecord(stored)).toEqual({ ...meta, seq: 42n, idPosition: 2 });
    const first = deserialize(serialize(buildDeliveryRecord("WeatherSensor", "k", 0, 1n, meta)), { promoteValues: false });
    expect(readDeliveryRecord(first).idPosition).toBe(0);
    // readDocuments joins records to documents by this text.
    const id = (stored["_id"] as Document)["id"];
    expect(storedDocumentText(serialize({ _id: id })).idKey).toBe(storedDocumentText(serialize({ _id: new Int32(7), a: 1 })).idKey);
  });
});

describe("judgeStoredConflict", () => {
  const meta = { userId: "u", arrivedAt: new Date(), queueId: "q" };
  const fields: [string, unknown][] = [["deviceId", "WX1"], ["_id", new ObjectId()], ["value", new Double(1.5)]];
  const entry = entryOf(bsonOf(fields));
  const delivery = (idPosition: number) => readDeliveryRecord(buildDeliveryRecord("WeatherSensor", fields[1]![1], idPosition, 1n, meta));

  it("accepts the same document (a retry), restoring the _id place from its record", () => {
    expect(judgeStoredConflict(entry, 1, storedByMongo(fields), delivery(1))).toEqual({ verdict: null, writeDelivery: false });
  });

  it("accepts it and writes its missing record when an earlier try stopped between documents and records", () => {
    expect(judgeStoredConflict(entry, 1, storedByMongo(fields), null)).toEqual({ verdict: null, writeDelivery: true });
  });

  it("judges a later entry of the batch against the document the batch stored (its record not written yet), and writes no second record", () => {
    const idFirst = bsonOf([fields[1]!, fields[0]!, fields[2]!]);
    // The batch stored `fields` (`_id` second); a later entry with `_id` first is another document.
    expect(judgeStoredConflict(entryOf(idFirst, 2n), 0, storedByMongo(fields), null, 1).verdict?.code).toBe("duplicate_id");
    expect(judgeStoredConflict(entry, 1, storedByMongo(fields), null, 1)).toEqual({ verdict: null, writeDelivery: false });
  });

  it("answers duplicate_id for another document with the _id, for one that differs only in its fields' order, and when it vanished", () => {
    const other: [string, unknown][] = [["deviceId", "WX2"], ["_id", fields[1]![1]], ["value", new Double(1.5)]];
    expect(judgeStoredConflict(entry, 1, storedByMongo(other), delivery(1)).verdict?.code).toBe("duplicate_id");
    // Stored with `_id` first by its own delivery: not the bytes this entry carries.
    expect(judgeStoredConflict(entry, 1, storedByMongo(fields), delivery(0)).verdict?.code).toBe("duplicate_id");
    expect(judgeStoredConflict(entry, 1, null, null)).toEqual({ verdict: expect.objectContaining({ code: "duplicate_id", seq: 1n }), writeDelivery: false });
  });
});

describe("checkMongoDocumentSize", () => {
  const weatherOfSize = (bytes: number) => {
    const base = serialize({ ...makeWeatherDoc(1), notes: "" }).length;
    return serialize({ ...makeWeatherDoc(1), notes: "x".repeat(bytes - base) });
  };

  it("passes a document below 16 MiB (the plain document is the BSON received: nothing is added)", () => {
    const fits = weatherOfSize(maxDocumentBytes - 1);
    expect(fits.length).toBe(mongoMaxDocumentBytes - 1);
    expect(checkMongoDocumentSize(entryOf(fits))).toBeNull();
  });

  it("gives a document of exactly 16 MiB (the ingest limit, which the driver refuses) document_too_large instead of failing the batch", () => {
    const maximal = weatherOfSize(maxDocumentBytes);
    expect(checkMongoDocumentSize(entryOf(maximal, 5n))).toEqual({
      seq: 5n,
      table: "WeatherSensor",
      code: "document_too_large",
      reason: expect.stringContaining(`MongoDB takes less than ${mongoMaxDocumentBytes}`),
    });
  });
});

describe("findOldLayoutCollection", () => {
  it("recognises a 0.1 envelope and names the way forward", () => {
    const problem = findOldLayoutCollection("WeatherSensor", { doc: makeWeatherDoc(1), userId: "u", arrivedAt: new Date(), queueId: "q", seq: Long.fromNumber(1) });
    expect(problem).toMatchObject({ kind: "old-layout", table: "WeatherSensor", column: null });
    expect(problem?.wayForward).toContain("start it on a new database");
  });

  it("passes an empty collection and plain documents", () => {
    expect(findOldLayoutCollection("WeatherSensor", null)).toBeNull();
    const { _id, ...plain } = makeWeatherDoc(1);
    expect(findOldLayoutCollection("WeatherSensor", plain)).toBeNull();
  });
});
