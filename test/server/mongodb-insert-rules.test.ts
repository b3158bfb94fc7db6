/**
 * The MongoDB store's rules that need no server (MongoDB cannot run here; the full suite runs in
 * store-mongodb.test.ts when MONGODB_URI is set): how a failed insert is read (only duplicate
 * `_id`s are conflicts; a write-concern failure must fail the batch, so the high-water mark does
 * not move), and the envelope size check that keeps a maximal document from becoming a 500.
 */
import { describe, expect, it } from "@jest/globals";
import { calculateObjectSize, Long, ObjectId, serialize } from "bson";
import { MongoBulkWriteError, MongoServerError } from "mongodb";
import { maxDocumentBytes } from "../../runtime/sync/ingest-protocol.js";
import { buildMongoEnvelope, checkMongoEnvelopeSize, mongoMaxDocumentBytes } from "../../server/stores/mongodb-envelope.js";
import { conflictsOfInsertError } from "../../server/stores/mongodb-insert-conflicts.js";
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

describe("checkMongoEnvelopeSize", () => {
  const meta = { userId: "0123456789abcdef01234567", arrivedAt: new Date(), queueId: "q".repeat(128) };
  const entry = (doc: Record<string, unknown>, seq = 1n): StoreDocumentEntry => ({
    kind: "document",
    seq,
    table: "WeatherSensor",
    idKey: "",
    ejson: "",
    bson: serialize(doc),
  });
  const weatherOfSize = (bytes: number, id: unknown = new ObjectId()) => {
    const base = serialize({ ...makeWeatherDoc(1), _id: id, notes: "" }).length;
    return { ...makeWeatherDoc(1), _id: id, notes: "x".repeat(bytes - base) };
  };

  it("passes ordinary documents without measuring, and builds the envelope around the exact bytes", () => {
    const small = entry(makeWeatherDoc(1), 7n);
    expect(checkMongoEnvelopeSize(small, meta)).toBeNull();
    const envelope = buildMongoEnvelope(small, meta);
    expect(Buffer.from(serialize(envelope["doc"] as Record<string, unknown>)).equals(Buffer.from(small.bson))).toBe(true);
    expect(envelope["seq"]).toEqual(Long.fromBigInt(7n));
  });

  it("gives a maximal document document_too_large (its envelope passes MongoDB's 16 MiB), and passes one that fits", () => {
    const maximal = entry(weatherOfSize(maxDocumentBytes));
    expect(checkMongoEnvelopeSize(maximal, meta)).toEqual({
      seq: 1n,
      table: "WeatherSensor",
      code: "document_too_large",
      reason: expect.stringContaining(`over MongoDB's limit of ${mongoMaxDocumentBytes}`),
    });
    const fits = entry(weatherOfSize(maxDocumentBytes - 1024));
    expect(checkMongoEnvelopeSize(fits, meta)).toBeNull();
    expect(calculateObjectSize(buildMongoEnvelope(fits, meta))).toBeLessThan(mongoMaxDocumentBytes);
  });

  it("counts the _id twice: a 12 MiB document with a 5 MiB string _id does not fit", () => {
    const bigId = "i".repeat(5 * 1024 * 1024);
    const doc = entry(weatherOfSize(12 * 1024 * 1024, bigId));
    expect(checkMongoEnvelopeSize(doc, meta)?.code).toBe("document_too_large");
    const exact = calculateObjectSize(buildMongoEnvelope(doc, meta));
    expect(exact).toBeGreaterThan(mongoMaxDocumentBytes);
  });
});
