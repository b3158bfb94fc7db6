/**
 * Retired columns on a real SQLite file: rows written while a model had optional properties
 * (a string, a list, an embedded object) still decode to the exact documents ingested after the
 * schema drops them — rows holding values there, rows where they were absent, a null sent (its
 * `$order` names the property) — with the layout `withRetiredColumns` gives from the table's
 * `asymgen_meta` record; new documents never go into a retired column.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, test } from "@jest/globals";
import Database from "better-sqlite3";
import { Double, Long, ObjectId, serialize } from "bson";
import type { CanonicalObjectSchema, CanonicalPropertySchema } from "asymgen/schema";
import { tableLayoutOf, type TableLayout } from "../../../server/tables/table-layout.js";
import { documentToRow, documentToRowValues, referenceDocumentToRow, rowToDocument } from "../../../server/tables/row-codec.js";
import { planStoreSchema } from "../../../server/tables/plan-schema-change.js";
import { readSqliteStoreShape } from "../../../server/tables/read-table-shape.js";
import { propertyOfRecord, withRetiredColumns } from "../../../server/tables/retired-columns.js";
import { describeProperty } from "../../../server/tables/store-meta.js";
import { quoteIdentifier } from "../../../server/stores/quote-identifier.js";

function property(name: string, type: CanonicalPropertySchema["type"], more: Partial<CanonicalPropertySchema> = {}): CanonicalPropertySchema {
  return { name, type, optional: false, indexed: false, mapTo: name, ...more };
}
function model(properties: CanonicalPropertySchema[]): CanonicalObjectSchema {
  return { name: "Station", asymmetric: true, embedded: false, primaryKey: "id", properties: Object.fromEntries(properties.map((p) => [p.name, p])) };
}
const place: CanonicalObjectSchema = { name: "Place", asymmetric: false, embedded: true, properties: { lat: property("lat", "double") } };
const id = property("id", "objectId", { mapTo: "_id" });
const reading = property("reading", "double");
const note = property("note", "string", { optional: true });
const counts = property("counts", "list", { objectType: "int" });
const where = property("where", "object", { objectType: "Place", optional: true });
const label = property("label", "string", { optional: true });
const before = model([id, note, reading, counts, where]);
// The new schema drops note, counts and where, and adds label.
const after = model([id, reading, label]);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-retired-"));
const db = new Database(path.join(dir, "retired.sqlite"));
afterAll(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Plans and applies the schema as a store does at startup; returns the layout to decode rows with. */
function prepare(schema: CanonicalObjectSchema): { write: TableLayout; read: TableLayout; kept: string[] } {
  const layout = tableLayoutOf(schema, new Map([[schema.name, schema], [place.name, place]]), "sqlite");
  const plan = planStoreSchema([layout], readSqliteStoreShape(db, [layout.table]));
  if (plan.kind === "refuse") throw new Error(JSON.stringify(plan.problems));
  if (plan.kind === "apply") db.transaction(() => plan.sql.forEach((sql) => db.exec(sql)))();
  const shape = readSqliteStoreShape(db, [layout.table]).tables.get(layout.table) ?? null;
  return { write: layout, read: withRetiredColumns(layout, shape?.recorded ?? null), kept: plan.kept.map((k) => k.column) };
}

let seq = 0;
function insert(layout: TableLayout, bson: Uint8Array): unknown {
  const values: Record<string, unknown> = { ...documentToRow(bson, layout), $user: "u", $queue: "q", $seq: BigInt(++seq), $arrived: "2026-12-07T00:00:00.000Z" };
  const names = Object.keys(values);
  db.prepare(`INSERT INTO "Station" (${names.map(quoteIdentifier).join(", ")}) VALUES (${names.map(() => "?").join(", ")})`).run(...names.map((n) => values[n]));
  return values["_id"];
}
function select(id: unknown): Record<string, unknown> {
  return db.prepare(`SELECT * FROM "Station" WHERE "_id" = ?`).safeIntegers(true).get(id) as Record<string, unknown>;
}

describe("a removed optional property's old values decode exactly (SQLite)", () => {
  const old = prepare(before);
  const oldDocuments = [
    new Map<string, unknown>([["_id", new ObjectId()], ["note", "hello"], ["reading", new Double(1.5)], ["counts", [Long.fromNumber(1)]], ["where", new Map([["lat", new Double(48.1)]])]]),
    new Map<string, unknown>([["_id", new ObjectId()], ["reading", new Double(2.5)]]),
    new Map<string, unknown>([["_id", new ObjectId()], ["note", null], ["reading", new Double(3.5)], ["counts", []]]),
    new Map<string, unknown>([["_id", new ObjectId()], ["reading", new Double(4.5)], ["note", "after the reading"]]),
  ].map((doc) => serialize(doc));
  const ids = oldDocuments.map((bson) => insert(old.write, bson));
  const now = prepare(after);

  test("the plan keeps the columns, and the layout to read with has them back, retired, in their old places", () => {
    expect(now.kept.sort()).toEqual(["counts", "note", "where"]);
    expect(now.read.columns.map((column) => `${column.name}${column.retired ? " (retired)" : ""}`)).toEqual([
      "_id",
      "note (retired)",
      "reading",
      "counts (retired)",
      "where (retired)",
      "label",
    ]);
  });

  test("every old row decodes to the bytes ingested", () => {
    ids.forEach((id, i) => {
      expect(Buffer.from(rowToDocument(select(id), now.read)).toString("hex")).toBe(Buffer.from(oldDocuments[i] as Uint8Array).toString("hex"));
    });
  });

  test("without the retired columns, the old rows would not (the gap this closes)", () => {
    expect(Buffer.from(rowToDocument(select(ids[0]), now.write)).equals(Buffer.from(oldDocuments[0] as Uint8Array))).toBe(false);
    expect(() => rowToDocument(select(ids[2]), now.write)).toThrow(/"\$order" names "note"/);
  });

  test("new documents are written with the schema's layout and read back with the retired one; a retired field is no column to write", () => {
    const fresh = serialize(new Map<string, unknown>([["_id", new ObjectId()], ["reading", new Double(9)], ["label", "new"]]));
    const freshId = insert(now.write, fresh);
    expect(select(freshId)["note"]).toBeNull();
    expect(Buffer.from(rowToDocument(select(freshId), now.read)).equals(Buffer.from(fresh))).toBe(true);
    const stale = serialize(new Map<string, unknown>([["_id", new ObjectId()], ["note", "x"], ["reading", new Double(1)]]));
    expect(() => documentToRow(stale, now.read)).toThrow(`row codec: "Station" has no column "note"`);
    expect(() => referenceDocumentToRow(stale, now.read)).toThrow(`row codec: "Station" has no column "note"`);
    expect(documentToRow(fresh, now.read)).toStrictEqual(documentToRow(fresh, now.write));
    // As the stores insert it: a value per column of the layout read with, the retired ones NULL, then `$exact`.
    const values = documentToRowValues(fresh, now.read);
    const row = documentToRow(fresh, now.read);
    expect(values).toStrictEqual([...now.read.columns.map((column) => (column.retired ? null : row[column.name])), row["$exact"]]);
    expect(now.read.columns.filter((column) => column.retired).map((column) => values[now.read.columns.indexOf(column)])).toEqual([null, null, null]);
  });
});

describe("records back to properties", () => {
  test("every descriptor describeProperty writes reads back to a property with that descriptor", () => {
    const properties = [
      property("a", "int"),
      property("b", "string", { optional: true }),
      property("c", "list", { objectType: "double", optional: true }),
      property("d", "set", { objectType: "string" }),
      property("e", "dictionary", { objectType: "mixed", optional: true }),
      property("f", "object", { objectType: "Place", optional: true }),
      property("g", "mixed", { optional: true }),
      property("h", "date", { optional: true }),
    ];
    for (const p of properties) {
      const back = propertyOfRecord(p.name, describeProperty(p));
      expect(back && describeProperty(back)).toBe(describeProperty(p));
    }
    expect(propertyOfRecord("x", "list<int")).toBeNull();
    expect(propertyOfRecord("x", "regex")).toBeNull();
  });

  test("no record, or nothing removed: the layout itself", () => {
    const layout = tableLayoutOf(after, new Map([[after.name, after]]), "sqlite");
    expect(withRetiredColumns(layout, null)).toBe(layout);
    expect(withRetiredColumns(layout, { _id: { property: "objectId", sqlType: "TEXT" }, reading: { property: "double", sqlType: "REAL" } })).toBe(layout);
  });
});
