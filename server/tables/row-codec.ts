/**
 * The row codec of the typed tables. `documentToRow` turns an ingested BSON document into its
 * row's column values; `rowToDocument` turns a row, as the driver reads it back, into EXACTLY the
 * bytes that were ingested. `documentToRow` is the fast writer (fast-row-writer.ts; ingest calls
 * it as `documentToRowValues`, the same row as an array in insert order); `referenceDocumentToRow`
 * is the REFERENCE (clarity over speed), its oracle: the same values for every valid document,
 * tested over the type table and a seeded sweep.
 *
 * Each property goes to its natural column value (column-values.ts). At encode time the reference
 * decodes that value as the database will give it back (a model of each database's losses,
 * `readBack` in property-exactness.ts, checked against the real databases by
 * test/server/tables/) and compares the result with the property's bytes. When they differ, the
 * property's canonical Extended JSON goes into `$exact`, a JSON object keyed by persisted name;
 * when even Extended JSON cannot give the bytes back (a Decimal128 in a non-canonical encoding, a
 * NaN with a payload, a dictionary whose integer-like keys a JavaScript object would reorder),
 * the entry is `{"$bson": base64}` of the element's type byte and value bytes. What the columns
 * cannot say at document level goes there too, under `$order` (a name no property can have): the
 * document's keys, when their order differs from the layout's or a present key's column is NULL
 * (a null sent, not an absence). Most rows need no `$exact` (NULL).
 */
import type { CanonicalObjectSchema } from "asymgen/schema";
import { readBsonDocument } from "./bson-tree.js";
import type { BsonNode } from "./bson-tree.js";
import { decodeColumnValue } from "./column-values.js";
import type { SqlValue } from "./column-values.js";
import { writeRowValuesFast } from "./fast-row-writer.js";
import { JsonObject, parseJson } from "./natural-json.js";
import { elementOf, exactEntryElement, parseFor, referencePropertyValue } from "./property-exactness.js";
import type { TableLayout } from "./table-layout.js";

export type { SqlValue } from "./column-values.js";

/** A row's values by column name: every property column and `$exact` (the stores add the delivery metadata). */
export type RowValues = Record<string, SqlValue>;

/**
 * The PostgreSQL type oids a row must be read as text for `rowToDocument` (pg's
 * `types.getTypeParser` returning the text as is): int8 (pg would give a string anyway), numeric
 * (pg gives a string), timestamptz (pg's Date parser drops BC and 5-digit years), json and jsonb
 * (JSON.parse would reorder integer-like keys and round Int64 beyond 2^53). Sessions must use
 * DateStyle ISO (the default); any TimeZone.
 */
export const postgresTextTypeOids: ReadonlySet<number> = new Set([20, 1700, 1184, 114, 3802]);

/**
 * The row of an ingested document (valid for the layout's model), by column name. The fast
 * writer (fast-row-writer.ts): exactly `referenceDocumentToRow`'s values, the same JS types and
 * the same `$exact` text, without deserialising the document.
 */
export function documentToRow(bson: Uint8Array, layout: TableLayout): RowValues {
  const values = writeRowValuesFast(bson, layout);
  const row: RowValues = {};
  // A retired column is read, never written (see PropertyColumn.retired): not among the row's keys.
  layout.columns.forEach((column, i) => {
    if (column.retired !== true) row[column.name] = values[i] as SqlValue;
  });
  row["$exact"] = values[layout.columns.length] as SqlValue;
  return row;
}

/**
 * `documentToRow`'s row as the SQL stores insert it: its values in the layout's column order (a
 * retired column null), then `$exact`. What ingest calls for every document.
 */
export function documentToRowValues(bson: Uint8Array, layout: TableLayout): SqlValue[] {
  return writeRowValuesFast(bson, layout);
}

/** The reference row of an ingested document (valid for the layout's model): the oracle of the fast `documentToRow`. */
export function referenceDocumentToRow(bson: Uint8Array, layout: TableLayout): RowValues {
  const document = readBsonDocument(bson);
  // A retired column is read, never written (see PropertyColumn.retired).
  const columns = new Map(layout.columns.filter((column) => column.retired !== true).map((column) => [column.name, column]));
  const nodes = new Map<string, BsonNode>();
  for (const [key, node] of document.entries) {
    if (!columns.has(key)) throw new Error(`row codec: "${layout.table}" has no column "${key}"`);
    if (nodes.has(key)) throw new Error(`row codec: "${key}" appears twice`);
    nodes.set(key, node);
  }
  const row: RowValues = {};
  const exact: [string, string][] = [];
  for (const column of columns.values()) {
    const node = nodes.get(column.name);
    // Absent or null: the column's NULL and `$order` say it.
    if (node === undefined || node.type === 0x0a) {
      row[column.name] = null;
      continue;
    }
    const { stored, exact: entry } = referencePropertyValue(node, column, layout);
    row[column.name] = stored;
    if (entry !== null) exact.push([column.name, entry]);
  }
  const keys = document.entries.map(([key]) => key);
  const exactNames = new Set(exact.map(([name]) => name));
  const implied = impliedOrder(layout, row, exactNames);
  if (keys.join("\0") !== implied.join("\0")) exact.push(["$order", JSON.stringify(keys)]);
  row["$exact"] = exact.length === 0 ? null : `{${exact.map(([name, text]) => `${JSON.stringify(name)}:${text}`).join(",")}}`;
  return row;
}

/** The keys a row without `$order` stands for: the layout's columns that hold a value or an `$exact` entry, in layout order. */
function impliedOrder(layout: TableLayout, row: RowValues, exactNames: ReadonlySet<string>): string[] {
  return layout.columns.filter((column) => row[column.name] != null || exactNames.has(column.name)).map((column) => column.name);
}

/** The exact BSON document a row holds (`row` as the driver read it: see SqlValue and postgresTextTypeOids). */
export function rowToDocument(row: Readonly<Record<string, unknown>>, layout: TableLayout): Uint8Array {
  const exactText = row["$exact"];
  const exact = new Map<string, string>();
  if (exactText !== null && exactText !== undefined) {
    const parsed = parseJson(String(exactText));
    if (!(parsed instanceof JsonObject)) throw new Error(`row codec: "$exact" of "${layout.table}" is not a JSON object`);
    parsed.entries.forEach(([name], i) => exact.set(name, parsed.sources[i] as string));
  }
  const values: RowValues = {};
  for (const column of layout.columns) values[column.name] = (row[column.name] ?? null) as SqlValue;
  const order = exact.has("$order")
    ? (JSON.parse(exact.get("$order") as string) as string[])
    : impliedOrder(layout, values, new Set(exact.keys()));
  const columns = new Map(layout.columns.map((column) => [column.name, column]));
  const parts: Buffer[] = [];
  for (const name of order) {
    const column = columns.get(name);
    if (!column) throw new Error(`row codec: "$order" names "${name}", not a column of "${layout.table}"`);
    const entry = exact.get(name);
    const element =
      entry !== undefined
        ? exactEntryElement(entry)
        : elementOf(decodeColumnValue(values[name] ?? null, column, layout.models, parseFor(layout, false)));
    parts.push(Buffer.from([element.type]), Buffer.from(name, "utf8"), Buffer.from([0]), Buffer.from(element.bytes));
  }
  const body = Buffer.concat(parts);
  const out = Buffer.alloc(4 + body.length + 1);
  out.writeInt32LE(out.length, 0);
  body.copy(out, 4);
  return out;
}

/** Every model of a schema by persisted name, as `tableLayoutOf` takes them. */
export function modelsByName(schemas: readonly CanonicalObjectSchema[]): ReadonlyMap<string, CanonicalObjectSchema> {
  return new Map(schemas.map((schema) => [schema.name, schema]));
}
