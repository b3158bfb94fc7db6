/**
 * The SQLite store on the typed tables, on real files: the table a model gets and what a
 * document ingested over HTTP becomes in it (natural columns an analyst reads, the exact bytes
 * read back); asymgen 0.1's layout refused with the table named and the file left as it was; a
 * schema change through the store (an optional property adds a column, a type change is refused
 * with table, column, old and new type, a removed optional property's column kept with a
 * warning the server logs); a repeated `_id`: the same bytes accepted silently, other bytes
 * rejected as duplicate_id.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "@jest/globals";
import Database from "better-sqlite3";
import { Double, EJSON, Long, ObjectId, serialize } from "bson";
import type { CanonicalObjectSchema, CanonicalPropertySchema } from "../../runtime/schema/canonical-schema.js";
import { createIngestServer } from "../../server/create-server.js";
import type { LogLevel } from "../../server/logger.js";
import { openSqliteStore } from "../../server/stores/sqlite-store.js";
import type { IngestStore } from "../../server/stores/store.js";
import type { StoreBatch } from "../../server/stores/store-batch.js";
import { StoreSchemaError } from "../../server/tables/format-schema-problems.js";
import { encodeBatch, loginAnonymous, makeAllTypesDoc, makeWeatherDoc, newQueueId, postIngest, prop, testSchema } from "../support/ingest-server-fixtures.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-sqlite-typed-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const appId = "typed-app";

/** The columns of `table` as `name type[ pk| not null]`. */
function columnsOf(file: string, table: string): Record<string, string> {
  const db = new Database(file, { readonly: true });
  try {
    const columns = db.prepare("SELECT name, type, \"notnull\", pk FROM pragma_table_xinfo(?)").all(table) as { name: string; type: string; notnull: number; pk: number }[];
    return Object.fromEntries(columns.map((c) => [c.name, `${c.type}${c.pk ? " pk" : c.notnull ? " not null" : ""}`]));
  } finally {
    db.close();
  }
}

/** The SHA-256 of a file's bytes. */
function hashOf(file: string): string {
  return crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

describe("a document ingested over HTTP into its typed table (SQLite file)", () => {
  const file = path.join(dir, "http.sqlite");

  it("gets a column per property with its native type, natural values an analyst reads, and reads back as the exact bytes", async () => {
    const server = await createIngestServer({ schema: testSchema, appId, store: `sqlite:${file}`, quiet: true });
    try {
      const { access_token: token, user_id: userId } = await loginAnonymous(server.url, appId);
      const weather = [makeWeatherDoc(1), makeWeatherDoc(2)];
      const allTypes = makeAllTypesDoc(77);
      const queueId = newQueueId();
      const before = Date.now();
      const result = await postIngest(
        server.url,
        appId,
        token,
        encodeBatch(queueId, [
          { seq: 1, table: "WeatherSensor", doc: weather[0]! },
          { seq: 2, table: "AllTypes", doc: allTypes },
          { seq: 3, table: "WeatherSensor", doc: weather[1]! },
        ]),
      );
      expect(result.answer).toEqual({ acknowledgedSeq: 3n, rejected: [] });

      // What the store gives back: the bytes that were sent, in `_id` order, with the delivery.
      const stored = await server.store.readDocuments("WeatherSensor");
      const expected = [...weather].sort((a, b) => (a["_id"] as ObjectId).toHexString().localeCompare((b["_id"] as ObjectId).toHexString()));
      expect(stored.map((d) => Buffer.from(d.bson).toString("hex"))).toEqual(expected.map((doc) => Buffer.from(serialize(doc)).toString("hex")));
      expect(stored.map((d) => d.idKey)).toEqual(expected.map((doc) => EJSON.stringify(doc["_id"] as ObjectId, { relaxed: false })));
      expect(stored.map((d) => d.ejson)).toEqual(expected.map((doc) => EJSON.stringify(doc, { relaxed: false })));
      for (const d of stored) {
        expect(d).toMatchObject({ userId, queueId });
        expect(d.arrivedAt.getTime()).toBeGreaterThanOrEqual(before - 1000);
      }
      const [typed] = await server.store.readDocuments("AllTypes");
      expect(Buffer.from(typed!.bson).equals(Buffer.from(serialize(allTypes)))).toBe(true);
    } finally {
      await server.close();
    }

    expect(columnsOf(file, "WeatherSensor")).toEqual({
      _id: "TEXT pk",
      deviceId: "TEXT not null",
      temperatureInFahrenheit: "REAL",
      barometricPressureInHg: "REAL",
      windSpeedInMph: "INTEGER not null",
      readings: "TEXT",
      tags: "TEXT",
      attributes: "TEXT",
      notes: "TEXT",
      location: "TEXT",
      $user: "TEXT not null",
      $queue: "TEXT not null",
      $seq: "INTEGER not null",
      $arrived: "TEXT not null",
      $exact: "TEXT",
    });
    expect(columnsOf(file, "AllTypes")).toMatchObject({ _id: "INTEGER pk", count_persisted: "INTEGER not null", amount: "TEXT not null", blob: "BLOB not null" });
    const db = new Database(file, { readonly: true });
    try {
      expect(db.prepare("SELECT value FROM asymgen_meta WHERE key = 'layout'").pluck().get()).toBe("2");
      // Plain SQL over the typed columns: SQLite's JSON and date functions read them directly.
      const rows = db
        .prepare(
          `SELECT "deviceId", "windSpeedInMph", json_extract("location", '$.latitude') AS lat, json_extract("readings", '$[0].value') AS first,
                  strftime('%Y', json_extract("readings", '$[0].at')) AS year, "$seq", "$exact", "$arrived" FROM "WeatherSensor" ORDER BY "$seq"`,
        )
        .all() as Record<string, unknown>[];
      // The first document sends `notes` as null, not absent: only `$exact`'s key order says so.
      const order = JSON.stringify({ $order: Object.keys(makeWeatherDoc(1)) });
      expect(rows.map(({ $arrived: _arrived, ...row }) => row)).toEqual([
        { deviceId: "WX1", windSpeedInMph: 1, lat: 47.5, first: 1 / 7, year: "2023", $seq: 1, $exact: order },
        { deviceId: "WX2", windSpeedInMph: 2, lat: 47.5, first: 2 / 7, year: "2023", $seq: 3, $exact: null },
      ]);
      // Arrival as ISO 8601 text with ms, like every date column.
      expect(rows[0]!["$arrived"]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    } finally {
      db.close();
    }
  });
});

describe("a store in asymgen 0.1's layout", () => {
  /** A SQLite file exactly as asymgen 0.1 made it (its DDL and pragmas), with one document. */
  function makeOldStore(file: string): void {
    const db = new Database(file);
    db.pragma("journal_mode = WAL");
    db.exec(`
      CREATE TABLE IF NOT EXISTS asymgen_queues (queue_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, high_seq INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS asymgen_rejections (queue_id TEXT NOT NULL, seq INTEGER NOT NULL, table_name TEXT NOT NULL,
        code TEXT NOT NULL, reason TEXT NOT NULL, PRIMARY KEY (queue_id, seq));
      CREATE TABLE IF NOT EXISTS asymgen_auth (kind TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (kind, key));
      CREATE TABLE IF NOT EXISTS "WeatherSensor" (_id TEXT PRIMARY KEY, doc TEXT NOT NULL, user_id TEXT NOT NULL,
        arrived_at INTEGER NOT NULL, queue_id TEXT NOT NULL, seq INTEGER NOT NULL);
    `);
    const doc = makeWeatherDoc(1);
    db.prepare(`INSERT INTO "WeatherSensor" VALUES (?, ?, 'u', 0, 'q', 1)`).run(EJSON.stringify(doc["_id"], { relaxed: false }), EJSON.stringify(doc, { relaxed: false }));
    db.prepare("INSERT INTO asymgen_queues VALUES ('q', 'u', 1)").run();
    db.close();
  }

  it("is refused by createIngestServer with a message naming the table, and the file is left as it was", async () => {
    const file = path.join(dir, "old-server.sqlite");
    makeOldStore(file);
    const hash = hashOf(file);
    const starting = createIngestServer({ schema: testSchema, appId, store: `sqlite:${file}`, quiet: true });
    await expect(starting).rejects.toBeInstanceOf(StoreSchemaError);
    await expect(starting).rejects.toThrow(/nothing was changed[\s\S]*"WeatherSensor": the store has the asymgen 0\.1 layout/);
    expect(hashOf(file)).toBe(hash);
    expect(fs.existsSync(`${file}-wal`)).toBe(false);
    const db = new Database(file, { readonly: true });
    try {
      const names = (db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").pluck().all() as string[]);
      expect(names).toEqual(["WeatherSensor", "asymgen_auth", "asymgen_queues", "asymgen_rejections"]);
    } finally {
      db.close();
    }
  });

  it("is refused by the store's prepare (openSqliteStore), also when every model table is new: the server tables tell", async () => {
    const file = path.join(dir, "old-store.sqlite");
    makeOldStore(file);
    const hash = hashOf(file);
    const store = await openSqliteStore(file);
    try {
      const onlyNewTables = testSchema.filter((model) => model.name !== "WeatherSensor");
      const error = (await store.prepare(onlyNewTables).catch((e: unknown) => e)) as StoreSchemaError;
      expect(error).toBeInstanceOf(StoreSchemaError);
      expect(error.problems.map((p) => [p.kind, p.table])).toEqual([["old-layout", "asymgen_queues"]]);
      expect(error.message).toContain('"asymgen_queues": the store has an asymgen 0.1 store');
      await expect(store.prepare(testSchema)).rejects.toThrow('"WeatherSensor": the store has the asymgen 0.1 layout');
    } finally {
      await store.close();
    }
    expect(hashOf(file)).toBe(hash);
  });
});

describe("a store with a table that is not asymgen's", () => {
  it("is refused, and prepare leaves it as it was (no server tables, no asymgen_meta)", async () => {
    const file = path.join(dir, "foreign.sqlite");
    const db = new Database(file);
    db.exec('CREATE TABLE "WeatherSensor" (id INTEGER PRIMARY KEY, reading REAL)');
    db.close();
    const store = await openSqliteStore(file);
    try {
      const error = (await store.prepare(testSchema).catch((e: unknown) => e)) as StoreSchemaError;
      expect(error).toBeInstanceOf(StoreSchemaError);
      expect(error.problems.map((p) => p.table)).toContain("WeatherSensor");
    } finally {
      await store.close();
    }
    const check = new Database(file, { readonly: true });
    try {
      const names = (check.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").pluck().all() as string[]).filter((n) => !n.startsWith("sqlite_"));
      // asymgen_auth alone: opening makes it (the apikey commands need it); everything else waits for a plan that passes.
      expect(names).toEqual(["WeatherSensor", "asymgen_auth"]);
    } finally {
      check.close();
    }
  });
});

describe("schema changes through the store", () => {
  const id = prop("id", "objectId", { mapTo: "_id" });
  function reading(extra: Record<string, CanonicalPropertySchema> = {}, count: CanonicalPropertySchema = prop("count", "int")): CanonicalObjectSchema {
    return { name: "Reading", asymmetric: true, embedded: false, primaryKey: "id", properties: { id, deviceId: prop("deviceId", "string"), count, ...extra } };
  }
  function batch(queueId: string, docs: Record<string, unknown>[], firstSeq = 1): StoreBatch {
    return {
      queueId,
      ifAcknowledgedSeq: null,
      userId: "user-1",
      arrivedAt: new Date(),
      entries: docs.map((doc, i) => ({
        kind: "document",
        seq: BigInt(firstSeq + i),
        table: "Reading",
        idKey: EJSON.stringify(doc["_id"], { relaxed: false }),
        bson: serialize(doc),
      })),
    };
  }
  const file = path.join(dir, "evolve.sqlite");
  const first = { _id: new ObjectId(), deviceId: "a", count: Long.fromNumber(1) };
  const second = { _id: new ObjectId(), deviceId: "b", count: Long.fromNumber(2), note: "new" };

  async function withStore<T>(run: (store: IngestStore) => Promise<T>): Promise<T> {
    const store = await openSqliteStore(file);
    try {
      return await run(store);
    } finally {
      await store.close();
    }
  }

  it("adds a column for an added optional property; old rows still read back exactly", async () => {
    await withStore(async (store) => {
      expect(await store.prepare([reading()])).toEqual([]);
      expect((await store.ingest(batch("evolve", [first]))).status).toBe("ok");
    });
    expect(Object.keys(columnsOf(file, "Reading"))).not.toContain("note");
    await withStore(async (store) => {
      expect(await store.prepare([reading({ note: prop("note", "string", { optional: true }) })])).toEqual([]);
      expect(await store.ingest(batch("evolve", [second], 2))).toEqual({ status: "ok", acknowledgedSeq: 2n, rejected: [] });
      const stored = await store.readDocuments("Reading");
      const bytes = (doc: Record<string, unknown>) => Buffer.from(serialize(doc)).toString("hex");
      expect(new Set(stored.map((d) => Buffer.from(d.bson).toString("hex")))).toEqual(new Set([bytes(first), bytes(second)]));
    });
    expect(columnsOf(file, "Reading")["note"]).toBe("TEXT");
  });

  it("refuses a type change, naming table, column, old and new type, and changes nothing", async () => {
    const hash = hashOf(file);
    await withStore(async (store) => {
      const changed = reading({ note: prop("note", "string", { optional: true }) }, prop("count", "string"));
      const error = (await store.prepare([changed]).catch((e: unknown) => e)) as StoreSchemaError;
      expect(error).toBeInstanceOf(StoreSchemaError);
      expect(error.problems).toEqual([expect.objectContaining({ kind: "type-changed", table: "Reading", column: "count", was: "int (INTEGER)", now: "string (TEXT)" })]);
      expect(error.message).toContain('"Reading"."count": the store has int (INTEGER), the schema asks string (TEXT)');
    });
    expect(hashOf(file)).toBe(hash);
    expect(columnsOf(file, "Reading")["count"]).toBe("INTEGER not null");
  });

  it("keeps a removed optional property's column, and the server logs the warning prepare returns", async () => {
    const logs: [LogLevel, string][] = [];
    const server = await createIngestServer({
      schema: [reading()],
      appId,
      store: `sqlite:${file}`,
      logger: { log: (level, message) => logs.push([level, message]) },
    });
    await server.close();
    expect(logs.filter(([level]) => level === "warn").map(([, message]) => message)).toContain(
      'kept "Reading"."note": no longer in the schema; the old values stay, new rows leave it NULL',
    );
    expect(columnsOf(file, "Reading")["note"]).toBe("TEXT");
    // The row written with `note` still reads back as the exact document ingested (its column is
    // read as retired), and a new row leaves the column NULL.
    const third = { _id: new ObjectId(), deviceId: "c", count: Long.fromNumber(3) };
    await withStore(async (store) => {
      expect(await store.prepare([reading()])).toHaveLength(1);
      expect((await store.ingest(batch("evolve", [third], 3))).status).toBe("ok");
      const stored = await store.readDocuments("Reading");
      const bytes = (doc: Record<string, unknown>) => Buffer.from(serialize(doc)).toString("hex");
      expect(new Set(stored.map((d) => Buffer.from(d.bson).toString("hex")))).toEqual(new Set([bytes(first), bytes(second), bytes(third)]));
    });
  });

  it("keeps working after a kept column is dropped by hand (the retired column is left out)", async () => {
    const db = new Database(file);
    db.exec('ALTER TABLE "Reading" DROP COLUMN "note"');
    db.close();
    const fourth = { _id: new ObjectId(), deviceId: "d", count: Long.fromNumber(4) };
    await withStore(async (store) => {
      await store.prepare([reading()]);
      expect(await store.ingest(batch("evolve", [fourth], 4))).toEqual({ status: "ok", acknowledgedSeq: 4n, rejected: [] });
      expect((await store.readDocuments("Reading")).map((d) => d.ejson)).toContain(EJSON.stringify(fourth, { relaxed: false }));
    });
  });
});

describe("a document whose _id is already stored", () => {
  it("is accepted silently when its bytes are the same, rejected as duplicate_id when they differ (key order too)", async () => {
    const store = await openSqliteStore(path.join(dir, "duplicates.sqlite"));
    try {
      await store.prepare(testSchema);
      const doc = makeWeatherDoc(3);
      const entry = (seq: number, bson: Uint8Array) => ({
        kind: "document" as const,
        seq: BigInt(seq),
        table: "WeatherSensor",
        idKey: EJSON.stringify(doc["_id"], { relaxed: false }),
        bson,
      });
      const base = { ifAcknowledgedSeq: null, userId: "user-1", arrivedAt: new Date() };
      expect(await store.ingest({ ...base, queueId: "dup-1", entries: [entry(1, serialize(doc))] })).toEqual({ status: "ok", acknowledgedSeq: 1n, rejected: [] });
      // Another queue re-sends it (a client that lost its acknowledgement), then sends the same
      // `_id` with a changed value, then with the same values in another key order.
      const { deviceId, ...rest } = doc;
      const result = await store.ingest({
        ...base,
        queueId: "dup-2",
        entries: [
          entry(1, serialize(doc)),
          entry(2, serialize({ ...doc, temperatureInFahrenheit: new Double(1.5) })),
          entry(3, serialize({ ...rest, deviceId })),
        ],
      });
      expect(result).toEqual({
        status: "ok",
        acknowledgedSeq: 3n,
        rejected: [2n, 3n].map((seq) => ({ seq, table: "WeatherSensor", code: "duplicate_id", reason: expect.stringContaining("already stored") })),
      });
      const stored = await store.readDocuments("WeatherSensor");
      expect(stored).toHaveLength(1);
      expect(Buffer.from(stored[0]!.bson).equals(Buffer.from(serialize(doc)))).toBe(true);
      expect(stored[0]!.queueId).toBe("dup-1");
    } finally {
      await store.close();
    }
  });
});

describe("a wide model", () => {
  it("is inserted in statements under SQLite's 32766-parameter cap (columns × rows)", async () => {
    // 125 parameters a row: 500 rows a statement would be 62500.
    const names = Array.from({ length: 120 }, (_, i) => `p${i}`);
    const wide: CanonicalObjectSchema = {
      name: "Wide",
      asymmetric: true,
      embedded: false,
      primaryKey: "id",
      properties: Object.fromEntries([["id", prop("id", "int", { mapTo: "_id" })], ...names.map((name) => [name, prop(name, "int")] as const)]),
    };
    const store = await openSqliteStore(path.join(dir, "wide.sqlite"));
    try {
      await store.prepare([wide]);
      const docs = Array.from({ length: 600 }, (_, n) => serialize(Object.fromEntries([["_id", Long.fromNumber(n)], ...names.map((name, i) => [name, Long.fromNumber(n * i)] as const)])));
      const result = await store.ingest({
        queueId: "wide",
        ifAcknowledgedSeq: null,
        userId: "user-1",
        arrivedAt: new Date(),
        entries: docs.map((bson, n) => ({ kind: "document", seq: BigInt(n + 1), table: "Wide", idKey: `{"$numberLong":"${n}"}`, bson })),
      });
      expect(result).toEqual({ status: "ok", acknowledgedSeq: 600n, rejected: [] });
      expect((await store.countRows())["Wide"]).toBe(600);
    } finally {
      await store.close();
    }
  });
});

describe("a schema without the embedded models its tables need", () => {
  it("is refused by prepare, naming the missing model (its rows would otherwise keep every nested value twice)", async () => {
    const file = path.join(dir, "incomplete.sqlite");
    const store = await openSqliteStore(file);
    try {
      await expect(store.prepare(testSchema.filter((model) => model.asymmetric))).rejects.toThrow(
        'store: "WeatherSensor.readings" refers to the model "Reading", which is not in the schema given to prepare (give the whole schema, embedded models included)',
      );
    } finally {
      await store.close();
    }
    expect(columnsOf(file, "WeatherSensor")).toEqual({});
  });
});
