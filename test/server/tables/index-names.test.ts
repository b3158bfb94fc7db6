/**
 * Index names past PostgreSQL's 63 bytes: two long `<table>.<column>` names that agree on their
 * first 63 bytes would be truncated to ONE name, and `CREATE INDEX IF NOT EXISTS` would skip the
 * second index without a word. `indexName` cuts such names itself with a hash suffix; on a real
 * PostgreSQL both indexes exist, each on its own column, and the schema plan then finds them.
 */
import { afterAll, describe, expect, it, test } from "@jest/globals";
import type { CanonicalObjectSchema, CanonicalPropertySchema } from "asymgen/schema";
import { createIndexSql, createTableSql, indexName, tableLayoutOf } from "../../../server/tables/table-layout.js";
import { planSchemaChange } from "../../../server/tables/plan-schema-change.js";
import { readPostgresTableShape } from "../../../server/tables/read-table-shape.js";
import { createTestDatabase } from "../../support/postgres.js";

const long = "a_rather_long_property_name_that_goes_on_and_on_and_on_";
function property(name: string, more: Partial<CanonicalPropertySchema> = {}): CanonicalPropertySchema {
  return { name, type: "string", optional: true, indexed: true, mapTo: name, ...more };
}
const model: CanonicalObjectSchema = {
  name: "Telemetry",
  asymmetric: true,
  embedded: false,
  primaryKey: "id",
  properties: {
    id: property("id", { mapTo: "_id", optional: false, indexed: false }),
    first: property("first", { mapTo: `${long}first` }),
    second: property("second", { mapTo: `${long}second` }),
    short: property("short"),
    wide: property("wide", { mapTo: `ünïcödé_${"ß".repeat(25)}` }),
  },
};
const models = new Map([[model.name, model]]);

describe("index names within PostgreSQL's 63 bytes", () => {
  const layout = tableLayoutOf(model, models, "postgres");
  const names = layout.columns.filter((column) => column.indexed).map((column) => indexName(layout, column));

  test("short names stay `<table>.<column>`; long ones are cut with a hash, distinct, at most 63 bytes, whole characters", () => {
    expect(names).toContain("Telemetry.short");
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(Buffer.byteLength(name, "utf8")).toBeLessThanOrEqual(63);
    const cut = names.filter((name) => name !== "Telemetry.short");
    expect(cut).toHaveLength(3);
    for (const name of cut) expect(name).toMatch(/^Telemetry\..*~[0-9a-f]{8}$/);
    // Both long names agree on their first 63 bytes: truncation alone would have merged them.
    expect(Buffer.from(`Telemetry.${long}first`).subarray(0, 63).equals(Buffer.from(`Telemetry.${long}second`).subarray(0, 63))).toBe(true);
    expect(Buffer.from(names.find((name) => name.includes("ß")) as string, "utf8").toString("utf8")).not.toContain("\uFFFD");
  });

  test("SQLite keeps `<table>.<column>` (it has no such limit)", () => {
    const sqlite = tableLayoutOf(model, models, "sqlite");
    expect(sqlite.columns.filter((column) => column.indexed).map((column) => indexName(sqlite, column))).toEqual(sqlite.columns.filter((column) => column.indexed).map((column) => `Telemetry.${column.name}`));
  });
});

const database = await createTestDatabase("index_names");
if (!database) {
  describe("index names on PostgreSQL", () => {
    it.skip("PostgreSQL unreachable: see the SKIPPED message above", () => {});
  });
} else {
  afterAll(() => database.drop());
  test("on PostgreSQL every @Indexed column gets its own index, and the plan is then up to date", async () => {
    const { default: driver } = await import("pg");
    const client = new driver.Client({ connectionString: database.url });
    await client.connect();
    try {
      const layout = tableLayoutOf(model, models, "postgres");
      await client.query(createTableSql(layout));
      for (const sql of createIndexSql(layout)) await client.query(sql);
      const shape = await readPostgresTableShape(client, model.name);
      const indexed = shape?.indexes.filter((index) => index.columns.length === 1 && index.columns[0] !== "_id").map((index) => index.columns[0]).sort();
      expect(indexed).toEqual(layout.columns.filter((column) => column.indexed).map((column) => column.name).sort());
      const plan = planSchemaChange(layout, shape);
      expect(plan.kind).toBe("alter"); // asymgen_meta's record is still to write…
      // …but every index is found: none left to create.
      if (plan.kind === "alter") expect(plan.sql.filter((sql) => sql.startsWith("CREATE INDEX"))).toEqual([]);
    } finally {
      await client.end();
    }
  });
}
