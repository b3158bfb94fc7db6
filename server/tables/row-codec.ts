/**
 * The REFERENCE row codec of the typed tables (clarity over speed: it is the oracle the ingest
 * path's fast writer will be tested against). `documentToRow` turns an ingested BSON document
 * into its row's column values; `rowToDocument` turns a row, as the driver reads it back, into
 * EXACTLY the bytes that were ingested.
 *
 * Each property goes to its natural column value (column-values.ts). At encode time the codec
 * decodes that value as the database will give it back (a model of each database's losses,
 * `readBack` below, checked against the real databases by test/server/tables/) and compares the
 * result with the property's bytes. When they differ, the property's canonical Extended JSON goes
 * into `$exact`, a JSON object keyed by persisted name; when even Extended JSON cannot give the
 * bytes back (a Decimal128 in a non-canonical encoding, a NaN with a payload, a dictionary whose
 * integer-like keys a JavaScript object would reorder), the entry is `{"$bson": base64}` of the
 * element's type byte and value bytes. What the columns cannot say at document level goes there
 * too, under `$order` (a name no property can have): the document's keys, when their order
 * differs from the layout's or a present key's column is NULL (a null sent, not an absence).
 * Most rows need no `$exact` (NULL).
 */
import { deserialize, EJSON, serialize } from "bson";
import type { CanonicalObjectSchema } from "asymgen/schema";
import { readBsonDocument, elementDocument } from "./bson-tree.js";
import type { BsonNode } from "./bson-tree.js";
import { decodeColumnValue, naturalColumnValue } from "./column-values.js";
import type { SqlValue } from "./column-values.js";
import { JsonObject, parseJson, postgresJsonbValue, postgresNumericText } from "./natural-json.js";
import type { JsonValue } from "./natural-json.js";
import type { PropertyColumn, TableLayout } from "./table-layout.js";

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

/** An element, as the type byte and value bytes it is written with. */
interface Element {
  type: number;
  bytes: Uint8Array;
}

/** The element `serialize` writes for a bson value (wrappers keep their types; Maps are documents). */
function elementOf(value: unknown): Element {
  const doc = serialize(new Map([["", value]]));
  return { type: doc[4] as number, bytes: doc.subarray(6, doc.length - 1) };
}

function sameElement(a: Element, node: BsonNode): boolean {
  return a.type === node.type && Buffer.compare(Buffer.from(a.bytes), Buffer.from(node.bytes)) === 0;
}

/** What the driver gives back for a stored value: the databases' losses, as the tests found them. */
function readBack(stored: SqlValue, column: PropertyColumn, layout: TableLayout): SqlValue {
  if (stored === null) return null;
  if (layout.dialect === "sqlite") {
    if (typeof stored === "number") {
      // SQLite stores a NaN REAL as NULL, and −0.0 comes back as 0.0.
      if (Number.isNaN(stored)) return null;
      if (Object.is(stored, -0)) return 0;
    }
    return stored;
  }
  if (column.form === "json") return stored; // decoded through postgresJsonbValue, see parseFor
  if (column.property.type === "decimal128") return postgresNumericReadBack(stored as string);
  if (column.property.type === "float" || column.property.type === "double") return Number(stored);
  return stored;
}

/** numeric keeps NaN and ±Infinity, has no −0, and prints without exponent (scale kept). */
function postgresNumericReadBack(text: string): string {
  return text === "NaN" || text === "Infinity" || text === "-Infinity" ? text : postgresNumericText(text);
}

/** How a column's JSON text is parsed when predicting the read-back: jsonb rewrites it, SQLite's TEXT does not. */
function parseFor(layout: TableLayout, predicting: boolean): (text: string) => JsonValue {
  if (predicting && layout.dialect === "postgres") return (text) => postgresJsonbValue(parseJson(text));
  return parseJson;
}

/** The `$exact` entry text for a property: its canonical Extended JSON, or `{"$bson": …}` when that is not exact either. */
function exactEntryText(node: BsonNode, layout: TableLayout): string {
  try {
    const ejson = EJSON.stringify(node.kind === "scalar" ? node.value : containerValue(node), { relaxed: false });
    // PostgreSQL's json stores \u0000, but `->>` on it fails ("unsupported Unicode escape
    // sequence"): such values go raw, so every `$exact` entry stays readable in SQL.
    if (!(layout.dialect === "postgres" && ejson.includes("\\u0000")) && sameElement(exactEntryElement(ejson), node)) return ejson;
  } catch {
    // Not expressible as Extended JSON (an invalid date…): raw below.
  }
  return JSON.stringify({ $bson: Buffer.concat([Buffer.from([node.type]), Buffer.from(node.bytes)]).toString("base64") });
}

/** A container node's value as `bson` reads it (plain objects: integer-like keys may move, which the comparison catches). */
function containerValue(node: BsonNode): unknown {
  return (deserialize(elementDocument(node.type, "v", node.bytes), { promoteValues: false, promoteLongs: false, promoteBuffers: false, bsonRegExp: true }) as { v: unknown }).v;
}

function exactEntryElement(text: string): Element {
  const json = parseJson(text);
  if (json instanceof JsonObject && json.entries.length === 1 && json.entries[0]?.[0] === "$bson") {
    const raw = Buffer.from(json.entries[0][1] as string, "base64");
    return { type: raw[0] as number, bytes: raw.subarray(1) };
  }
  return elementOf(EJSON.parse(text, { relaxed: false }));
}

/** The row of an ingested document (valid for the layout's model). */
export function documentToRow(bson: Uint8Array, layout: TableLayout): RowValues {
  const document = readBsonDocument(bson);
  const columns = new Map(layout.columns.map((column) => [column.name, column]));
  const nodes = new Map<string, BsonNode>();
  for (const [key, node] of document.entries) {
    if (!columns.has(key)) throw new Error(`row codec: "${layout.table}" has no column "${key}"`);
    if (nodes.has(key)) throw new Error(`row codec: "${key}" appears twice`);
    nodes.set(key, node);
  }
  const row: RowValues = {};
  const exact: [string, string][] = [];
  const predict = parseFor(layout, true);
  for (const column of layout.columns) {
    const node = nodes.get(column.name);
    const stored = node === undefined ? null : naturalColumnValue(node, column, layout.dialect);
    row[column.name] = stored;
    if (node === undefined || node.type === 0x0a) continue; // absent or null: the column's NULL and `$order` say it
    let exactAsStored = false;
    try {
      const decoded = decodeColumnValue(readBack(stored, column, layout), column, layout.models, predict);
      exactAsStored = decoded !== null && sameElement(elementOf(decoded), node);
    } catch {
      // The natural value does not decode back (e.g. a NaN written as JSON null): exact below.
    }
    if (!exactAsStored) exact.push([column.name, exactEntryText(node, layout)]);
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
