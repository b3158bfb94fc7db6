/**
 * The typed table of one asymmetric model: one column per persisted property with the type the
 * design's table gives it (docs/typed-storage-design.md §2), the primary key, and the delivery
 * metadata columns, whose names start with `$` and so can never be a persisted name (the
 * generator's ASYM3036 and the server's validation refuse such names). Pure: no database here.
 */
import { createHash } from "node:crypto";
import type { CanonicalObjectSchema, CanonicalPropertySchema, PropertyTypeName } from "asymgen/schema";
import { quoteIdentifier } from "../stores/quote-identifier.js";

/** The SQL databases the typed tables live in. */
export type SqlDialect = "sqlite" | "postgres";

/** How a column holds its property: one native value, or natural JSON text for anything nested. */
export type ColumnForm = "native" | "json";

/** A column that holds one persisted property. */
export interface PropertyColumn {
  /** The persisted name (the property's `mapTo`). */
  readonly name: string;
  readonly property: CanonicalPropertySchema;
  /** The declared SQL type, as the dialect spells it. */
  readonly sqlType: string;
  readonly form: ColumnForm;
  /**
   * Whether the column allows NULL: an optional property, or a value the dialect cannot hold
   * natively (SQLite turns a NaN REAL into NULL; PostgreSQL's text cannot hold NUL and its
   * timestamptz starts in 4713 BC) — the value then lives in `$exact` and the column is NULL.
   */
  readonly nullable: boolean;
  /** `@Indexed` (the primary key has its own index and is not marked). */
  readonly indexed: boolean;
  /**
   * A removed optional property's column, kept with its old values (retired-columns.ts): rows
   * are decoded with it, documents are never written to it (a document with that field is
   * not the current model's, and `documentToRow` refuses it as a column it does not have).
   */
  readonly retired?: true;
}

/** The delivery metadata columns; `$exact` holds what the property columns cannot (see row-codec.ts). */
export const metadataColumnNames = ["$user", "$queue", "$seq", "$arrived", "$exact"] as const;

/** One metadata column. */
export interface MetadataColumn {
  readonly name: (typeof metadataColumnNames)[number];
  readonly sqlType: string;
  readonly nullable: boolean;
}

/** A model's typed table. */
export interface TableLayout {
  readonly dialect: SqlDialect;
  /** The model's persisted name. */
  readonly table: string;
  /** The property columns, in the schema's property order (the order a document's keys are expected in). */
  readonly columns: readonly PropertyColumn[];
  /** The primary key's column (the primary key's persisted name, `_id`). */
  readonly primaryKey: string;
  readonly metadata: readonly MetadataColumn[];
  /** Every model by persisted name: nested objects are decoded by their schema. */
  readonly models: ReadonlyMap<string, CanonicalObjectSchema>;
}

const nativeTypes: Record<SqlDialect, Partial<Record<PropertyTypeName, string>>> = {
  postgres: {
    int: "bigint",
    float: "double precision",
    double: "double precision",
    string: "text",
    bool: "boolean",
    date: "timestamp with time zone",
    objectId: "text",
    uuid: "uuid",
    decimal128: "numeric",
    data: "bytea",
  },
  // SQLite: a date is ISO 8601 text (its date functions read it; it sorts as time), a boolean
  // 0/1, a UUID and a Decimal128 their canonical text.
  sqlite: {
    int: "INTEGER",
    float: "REAL",
    double: "REAL",
    string: "TEXT",
    bool: "INTEGER",
    date: "TEXT",
    objectId: "TEXT",
    uuid: "TEXT",
    decimal128: "TEXT",
    data: "BLOB",
  },
};

/** Nested values: jsonb in PostgreSQL (its JSON operators and indexes), JSON text in SQLite. */
const jsonTypes: Record<SqlDialect, string> = { postgres: "jsonb", sqlite: "TEXT" };

/** Whether some valid value of `type` cannot be held by its column in `dialect` (the column must then allow NULL). */
function mayNeedNull(type: PropertyTypeName, form: ColumnForm, dialect: SqlDialect): boolean {
  if (dialect === "sqlite") return type === "double" || type === "float"; // NaN REAL reads back as NULL
  // PostgreSQL: NUL cannot be in text or jsonb; timestamptz starts in 4713 BC.
  return type === "string" || type === "date" || form === "json";
}

/** The typed table of `model` (an asymmetric model) in `dialect`; `models` holds every model of the schema by persisted name. */
export function tableLayoutOf(model: CanonicalObjectSchema, models: ReadonlyMap<string, CanonicalObjectSchema>, dialect: SqlDialect): TableLayout {
  if (!model.asymmetric || model.embedded) throw new Error(`table layout: "${model.name}" is not an asymmetric model`);
  const primary = model.primaryKey === undefined ? undefined : model.properties[model.primaryKey];
  if (!primary) throw new Error(`table layout: "${model.name}" has no primary key`);
  const columns = Object.values(model.properties).map((property): PropertyColumn => {
    if (property.mapTo.startsWith("$")) throw new Error(`table layout: "${model.name}.${property.mapTo}": a persisted name cannot start with "$"`);
    const native = nativeTypes[dialect][property.type];
    const form: ColumnForm = native === undefined || property.type === "mixed" ? "json" : "native";
    const isKey = property === primary;
    return {
      name: property.mapTo,
      property,
      sqlType: form === "json" ? jsonTypes[dialect] : (native as string),
      form,
      nullable: !isKey && (property.optional || form === "json" || mayNeedNull(property.type, form, dialect)),
      indexed: property.indexed && !isKey,
    };
  });
  const metadata: MetadataColumn[] = [
    { name: "$user", sqlType: dialect === "postgres" ? "text" : "TEXT", nullable: false },
    { name: "$queue", sqlType: dialect === "postgres" ? "text" : "TEXT", nullable: false },
    { name: "$seq", sqlType: dialect === "postgres" ? "bigint" : "INTEGER", nullable: false },
    { name: "$arrived", sqlType: dialect === "postgres" ? "timestamp with time zone" : "TEXT", nullable: false },
    // PostgreSQL: json, not jsonb: it keeps the text as written (key order, repeated keys), which
    // exactness needs, and nobody queries it.
    { name: "$exact", sqlType: dialect === "postgres" ? "json" : "TEXT", nullable: true },
  ];
  return { dialect, table: model.name, columns, primaryKey: primary.mapTo, metadata, models };
}

/** `CREATE TABLE IF NOT EXISTS` for the layout. */
export function createTableSql(layout: TableLayout): string {
  const lines = layout.columns.map(
    // NOT NULL on the key too: SQLite lets a non-INTEGER PRIMARY KEY hold NULL (a legacy quirk),
    // and NULL keys never conflict, so a re-sent document without `_id` would be stored twice.
    (column) => `${quoteIdentifier(column.name)} ${column.sqlType}${column.name === layout.primaryKey ? " PRIMARY KEY NOT NULL" : column.nullable ? "" : " NOT NULL"}`,
  );
  for (const column of layout.metadata) lines.push(`${quoteIdentifier(column.name)} ${column.sqlType}${column.nullable ? "" : " NOT NULL"}`);
  return `CREATE TABLE IF NOT EXISTS ${quoteIdentifier(layout.table)} (\n  ${lines.join(",\n  ")}\n)`;
}

// PostgreSQL keeps the first 63 bytes of an identifier (NAMEDATALEN − 1) and drops the rest.
const postgresIdentifierBytes = 63;

/**
 * The name of the index on `column`: `<table>.<column>`. In PostgreSQL, a name past 63 bytes is
 * cut to fit with `~` and 8 hex digits of its SHA-256 at the end: PostgreSQL would truncate it
 * silently, and two long names that agree on their first 63 bytes would then be ONE name, so
 * `CREATE INDEX IF NOT EXISTS` would skip the second index. (The schema plan accepts any index
 * whose only column is the property, whatever its name, so stores with the old names are fine.)
 */
export function indexName(layout: TableLayout, column: PropertyColumn): string {
  const name = `${layout.table}.${column.name}`;
  if (layout.dialect !== "postgres" || Buffer.byteLength(name, "utf8") <= postgresIdentifierBytes) return name;
  const suffix = `~${createHash("sha256").update(name, "utf8").digest("hex").slice(0, 8)}`;
  let head = "";
  for (const character of name) {
    // Whole characters only: a cut UTF-8 sequence is not a valid name.
    if (Buffer.byteLength(head + character, "utf8") > postgresIdentifierBytes - suffix.length) break;
    head += character;
  }
  return head + suffix;
}

/** `CREATE INDEX IF NOT EXISTS` for each `@Indexed` property column, named by `indexName`. */
export function createIndexSql(layout: TableLayout): string[] {
  return layout.columns
    .filter((column) => column.indexed)
    .map((column) => `CREATE INDEX IF NOT EXISTS ${quoteIdentifier(indexName(layout, column))} ON ${quoteIdentifier(layout.table)} (${quoteIdentifier(column.name)})`);
}
