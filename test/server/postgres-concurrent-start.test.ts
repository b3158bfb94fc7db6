/**
 * Servers starting together on one fresh PostgreSQL database race to create the tables. CREATE
 * TABLE IF NOT EXISTS is not safe under that race (the loser fails on the catalog's unique index,
 * "type … already exists"), which made `asymgen serve` exit at startup behind a load balancer.
 * Each must also plan the typed tables on the shape the others left (startup reads, plans and
 * applies under one advisory lock).
 */
import { afterEach, describe, expect, it } from "@jest/globals";
import { openPostgresStore } from "../../server/stores/postgres-store.js";
import type { IngestStore } from "../../server/stores/store.js";
import { testSchema } from "../support/ingest-server-fixtures.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";

const probe = await createTestDatabase("probe_concurrent");
await probe?.drop();

describe("PostgreSQL stores opened and prepared at once on a fresh database", () => {
  const databases: TestDatabase[] = [];
  const stores: IngestStore[] = [];
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
    await Promise.all(databases.splice(0).map((database) => database.drop()));
  });

  (probe ? it : it.skip)("all start, in ten rounds of eight, and every table is there once", async () => {
    const models = testSchema.filter((model) => model.asymmetric && !model.embedded);
    for (let round = 0; round < 10; round++) {
      const database = await createTestDatabase(`concurrent_${round}`);
      if (!database) throw new Error("PostgreSQL became unreachable");
      databases.push(database);
      const opened = await Promise.allSettled(
        Array.from({ length: 8 }, async () => {
          const store = await openPostgresStore(database.url, { poolSize: 2 });
          stores.push(store);
          await store.prepare(testSchema);
          return store;
        }),
      );
      expect(opened.filter((result) => result.status === "rejected").map((result) => String((result as PromiseRejectedResult).reason))).toEqual([]);
      const counts = await stores[stores.length - 1]!.countRows();
      expect(Object.keys(counts).sort()).toEqual(["asymgen_queues", "asymgen_rejections", ...models.map((model) => model.name)].sort());
      // The typed layout recorded, with each table's column record: the later servers found it up to date.
      const { default: driver } = await import("pg");
      const client = new driver.Client({ connectionString: database.url });
      await client.connect();
      try {
        const meta = await client.query<{ key: string }>("SELECT key FROM asymgen_meta ORDER BY key COLLATE \"C\"");
        expect(meta.rows.map((row) => row.key)).toEqual([...models.map((model) => `columns:${model.name}`).sort(), "layout"]);
      } finally {
        await client.end();
      }
      await Promise.all(stores.splice(0).map((store) => store.close()));
    }
  }, 60_000);
});
