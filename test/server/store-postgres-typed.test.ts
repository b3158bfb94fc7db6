/**
 * The PostgreSQL store on typed tables, on a real PostgreSQL (a throwaway database per server
 * start; skipped, visibly, without PostgreSQL): the table a model gets, the whole type table
 * through the real ingest path (HTTP) read back byte for byte, duplicate `_id`s judged by bytes,
 * a string `_id` PostgreSQL cannot key, the asymgen 0.1 layout refused, and schema changes
 * applied or refused with nothing changed.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Long, serialize } from "bson";
import type pg from "pg";
import type { CanonicalObjectSchema } from "asymgen/schema";
import { createIngestServer, type IngestServer } from "../../server/create-server.js";
import { openPostgresStore } from "../../server/stores/postgres-store.js";
import { StoreSchemaError } from "../../server/tables/format-schema-problems.js";
import {
  encodeBatch,
  encodeRawBatch,
  loginAnonymous,
  makeWeatherDoc,
  newQueueId,
  postIngest,
  prop,
  sharedTestSecret,
  testSchema,
} from "../support/ingest-server-fixtures.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { everything, inner, typeTableCases } from "./tables/type-table-cases.js";

const appId = "typed-app";
const probe = await createTestDatabase("typed_probe");
await probe?.drop();
const run = probe ? describe : describe.skip;

const databases: TestDatabase[] = [];
async function freshDatabase(label: string): Promise<TestDatabase> {
  const database = await createTestDatabase(label);
  if (!database) throw new Error("PostgreSQL became unreachable");
  databases.push(database);
  return database;
}
afterAll(async () => {
  await Promise.all(databases.map((database) => database.drop()));
});

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const { default: driver } = await import("pg");
  const client = new driver.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

async function startServer(url: string, schema: readonly CanonicalObjectSchema[]): Promise<IngestServer> {
  return createIngestServer({ schema: [...schema], appId, store: url, quiet: true, auth: { secret: sharedTestSecret } });
}

/** The public tables of the database. */
async function tableNames(url: string): Promise<string[]> {
  return withClient(url, async (client) =>
    (await client.query<{ n: string }>("SELECT table_name AS n FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1")).rows.map((r) => r.n),
  );
}

/** A table's columns as the catalog has them: name, type (format_type), NOT NULL, primary key. */
async function columnsOf(url: string, table: string): Promise<string[]> {
  return withClient(url, async (client) =>
    (
      await client.query<{ line: string }>(
        `SELECT a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
                || CASE WHEN EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisprimary AND a.attnum = ANY(i.indkey)) THEN ' PK' ELSE '' END AS line
         FROM pg_attribute a WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
        [`"${table}"`],
      )
    ).rows.map((r) => r.line),
  );
}

run("the PostgreSQL store on typed tables", () => {
  describe("one server on the test schema", () => {
    let database: TestDatabase;
    let server: IngestServer;
    let token: string;
    beforeAll(async () => {
      database = await freshDatabase("typed");
      server = await startServer(database.url, testSchema);
      token = (await loginAnonymous(server.url, appId)).access_token;
    });
    afterAll(async () => {
      await server?.close();
    });

    it("gives a model a typed table: a column per property, natural types, the delivery metadata, and records the layout", async () => {
      expect(await columnsOf(database.url, "WeatherSensor")).toEqual([
        "_id text NOT NULL PK",
        // text may have to leave a string with NUL to $exact, so even a required one allows NULL.
        "deviceId text",
        "temperatureInFahrenheit double precision NOT NULL",
        "barometricPressureInHg double precision NOT NULL",
        "windSpeedInMph bigint NOT NULL",
        "readings jsonb",
        "tags jsonb",
        "attributes jsonb",
        "notes text",
        "location jsonb",
        "$user text NOT NULL",
        "$queue text NOT NULL",
        "$seq bigint NOT NULL",
        "$arrived timestamp with time zone NOT NULL",
        "$exact json",
      ]);
      expect(await columnsOf(database.url, "AllTypes")).toEqual(
        expect.arrayContaining(["_id bigint NOT NULL PK", "count_persisted bigint NOT NULL", "amount numeric NOT NULL", "uid uuid NOT NULL", "blob bytea NOT NULL"]),
      );
      expect(await columnsOf(database.url, "device_event")).toContain("_id uuid NOT NULL PK");
      expect(await tableNames(database.url)).toEqual(["AllTypes", "WeatherSensor", "asymgen_auth", "asymgen_meta", "asymgen_queues", "asymgen_rejections", "device_event"]);
      const layout = await withClient(database.url, async (client) => (await client.query("SELECT value FROM asymgen_meta WHERE key = 'layout'")).rows);
      expect(layout).toEqual([{ value: "2" }]);
    });

    it("stores a document's values in its columns, readable by SQL", async () => {
      const doc = makeWeatherDoc(3);
      const queueId = newQueueId();
      const result = await postIngest(server.url, appId, token, encodeBatch(queueId, [{ seq: 7, table: "WeatherSensor", doc }]));
      expect(result.answer).toEqual({ acknowledgedSeq: 7n, rejected: [] });
      const row = await withClient(database.url, async (client) =>
        (
          await client.query(
            `SELECT "deviceId", "windSpeedInMph"::text AS wind, readings->0->>'value' AS v, attributes->>'név' AS nev, notes, "$queue", "$seq"::text AS seq, "$exact"::text AS exact
             FROM "WeatherSensor" WHERE _id = $1`,
            [(doc["_id"] as { toHexString(): string }).toHexString()],
          )
        ).rows[0],
      );
      // notes is a null that was sent, not an absence: only $order can say so.
      expect(row).toEqual({ deviceId: "WX3", wind: "3", v: String(3 / 7), nev: "ünïcødé ✓", notes: null, $queue: queueId, seq: "7", exact: expect.stringContaining('"$order"') });
    });

    it("refuses a string _id with NUL as invalid_document, storing the rest of the batch", async () => {
      // The test schema has no string key: a second server on the same store with one more model.
      const keyed: CanonicalObjectSchema = {
        name: "Keyed",
        asymmetric: true,
        embedded: false,
        primaryKey: "id",
        properties: { id: prop("id", "string", { mapTo: "_id" }), note: prop("note", "string") },
      };
      const second = await startServer(database.url, [...testSchema, keyed]);
      try {
        const queueId = newQueueId();
        const docs = [
          { _id: "plain", note: "stored" },
          { _id: "a\u0000b", note: "refused" },
          { _id: "a\u0000b", note: "refused again" },
          { _id: "also \u00e9", note: "stored" },
        ];
        const result = await postIngest(
          second.url,
          appId,
          token,
          encodeBatch(
            queueId,
            docs.map((doc, i) => ({ seq: i + 1, table: "Keyed", doc })),
          ),
        );
        expect(result.status).toBe(200);
        const nul = { table: "Keyed", code: "invalid_document", reason: expect.stringMatching(/^_id: .*NUL/) };
        expect(result.answer).toEqual({ acknowledgedSeq: 4n, rejected: [{ seq: 2n, ...nul }, { seq: 3n, ...nul }] });
        const stored = await second.store.readDocuments("Keyed");
        expect(stored.map((d) => [d.idKey, d.ejson])).toEqual([
          ['"also \u00e9"', '{"_id":"also \u00e9","note":"stored"}'],
          ['"plain"', '{"_id":"plain","note":"stored"}'],
        ]);
        // The verdicts are kept and replayed like any other.
        const retry = await postIngest(second.url, appId, token, encodeBatch(queueId, docs.map((doc, i) => ({ seq: i + 1, table: "Keyed", doc }))));
        expect(retry.answer).toEqual(result.answer);
      } finally {
        await second.close();
      }
    });
  });

  describe("the whole type table through the ingest route", () => {
    let database: TestDatabase;
    let server: IngestServer;
    let token: string;
    const cases = typeTableCases();
    /** Cases the server's validator refuses before the store (a mixed holding an object or array: design notes, open point). */
    const refusedByValidator = new Set<string>();
    beforeAll(async () => {
      database = await freshDatabase("typed_types");
      server = await startServer(database.url, [everything, inner]);
      token = (await loginAnonymous(server.url, appId)).access_token;
    });
    afterAll(async () => {
      await server?.close();
    });

    async function send(queueId: string, bsons: readonly Uint8Array[]): Promise<{ seq: bigint; code: string; reason: string }[]> {
      const rejected: { seq: bigint; code: string; reason: string }[] = [];
      for (let from = 0; from < bsons.length; from += 20) {
        const entries = bsons.slice(from, from + 20).map((bson, i) => ({ seq: from + i + 1, table: "Everything", bson }));
        const result = await postIngest(server.url, appId, token, encodeRawBatch(queueId, entries));
        expect(result.status).toBe(200);
        rejected.push(...(result.answer?.rejected ?? []));
      }
      return rejected;
    }

    it("stores every case the validator accepts and reads back exactly the bytes sent", async () => {
      const rejected = await send(
        newQueueId(),
        cases.map((c) => c.bson),
      );
      for (const verdict of rejected) {
        expect(verdict).toMatchObject({ code: "invalid_document", reason: "m: expected a scalar value (mixed)" });
        refusedByValidator.add(cases[Number(verdict.seq) - 1]!.name);
      }
      // Only what the validator refuses today (a mixed holding an object, an array or a user-defined
      // binary subtype: the design notes' open point), never a store failure.
      expect([...refusedByValidator].sort()).toEqual(
        [
          "mixed binary 0x80",
          "mixed object",
          "mixed object with integer-like keys",
          "mixed array",
          "mixed empty object",
          "mixed empty array",
          "deep mixed arrays (25 levels)",
        ].sort(),
      );
      const stored = new Map((await server.store.readDocuments("Everything")).map((d) => [d.idKey, d]));
      let compared = 0;
      for (const typeCase of cases) {
        if (refusedByValidator.has(typeCase.name)) continue;
        const id = [...stored.values()].find((d) => Buffer.from(d.bson).equals(Buffer.from(typeCase.bson)));
        expect({ name: typeCase.name, stored: id !== undefined }).toEqual({ name: typeCase.name, stored: true });
        compared++;
      }
      expect(stored.size).toBe(compared);
    });

    it("accepts every stored case re-sent with the same bytes (compared through rowToDocument), refuses a changed one", async () => {
      const accepted = cases.filter((c) => !refusedByValidator.has(c.name));
      expect(await send(newQueueId(), accepted.map((c) => c.bson))).toEqual([]);
      const changed = Buffer.from(accepted[0]!.bson);
      // Flip the ordinary document's bool: same _id, different bytes.
      const flag = changed.indexOf(Buffer.from("b\0\x01", "latin1"));
      changed[flag + 2] = 0;
      const verdicts = await send(newQueueId(), [changed]);
      expect(verdicts).toEqual([{ seq: 1n, table: "Everything", code: "duplicate_id", reason: expect.stringContaining("already stored") }]);
      expect((await server.store.countRows())["Everything"]).toBe(accepted.length);
    });
  });

  it("reads rows back exactly on a database configured with another DateStyle and rounded doubles", async () => {
    const database = await freshDatabase("typed_settings");
    // Settings a DBA may have made: the store's sessions must not inherit them (dates are parsed
    // from ISO text, doubles must print at full precision).
    await withClient(database.url, (client) => client.query(`ALTER DATABASE ${database.name} SET DateStyle = 'German, DMY'; ALTER DATABASE ${database.name} SET extra_float_digits = -3`));
    const server = await startServer(database.url, [everything, inner]);
    try {
      const { access_token: token } = await loginAnonymous(server.url, appId);
      const chosen = typeTableCases().filter((c) => /^(ordinary|double|date|list of dates|list of doubles)/.test(c.name));
      const result = await postIngest(server.url, appId, token, encodeRawBatch(newQueueId(), chosen.map((c, i) => ({ seq: i + 1, table: "Everything", bson: c.bson }))));
      expect(result.answer?.rejected).toEqual([]);
      const stored = (await server.store.readDocuments("Everything")).map((d) => Buffer.from(d.bson).toString("hex")).sort();
      expect(stored).toEqual(chosen.map((c) => Buffer.from(c.bson).toString("hex")).sort());
      // And a re-send is judged on those bytes: accepted.
      const again = await postIngest(server.url, appId, token, encodeRawBatch(newQueueId(), chosen.map((c, i) => ({ seq: i + 1, table: "Everything", bson: c.bson }))));
      expect(again.answer?.rejected).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it("inserts benchmark rows made ahead into the typed table, skipping stored keys, and only rows it made", async () => {
    const database = await freshDatabase("typed_bench");
    const store = await openPostgresStore(database.url, { poolSize: 1 });
    try {
      await store.prepare(testSchema);
      const documents = Array.from({ length: 12 }, (_, i) => serialize(makeWeatherDoc(i)));
      const rows = await store.prepareBenchmarkRows("WeatherSensor", documents);
      expect(rows).toMatchObject({ table: "WeatherSensor", count: 12 });
      await store.insertRawForBenchmark(rows);
      await store.insertRawForBenchmark(rows);
      const stored = await store.readDocuments("WeatherSensor");
      expect(stored.map((d) => Buffer.from(d.bson).toString("hex")).sort()).toEqual(documents.map((d) => Buffer.from(d).toString("hex")).sort());
      expect(stored.every((d) => d.userId === "benchmark" && d.queueId === "benchmark")).toBe(true);
      await expect(store.insertRawForBenchmark({ table: "WeatherSensor", count: 1 })).rejects.toThrow(/rows this store's prepareBenchmarkRows made/);
    } finally {
      await store.close();
    }
  });

  it("serves a store whose first use was an apikey command (only asymgen_auth: not a 0.1 store)", async () => {
    const database = await freshDatabase("typed_auth_first");
    const store = await openPostgresStore(database.url, { poolSize: 1 });
    try {
      expect(await store.putAuthRecord("apikey", "k1", "{}", true)).toBe(true);
    } finally {
      await store.close();
    }
    expect(await tableNames(database.url)).toEqual(["asymgen_auth"]);
    const server = await startServer(database.url, testSchema);
    try {
      expect(await server.store.getAuthRecord("apikey", "k1")).toBe("{}");
    } finally {
      await server.close();
    }
  });

  it("refuses a schema without the embedded models its tables nest, before creating anything", async () => {
    const database = await freshDatabase("typed_partial");
    const store = await openPostgresStore(database.url, { poolSize: 1 });
    try {
      await expect(store.prepare(testSchema.filter((model) => model.asymmetric))).rejects.toThrow(
        /"WeatherSensor.readings" refers to the model "Reading", which is not in the schema given to prepare/,
      );
    } finally {
      await store.close();
    }
    expect(await tableNames(database.url)).toEqual(["asymgen_auth"]);
  });

  describe("an asymgen 0.1 store", () => {
    it("is refused at startup with a message naming the table, and nothing is changed", async () => {
      const database = await freshDatabase("typed_old");
      await withClient(database.url, async (client) => {
        await client.query(`CREATE TABLE "WeatherSensor" (_id text PRIMARY KEY, doc json NOT NULL, user_id text NOT NULL,
          arrived_at timestamptz NOT NULL, queue_id text NOT NULL, seq bigint NOT NULL)`);
        await client.query("CREATE TABLE asymgen_queues (queue_id text PRIMARY KEY, user_id text NOT NULL, high_seq bigint NOT NULL)");
        await client.query(`INSERT INTO "WeatherSensor" VALUES ('"x"', '{"_id":"x"}', 'u', now(), 'q', 1)`);
      });
      const before = await tableNames(database.url);
      const failure = await startServer(database.url, testSchema).then(
        async (server) => {
          await server.close();
          return null;
        },
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(StoreSchemaError);
      expect((failure as Error).message).toMatch(/^the store's tables do not fit the schema \(1 problem; nothing was changed\):\n {2}"WeatherSensor": the store has the asymgen 0\.1 layout/);
      // asymgen_auth comes with opening the store (it says nothing about the layout); nothing else.
      expect(await tableNames(database.url)).toEqual([...before, "asymgen_auth"].sort());
      expect(await columnsOf(database.url, "WeatherSensor")).toEqual([
        "_id text NOT NULL PK",
        "doc json NOT NULL",
        "user_id text NOT NULL",
        "arrived_at timestamp with time zone NOT NULL",
        "queue_id text NOT NULL",
        "seq bigint NOT NULL",
      ]);
    });

    it("is refused even when the schema's tables are all new names (its server tables say so)", async () => {
      const database = await freshDatabase("typed_old_queues");
      await withClient(database.url, (client) => client.query("CREATE TABLE asymgen_queues (queue_id text PRIMARY KEY, user_id text NOT NULL, high_seq bigint NOT NULL)"));
      await expect(startServer(database.url, testSchema)).rejects.toThrow(/"asymgen_queues": the store has an asymgen 0\.1 store/);
      expect(await tableNames(database.url)).toEqual(["asymgen_auth", "asymgen_queues"]);
    });
  });

  describe("schema changes", () => {
    const base: CanonicalObjectSchema = {
      name: "Probe",
      asymmetric: true,
      embedded: false,
      primaryKey: "id",
      properties: { id: prop("id", "int", { mapTo: "_id" }), value: prop("value", "double"), gone: prop("gone", "string", { optional: true }) },
    };
    const withProperties = (properties: CanonicalObjectSchema["properties"]): CanonicalObjectSchema => ({ ...base, properties });

    it("adds a new optional property's column, keeps a removed optional one with a warning, and stores and reads documents of both shapes", async () => {
      const database = await freshDatabase("typed_evolve");
      const first = await startServer(database.url, [base]);
      const { access_token: token } = await loginAnonymous(first.url, appId);
      const oldDoc = serialize({ _id: Long.fromBigInt(1n), value: 1.5, gone: "old" });
      const stored = await postIngest(first.url, appId, token, encodeRawBatch(newQueueId(), [{ seq: 1, table: "Probe", bson: oldDoc }]));
      expect(stored.answer?.rejected).toEqual([]);
      await first.close();

      const evolved = withProperties({ id: base.properties["id"]!, value: base.properties["value"]!, added: prop("added", "string", { optional: true, indexed: true }) });
      const store = await openPostgresStore(database.url, { poolSize: 1 });
      try {
        expect(await store.prepare([evolved])).toEqual([
          `kept "Probe"."gone": no longer in the schema; the old values stay, new rows leave it NULL`,
        ]);
      } finally {
        await store.close();
      }
      expect(await columnsOf(database.url, "Probe")).toEqual([
        "_id bigint NOT NULL PK",
        "value double precision NOT NULL",
        "gone text",
        "$user text NOT NULL",
        "$queue text NOT NULL",
        "$seq bigint NOT NULL",
        "$arrived timestamp with time zone NOT NULL",
        "$exact json",
        "added text",
      ]);
      const indexes = await withClient(database.url, async (client) => (await client.query("SELECT indexname FROM pg_indexes WHERE tablename = 'Probe' ORDER BY 1")).rows);
      expect(indexes).toEqual([{ indexname: "Probe.added" }, { indexname: "Probe_pkey" }]);

      const second = await startServer(database.url, [evolved]);
      try {
        const newDoc = serialize({ _id: Long.fromBigInt(2n), value: 2.5, added: "new" });
        const result = await postIngest(second.url, appId, token, encodeRawBatch(newQueueId(), [{ seq: 1, table: "Probe", bson: newDoc }]));
        expect(result.answer?.rejected).toEqual([]);
        const stored = await second.store.readDocuments("Probe");
        expect(stored.map((d) => d.ejson)).toEqual([
          // The old row decodes with its removed property: its column is read back as retired.
          '{"_id":{"$numberLong":"1"},"value":{"$numberDouble":"1.5"},"gone":"old"}',
          '{"_id":{"$numberLong":"2"},"value":{"$numberDouble":"2.5"},"added":"new"}',
        ]);
        expect(Buffer.from(stored[0]!.bson).equals(Buffer.from(oldDoc))).toBe(true);
        expect(Buffer.from(stored[1]!.bson).equals(Buffer.from(newDoc))).toBe(true);
      } finally {
        await second.close();
      }
      const old = await withClient(database.url, async (client) => (await client.query(`SELECT gone FROM "Probe" WHERE _id = 1`)).rows);
      expect(old).toEqual([{ gone: "old" }]);
    });

    it("refuses a changed type, naming the table, the column, the old and the new type, and changes nothing", async () => {
      const database = await freshDatabase("typed_refuse");
      const first = await startServer(database.url, [base]);
      await first.close();
      const before = await columnsOf(database.url, "Probe");
      const changed = withProperties({ ...base.properties, value: prop("value", "string"), extra: prop("extra", "int", { optional: true }) });
      const failure = await startServer(database.url, [changed]).then(
        async (server) => {
          await server.close();
          return null;
        },
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(StoreSchemaError);
      expect((failure as StoreSchemaError).problems.map((p) => [p.kind, p.table, p.column, p.was, p.now])).toEqual([
        ["type-changed", "Probe", "value", "double (double precision)", "string (text)"],
      ]);
      expect((failure as Error).message).toContain(`"Probe"."value": the store has double (double precision), the schema asks string (text)`);
      // The optional column the same plan would have added is not there: the plan is all or nothing.
      expect(await columnsOf(database.url, "Probe")).toEqual(before);
    });
  });
});
