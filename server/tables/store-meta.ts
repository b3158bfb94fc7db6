/**
 * `asymgen_meta`, the store's own key/value table: which layout the store is in, and what each
 * typed table's columns were made for. The layout version lets a later asymgen recognise this
 * layout (asymgen 0.1 wrote no such table: a store with server tables and no `asymgen_meta` is a
 * 0.1 store). The per-table record exists because a column's SQL type does not say its property's
 * type: in SQLite a string, a date, a UUID and a Decimal128 are all TEXT, and in both databases
 * every list, set, dictionary and embedded object is JSON, so a `list<int>` that became a
 * `list<string>` would pass a comparison of column types and its old rows would no longer decode.
 * Pure: SQL text only.
 */
import type { CanonicalPropertySchema } from "asymgen/schema";
import type { SqlDialect, TableLayout } from "./table-layout.js";

/** The meta table's name (the `asymgen_` prefix is reserved: no model can have it). */
export const metaTable = "asymgen_meta";

/** The typed-table layout this code writes; asymgen 0.1's one-`doc`-column layout was layout 1 (it never recorded it). */
export const typedLayoutVersion = "2";

/** The meta key holding the layout version. */
export const layoutKey = "layout";

/** The meta key of a table's column record. */
export function columnsKey(table: string): string {
  return `columns:${table}`;
}

/** What a column was made for: the property's type descriptor (see describeProperty) and the SQL type it was given. */
export interface ColumnRecord {
  readonly property: string;
  readonly sqlType: string;
}

/**
 * A property's type as one string, with what decoding an old row depends on: the type, a
 * collection's element type and element optionality, an embedded object's model, and a scalar's
 * optionality (`double?`). Examples: `int`, `string?`, `list<double?>`, `dictionary<mixed>`, `object<Location>`.
 */
export function describeProperty(property: CanonicalPropertySchema): string {
  switch (property.type) {
    case "list":
    case "set":
    case "dictionary":
      return `${property.type}<${property.objectType ?? "?"}${property.optional && property.objectType !== "mixed" ? "?" : ""}>`;
    case "object":
      return `object<${property.objectType ?? "?"}>`;
    case "mixed":
      return "mixed";
    default:
      return `${property.type}${property.optional ? "?" : ""}`;
  }
}

/** `CREATE TABLE IF NOT EXISTS asymgen_meta`. */
export function createMetaTableSql(dialect: SqlDialect): string {
  const text = dialect === "postgres" ? "text" : "TEXT";
  return `CREATE TABLE IF NOT EXISTS ${metaTable} (key ${text} PRIMARY KEY, value ${text} NOT NULL)`;
}

/** A SQL string literal (both dialects double the quote; PostgreSQL's standard_conforming_strings, on since 9.1, keeps backslashes). */
function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** Records the layout version, once (a store keeps the version it was created with). */
export function recordLayoutSql(): string {
  return `INSERT INTO ${metaTable} (key, value) VALUES (${literal(layoutKey)}, ${literal(typedLayoutVersion)}) ON CONFLICT (key) DO NOTHING`;
}

/**
 * Records what the layout's columns are made for, keeping the records of columns no longer in
 * the layout (a removed optional property's column stays in the table, and so does its record:
 * a property brought back with another type is then recognised as a type change).
 */
export function recordColumnsSql(layout: TableLayout, previous: Readonly<Record<string, ColumnRecord>> | null): string {
  // In the layout's order, each removed column right after the one it followed before (as
  // retired-columns.ts places it): the plan checks later layouts against this order.
  const order = layout.columns.map((column) => column.name);
  let before: string | null = null;
  for (const name of Object.keys(previous ?? {})) {
    if (!order.includes(name)) order.splice(before === null ? 0 : order.indexOf(before) + 1, 0, name);
    before = name;
  }
  const record: Record<string, ColumnRecord> = {};
  for (const name of order) record[name] = previous?.[name] as ColumnRecord;
  for (const column of layout.columns) record[column.name] = { property: describeProperty(column.property), sqlType: column.sqlType };
  return (
    `INSERT INTO ${metaTable} (key, value) VALUES (${literal(columnsKey(layout.table))}, ${literal(JSON.stringify(record))}) ` +
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
  );
}

/** Reads a column record back (null for a value that is not one: the plan then goes by the SQL types alone). */
export function parseColumnRecords(value: string | null | undefined): Record<string, ColumnRecord> | null {
  if (value === null || value === undefined) return null;
  try {
    const parsed = JSON.parse(value) as unknown;
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return null;
    const out: Record<string, ColumnRecord> = {};
    for (const [name, entry] of Object.entries(parsed as Record<string, unknown>)) {
      const { property, sqlType } = (entry ?? {}) as Partial<ColumnRecord>;
      if (typeof property === "string" && typeof sqlType === "string") out[name] = { property, sqlType };
    }
    return out;
  } catch {
    return null;
  }
}
