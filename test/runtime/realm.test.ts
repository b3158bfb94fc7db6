import { afterEach, beforeEach, describe, expect, it, jest } from "@jest/globals";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { deserialize } from "bson";
import {
  DocumentTooLargeError,
  IngestValidationError,
  QueueFullError,
  Realm,
  type RecoveryReport,
  RealmSchemaError,
  TransactionStateError,
} from "../../runtime/node/index.js";
import { DurableQueue } from "../../runtime/queue/durable-queue.js";
import { openNodeLogStore } from "../../runtime/node/node-log-store.js";
import "../support/install-node-platform.js";
import { ObjectId } from "bson";
import { DeviceEvent, Reading, WeatherSensor, type WeatherSensorInit } from "../../examples/weather/models.realm.js";
import { LogLine, Measurement, Point, type MeasurementInit } from "../support/queue-models.js";
import { encodeSymbol } from "../../runtime/codegen/model-class.js";
import type { BsonWriter } from "../../runtime/encode/bson-writer.js";

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-realm-"));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function m(id: number, extra: Partial<MeasurementInit> = {}): MeasurementInit {
  return { id, deviceId: "dev", value: id, ...extra };
}

/** What is on disk, read through a fresh queue handle after the Realm closed. */
function queued(): { seq: number; table: string; doc: Record<string, unknown> }[] {
  const queue = DurableQueue.open({ store: openNodeLogStore(dir) });
  try {
    return queue.readBatch(0, 1e9, 1e12).map((d) => ({ seq: d.seq, table: d.table, doc: deserialize(d.bson) }));
  } finally {
    queue.close();
  }
}

describe("Realm", () => {
  it("ingests inside write, returns sequence numbers, and the documents are on disk when write returns", async () => {
    const realm = await Realm.open({ schema: [Measurement, LogLine], path: dir });
    expect(realm.syncSession).toBeNull();
    const result = realm.write(() => {
      const a = realm.ingest(Measurement, m(1));
      const b = realm.ingest(new Measurement(m(2, { location: { latitude: 1, longitude: 2 } })));
      const c = realm.ingest(LogLine, { id: "x", text: "hi" });
      return [a, b, c];
    });
    expect(result).toEqual([1, 2, 3]);
    expect(realm.queueStats()).toMatchObject({ pendingDocuments: 3 });
    expect(realm.queueStats().pendingBytes).toBeGreaterThan(0);
    expect(realm.queueStats().oldestPendingTime).toBeInstanceOf(Date);
    // Without closing: another handle cannot open (lock), so read the segment bytes' length instead.
    realm.close();
    const docs = queued();
    expect(docs.map((d) => [d.seq, d.table])).toEqual([
      [1, "measurement"],
      [2, "measurement"],
      [3, "log_line"],
    ]);
    expect(docs[1]!.doc).toEqual({ _id: 2, deviceId: "dev", value: 2, location: { latitude: 1, longitude: 2 } });
  });

  it("rolls the whole transaction back when the callback throws", async () => {
    const realm = await Realm.open({ schema: [Measurement], path: dir });
    realm.write(() => realm.ingest(Measurement, m(1)));
    expect(() =>
      realm.write(() => {
        realm.ingest(Measurement, m(2));
        realm.ingest(Measurement, m(3));
        throw new Error("app bug");
      }),
    ).toThrow("app bug");
    expect(realm.queueStats().pendingDocuments).toBe(1);
    expect(realm.isInTransaction).toBe(false);
    // Sequence numbers of a rolled-back transaction were never committed; they are given again.
    expect(realm.write(() => realm.ingest(Measurement, m(4)))).toBe(2);
    realm.close();
    expect(queued().map((d) => d.doc._id)).toEqual([1, 4]);
  });

  it("rolls back on a validation error, naming the path; a caught one drops only that document", async () => {
    const realm = await Realm.open({ schema: [Measurement], path: dir });
    let error: unknown;
    try {
      realm.write(() => {
        realm.ingest(Measurement, m(1));
        realm.ingest(Measurement, m(2, { location: { latitude: Number.NaN, longitude: 0 } }));
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(IngestValidationError);
    expect((error as IngestValidationError).path).toBe("location.latitude");
    expect(realm.queueStats().pendingDocuments).toBe(0);
    realm.write(() => {
      realm.ingest(Measurement, m(10));
      expect(() => realm.ingest(Measurement, m(11, { value: Number.POSITIVE_INFINITY }))).toThrow(IngestValidationError);
      realm.ingest(Measurement, m(12));
    });
    realm.close();
    expect(queued().map((d) => [d.seq, d.doc._id])).toEqual([
      [1, 10],
      [2, 12],
    ]);
  });

  it("refuses a transaction past maxQueueBytes with QueueFullError and leaves the queue as it was", async () => {
    const realm = await Realm.open({ schema: [Measurement], path: dir, maxQueueBytes: 4000 });
    let committed = 0;
    let full: unknown;
    try {
      for (let t = 0; t < 100; t++) {
        realm.write(() => {
          for (let i = 0; i < 5; i++) realm.ingest(Measurement, m(t * 5 + i));
        });
        committed += 5;
      }
    } catch (e) {
      full = e;
    }
    expect(full).toBeInstanceOf(QueueFullError);
    expect((full as QueueFullError).maxQueueBytes).toBe(4000);
    const stats = realm.queueStats();
    expect(stats.pendingDocuments).toBe(committed);
    expect(stats.pendingBytes).toBeLessThanOrEqual(4000);
    const segment = path.join(dir, fs.readdirSync(dir).find((n) => n.startsWith("seg-"))!);
    const sizeBefore = fs.statSync(segment).size;
    expect(() => realm.write(() => realm.ingest(Measurement, m(1, { payload: new Uint8Array(5000) })))).toThrow(QueueFullError);
    expect(fs.statSync(segment).size).toBe(sizeBefore);
    expect(realm.queueStats()).toEqual(stats);
    realm.close();
    expect(queued()).toHaveLength(committed);
  });

  it("refuses a document over MongoDB's 16 MiB cap with DocumentTooLargeError", async () => {
    const realm = await Realm.open({ schema: [Measurement], path: dir });
    let error: unknown;
    try {
      realm.write(() => realm.ingest(Measurement, m(1, { payload: new Uint8Array(16 * 1024 * 1024) })));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DocumentTooLargeError);
    expect((error as DocumentTooLargeError).size).toBeGreaterThan(16 * 1024 * 1024);
    // Just under the cap is fine.
    realm.write(() => realm.ingest(Measurement, m(2, { payload: new Uint8Array(16 * 1024 * 1024 - 100) })));
    expect(realm.queueStats().pendingDocuments).toBe(1);
    realm.close();
  });

  it("rejects nested writes, ingest outside a write, async callbacks, unknown and embedded models", async () => {
    const realm = await Realm.open({ schema: [Measurement, Point], path: dir });
    expect(() => realm.ingest(Measurement, m(1))).toThrow(TransactionStateError);
    expect(() => realm.write(() => realm.write(() => 1))).toThrow(/cannot be nested/);
    expect(() => realm.write(() => realm.ingest(LogLine, { id: "a", text: "b" }))).toThrow(RealmSchemaError);
    expect(() => realm.write(() => realm.ingest(Point, { latitude: 1, longitude: 2 }))).toThrow(/embedded/);
    expect(() => realm.write(() => realm.ingest({ id: 1 }))).toThrow(/not in this Realm's schema/);
    expect(() =>
      realm.write(async () => {
        realm.ingest(Measurement, m(1));
      }),
    ).toThrow(/synchronous/);
    expect(realm.queueStats().pendingDocuments).toBe(0);
    realm.close();
    expect(() => realm.write(() => 1)).toThrow(TransactionStateError);
    realm.close(); // idempotent
  });

  it("refuses a schema entry that is not a generated class", async () => {
    await expect(Realm.open({ schema: [class Plain {}] as never, path: dir })).rejects.toThrow(RealmSchemaError);
    await expect(Realm.open({ schema: [], path: dir })).rejects.toThrow(RealmSchemaError);
  });

  it("writeAsync resolves once durable and shares flushes", async () => {
    const realm = await Realm.open({ schema: [Measurement], path: dir });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => realm.writeAsync(() => realm.ingest(Measurement, m(i)))));
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    await expect(realm.writeAsync(() => { throw new Error("nope"); })).rejects.toThrow("nope");
    realm.close();
    expect(queued()).toHaveLength(20);
  });

  it("has no read API, in its type and at run time", async () => {
    const realm = await Realm.open({ schema: [Measurement], path: dir, durability: "os" });
    // @ts-expect-error no objects() on an ingest-only Realm
    expect(realm.objects).toBeUndefined();
    // @ts-expect-error no objectForPrimaryKey()
    expect(realm.objectForPrimaryKey).toBeUndefined();
    // @ts-expect-error no subscriptions
    expect(realm.subscriptions).toBeUndefined();
    // @ts-expect-error no query
    expect(realm.query).toBeUndefined();
    for (const name of ["objects", "query", "objectForPrimaryKey", "subscriptions", "readBatch", "queue"]) expect(name in realm).toBe(false);
    const surface = new Set<string>();
    for (let o: object | null = realm; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
      for (const key of Object.getOwnPropertyNames(o)) surface.add(key);
    }
    expect([...surface].sort()).toEqual(
      ["constructor", "close", "ingest", "isClosed", "isInTransaction", "path", "queueStats", "schema", "syncSession", "write", "writeAsync"].sort(),
    );
    realm.close();
  });

  it("keeps the data across close and reopen, with the same queue", async () => {
    let realm = await Realm.open({ schema: [Measurement], path: dir, durability: "os" });
    realm.write(() => realm.ingest(Measurement, m(1)));
    realm.close();
    realm = await Realm.open({ schema: [Measurement], path: dir, durability: "os" });
    expect(realm.queueStats().pendingDocuments).toBe(1);
    expect(realm.write(() => realm.ingest(Measurement, m(2)))).toBe(2);
    realm.close();
  });

  it("refuses a transaction whose model encoder wrote something other than one document per ingest", async () => {
    class Broken {
      static readonly schema = { ...Measurement.schema, name: "broken" };
      constructor(readonly init: MeasurementInit) {}
      static [encodeSymbol](writer: BsonWriter, value: MeasurementInit): void {
        Measurement[encodeSymbol](writer, value);
        Measurement[encodeSymbol](writer, value);
      }
    }
    const realm = await Realm.open({ schema: [Measurement, Broken], path: dir });
    expect(() =>
      realm.write(() => {
        realm.ingest(Measurement, m(1));
        realm.ingest(Broken, m(2));
      }),
    ).toThrow(/exactly one BSON document/);
    expect(realm.queueStats().pendingDocuments).toBe(0);
    realm.close();
  });
});

describe("Realm recovery and repair", () => {
  function segmentFiles(): string[] {
    return fs.readdirSync(dir).filter((n) => n.startsWith("seg-")).sort().map((n) => path.join(dir, n));
  }

  it("reports what recovery cut through onRecovery and queueStats().lastRecovery", async () => {
    const realm = await Realm.open({ schema: [Measurement], path: dir });
    realm.write(() => realm.ingest(Measurement, m(1)));
    realm.close();
    const file = segmentFiles().at(-1)!;
    const size = fs.statSync(file).size;
    fs.appendFileSync(file, Buffer.from([0x41, 0x47, 0x51])); // an append torn after three bytes
    const reports: RecoveryReport[] = [];
    const warn = jest.spyOn(process, "emitWarning").mockImplementation(() => undefined);
    let reopened: Realm;
    try {
      reopened = await Realm.open({ schema: [Measurement], path: dir, onRecovery: (r) => reports.push(r) });
      expect(warn).toHaveBeenCalledTimes(1);
    } finally {
      warn.mockRestore();
    }
    expect(reports).toEqual([{ kind: "torn-tail", file, offset: size, bytesCut: 3, reason: "frame header is incomplete", lostSeqs: null, droppedSegments: [] }]);
    expect(reopened.queueStats()).toMatchObject({ pendingDocuments: 1, lastRecovery: reports[0] });
    reopened.close();
  });

  it("opens a queue with a damaged sealed segment only with repair: truncate-at-damage", async () => {
    const realm = await Realm.open({ schema: [Measurement], path: dir, segmentBytes: 1024 });
    for (let i = 1; i <= 30; i++) realm.write(() => realm.ingest(Measurement, m(i)));
    realm.close();
    const [first] = segmentFiles();
    const bytes = fs.readFileSync(first!);
    bytes[60] = bytes[60]! ^ 0xff; // inside the first frame's header
    fs.writeFileSync(first!, bytes);
    const warn = jest.spyOn(process, "emitWarning").mockImplementation(() => undefined);
    let repaired: Realm;
    try {
      repaired = await Realm.open({ schema: [Measurement], path: dir, segmentBytes: 1024, repair: "truncate-at-damage" });
    } finally {
      warn.mockRestore();
    }
    expect(repaired.queueStats().lastRecovery).toMatchObject({ kind: "repair", file: first, offset: 48, lostSeqs: { from: 1, to: 30 } });
    expect(repaired.write(() => repaired.ingest(Measurement, m(31)))).toBe(31);
    repaired.close();
    expect(queued().map((d) => d.seq)).toEqual([31]);
  });
});

describe("Realm with the generated weather models", () => {
  function sensor(i: number, overrides: Partial<WeatherSensorInit> = {}): WeatherSensorInit {
    return {
      id: new ObjectId(),
      deviceId: `WX${i}`,
      temperatureInFahrenheit: 70.5,
      barometricPressureInHg: 29.92,
      windSpeedInMph: 12,
      readings: [0, 1, 2].map((k) => ({ at: new Date(1_700_000_000_000 + k), value: 20 + k })),
      tags: new Set(["roof"]),
      attributes: { site: "north" },
      location: { latitude: 47.6, longitude: -122.3, elevationInFeet: 520 },
      ...overrides,
    };
  }

  it("ingests WeatherSensor through its generated encoder, embedded objects inline", async () => {
    const realm = await Realm.open({ schema: [WeatherSensor, DeviceEvent], path: dir });
    const init = sensor(1);
    realm.write(() => {
      realm.ingest(WeatherSensor, init);
      realm.ingest(new WeatherSensor(sensor(2)));
    });
    realm.close();
    const docs = queued();
    expect(docs.map((d) => d.table)).toEqual(["WeatherSensor", "WeatherSensor"]);
    expect(docs[0]!.doc).toMatchObject({ _id: init.id, deviceId: "WX1", readings: [{ value: 20 }, { value: 21 }, { value: 22 }], tags: ["roof"] });
  });

  it("types ingest's init object from the generated class", async () => {
    const realm = await Realm.open({ schema: [WeatherSensor], path: dir });
    expect(() =>
      realm.write(() => {
        // @ts-expect-error deviceId is a string in WeatherSensorInit
        realm.ingest(WeatherSensor, { ...sensor(1), deviceId: 42 });
      }),
    ).toThrow(IngestValidationError);
    realm.close();
  });

  it("rolls back on the generated encoder's validation error, which names the path", async () => {
    const realm = await Realm.open({ schema: [WeatherSensor], path: dir });
    let error: unknown;
    try {
      realm.write(() => {
        realm.ingest(WeatherSensor, sensor(1));
        realm.ingest(WeatherSensor, sensor(2, { readings: [{ at: new Date(), value: 1 }, { at: new Date(), value: 2 }, { at: new Date(), value: Number.NaN }] }));
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(IngestValidationError);
    expect((error as IngestValidationError).path).toBe("readings[2].value");
    expect(realm.queueStats().pendingDocuments).toBe(0);
    // An embedded model reached through links is not ingestable on its own, listed or not.
    expect(() => realm.write(() => realm.ingest(Reading, { at: new Date(), value: 1 }))).toThrow(RealmSchemaError);
    realm.close();
  });
});
