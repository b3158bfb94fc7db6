/**
 * The row codec's round trip on random combinations of the type table's edge values (seeded:
 * a failure prints the seed; replay with ASYMGEN_TABLES_SEED), on SQLite and on PostgreSQL
 * (skipped, visibly, without it): the ingested bytes must come back from every row, and the fast
 * `documentToRow` must give exactly the reference's row for every document (both dialects; the
 * comparison needs no database, so it runs for PostgreSQL's dialect even without one).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it, test } from "@jest/globals";
import Database from "better-sqlite3";
import { createTableSql, tableLayoutOf } from "../../../server/tables/table-layout.js";
import { isDeepStrictEqual } from "node:util";
import { documentToRow, postgresTextTypeOids, referenceDocumentToRow, rowToDocument } from "../../../server/tables/row-codec.js";
import type { SqlDialect } from "../../../server/tables/table-layout.js";
import { quoteIdentifier } from "../../../server/stores/quote-identifier.js";
import { createSeededRandom } from "../../support/seeded-random.mjs";
import { createTestDatabase } from "../../support/postgres.js";
import { everything, randomTypeTableDocument, typeTableModels } from "./type-table-cases.js";

const seed = Number(process.env["ASYMGEN_TABLES_SEED"] ?? Math.floor(Math.random() * 2 ** 31));
const count = 400;
const metadata = { $user: "u", $queue: "q", $seq: "1", $arrived: "2026-12-07T00:00:00.000Z" };

/** Hex of the first document whose round trip differs, or null; names the seed either way. */
function describeMismatch(index: number, input: Uint8Array, output: Uint8Array): string | null {
  return Buffer.from(input).equals(Buffer.from(output)) ? null : `seed ${seed}, document ${index}: ${Buffer.from(input).toString("hex")}`;
}

/** The documents of the seeded sweep whose fast row differs from the reference's (types, values, `$exact` text, column order). */
function fastRowMismatches(dialect: SqlDialect): string[] {
  const layout = tableLayoutOf(everything, typeTableModels, dialect);
  const random = createSeededRandom(seed);
  const mismatches: string[] = [];
  for (let i = 1; i <= count; i++) {
    const bson = randomTypeTableDocument(random, i);
    const fast = documentToRow(bson, layout);
    const reference = referenceDocumentToRow(bson, layout);
    if (!isDeepStrictEqual(fast, reference) || Object.keys(fast).join("\0") !== Object.keys(reference).join("\0")) {
      mismatches.push(`seed ${seed}, document ${i}: ${Buffer.from(bson).toString("hex")}`);
    }
  }
  return mismatches;
}

describe(`the fast row writer on random rows of the type table (seed ${seed})`, () => {
  test.each(["sqlite", "postgres"] as const)(`${count} documents: the reference's row (%s)`, (dialect) => {
    expect(fastRowMismatches(dialect).slice(0, 3)).toEqual([]);
  });
});

describe(`random rows of the type table on SQLite (seed ${seed})`, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-tables-random-"));
  const db = new Database(path.join(dir, "random.sqlite"));
  afterAll(() => {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test(`${count} documents come back byte for byte`, () => {
    const layout = tableLayoutOf(everything, typeTableModels, "sqlite");
    db.exec(createTableSql(layout));
    const random = createSeededRandom(seed);
    const mismatches: string[] = [];
    for (let i = 1; i <= count; i++) {
      const bson = randomTypeTableDocument(random, i);
      const values: Record<string, unknown> = { ...documentToRow(bson, layout), ...metadata, $seq: BigInt(i) };
      const names = Object.keys(values);
      db.prepare(`INSERT INTO "Everything" (${names.map(quoteIdentifier).join(", ")}) VALUES (${names.map(() => "?").join(", ")})`).run(...names.map((n) => values[n]));
      const row = db.prepare(`SELECT * FROM "Everything" WHERE "_id" = ?`).safeIntegers(true).get(values["_id"]) as Record<string, unknown>;
      const mismatch = describeMismatch(i, bson, rowToDocument(row, layout));
      if (mismatch) mismatches.push(mismatch);
    }
    expect(mismatches.slice(0, 3)).toEqual([]);
  });
});

const database = await createTestDatabase("tables_random");
if (!database) {
  describe("random rows of the type table on PostgreSQL", () => {
    it.skip("PostgreSQL unreachable: see the SKIPPED message above", () => {});
  });
} else {
  afterAll(() => database.drop());
  describe(`random rows of the type table on PostgreSQL (seed ${seed})`, () => {
    test(`${count} documents come back byte for byte`, async () => {
      const { default: driver } = await import("pg");
      const getTypeParser = ((oid: number, format?: string) =>
        postgresTextTypeOids.has(oid) ? (text: string) => text : driver.types.getTypeParser(oid, format as "text")) as typeof driver.types.getTypeParser;
      const client = new driver.Client({ connectionString: database.url, types: { getTypeParser } });
      await client.connect();
      try {
        const layout = tableLayoutOf(everything, typeTableModels, "postgres");
        await client.query(createTableSql(layout));
        const random = createSeededRandom(seed);
        const mismatches: string[] = [];
        for (let i = 1; i <= count; i++) {
          const bson = randomTypeTableDocument(random, i);
          const values: Record<string, unknown> = { ...documentToRow(bson, layout), ...metadata, $seq: String(i) };
          const names = Object.keys(values);
          await client.query(
            `INSERT INTO "Everything" (${names.map(quoteIdentifier).join(", ")}) VALUES (${names.map((_, k) => `$${k + 1}`).join(", ")})`,
            names.map((n) => values[n]),
          );
          const row = (await client.query(`SELECT * FROM "Everything" WHERE "_id" = $1`, [values["_id"]])).rows[0] as Record<string, unknown>;
          const mismatch = describeMismatch(i, bson, rowToDocument(row, layout));
          if (mismatch) mismatches.push(mismatch);
        }
        expect(mismatches.slice(0, 3)).toEqual([]);
      } finally {
        await client.end();
      }
    });
  });
}
