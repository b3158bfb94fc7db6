/**
 * The reference codec's judgement of one top-level property (clarity over speed): its natural
 * column value, and whether that value comes back as the exact element once the database has
 * stored it (`readBack`, a model of each database's losses, checked against the real databases
 * by test/server/tables/). When it does not, the property's `$exact` entry: its canonical
 * Extended JSON, or `{"$bson": base64}` of the element's type byte and value bytes when even
 * Extended JSON cannot give the bytes back (a Decimal128 in a non-canonical encoding, a NaN with
 * a payload, a dictionary whose integer-like keys a JavaScript object would reorder).
 *
 * Shared by the reference `referenceDocumentToRow` (every property) and the fast row writer
 * (only the properties it cannot prove exact by itself), so both give the same entries.
 */
import { deserialize, EJSON, serialize } from "bson";
import { elementDocument } from "./bson-tree.js";
import type { BsonNode } from "./bson-tree.js";
import { decodeColumnValue, naturalColumnValue } from "./column-values.js";
import type { SqlValue } from "./column-values.js";
import { JsonObject, parseJson, postgresJsonbValue, postgresNumericText } from "./natural-json.js";
import type { JsonValue } from "./natural-json.js";
import type { PropertyColumn, TableLayout } from "./table-layout.js";

/** An element, as the type byte and value bytes it is written with. */
export interface Element {
  type: number;
  bytes: Uint8Array;
}

/** The element `serialize` writes for a bson value (wrappers keep their types; Maps are documents). */
export function elementOf(value: unknown): Element {
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
export function postgresNumericReadBack(text: string): string {
  return text === "NaN" || text === "Infinity" || text === "-Infinity" ? text : postgresNumericText(text);
}

/** How a column's JSON text is parsed: when predicting the read-back, as jsonb rewrites it; SQLite's TEXT and reading rows back, as written. */
export function parseFor(layout: TableLayout, predicting: boolean): (text: string) => JsonValue {
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

/** The element an `$exact` entry stands for. */
export function exactEntryElement(text: string): Element {
  const json = parseJson(text);
  if (json instanceof JsonObject && json.entries.length === 1 && json.entries[0]?.[0] === "$bson") {
    const raw = Buffer.from(json.entries[0][1] as string, "base64");
    return { type: raw[0] as number, bytes: raw.subarray(1) };
  }
  return elementOf(EJSON.parse(text, { relaxed: false }));
}

/** One present, non-null property as the reference codec writes it: the column's value, and its `$exact` entry text when the column does not give the element back. */
export interface PropertyValue {
  stored: SqlValue;
  exact: string | null;
}

/** The reference judgement of one property whose element is `node` (not BSON null: a null sent is the caller's). */
export function referencePropertyValue(node: BsonNode, column: PropertyColumn, layout: TableLayout): PropertyValue {
  const stored = naturalColumnValue(node, column, layout.dialect);
  let exactAsStored = false;
  try {
    const decoded = decodeColumnValue(readBack(stored, column, layout), column, layout.models, parseFor(layout, true));
    exactAsStored = decoded !== null && sameElement(elementOf(decoded), node);
  } catch {
    // The natural value does not decode back (e.g. a NaN written as JSON null): exact below.
  }
  return { stored, exact: exactAsStored ? null : exactEntryText(node, layout) };
}
