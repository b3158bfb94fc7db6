/**
 * One typed table of the PostgreSQL store: its statements, written once at startup, and the rows
 * of a set of documents as the insert takes them (one typed array per column). A batch's
 * documents go in as ONE `INSERT … SELECT FROM unnest($1::bigint[], $2::text[], …)`: its
 * parameter count is fixed by the table, not by the batch, so no batch is split for PostgreSQL's
 * 65,535-parameter limit, and the statement text is the same every time. Measured against
 * multi-row VALUES (one `$n::type` parameter per value) on the WeatherSensor table, PostgreSQL 15,
 * 40,000 rows in batches of 50, 500 and 4,000: unnest was 2 to 4 times faster at every size (pg
 * sends one array literal per column instead of a parameter per value, and PostgreSQL plans one
 * short statement instead of a long one).
 */
import type { SqlValue } from "../tables/row-codec.js";
import type { TableLayout } from "../tables/table-layout.js";
import { quoteIdentifier } from "./quote-identifier.js";

/** A typed table's statements. */
export interface PostgresTable {
  readonly layout: TableLayout;
  /** Where the primary key's value is among a row's values (documentToRowValues's order). */
  readonly keyIndex: number;
  /**
   * Inserts rows, skipping stored keys, and returns the inserted keys as text (`key`).
   * Parameters: the property columns' and `$exact`'s arrays (as `columnArrays` makes them), then
   * the `$seq` array, then `$user`, `$queue`, `$arrived`.
   */
  readonly insertSql: string;
  /** The stored rows (property columns and `$exact`) whose key is in the array `$1`. */
  readonly selectByKeysSql: string;
  /** Every row with its delivery metadata (`$arrived` as epoch ms), in key order. */
  readonly selectAllSql: string;
}

/** The columns a row gives the insert, in order: the property columns, then `$exact`. */
function rowColumns(layout: TableLayout): { name: string; sqlType: string }[] {
  const exact = layout.metadata.find((column) => column.name === "$exact");
  if (!exact) throw new Error(`postgres store: the layout of "${layout.table}" has no $exact column`);
  return [...layout.columns, exact];
}

/** The statements of `layout`'s table. */
export function compilePostgresTable(layout: TableLayout): PostgresTable {
  const table = quoteIdentifier(layout.table);
  const key = layout.columns.find((column) => column.name === layout.primaryKey);
  if (!key) throw new Error(`postgres store: "${layout.table}" has no primary key column`);
  const pk = quoteIdentifier(layout.primaryKey);
  const columns = rowColumns(layout);
  const names = columns.map((column) => quoteIdentifier(column.name));
  // unnest's columns get plain positional names: the property names may be anything.
  const aliases = columns.map((_, i) => `c${i}`);
  const n = columns.length;
  const insertSql =
    `INSERT INTO ${table} (${names.join(", ")}, "$seq", "$user", "$queue", "$arrived")\n` +
    `SELECT ${aliases.join(", ")}, s, $${n + 2}::text, $${n + 3}::text, $${n + 4}::timestamptz\n` +
    `FROM unnest(${columns.map((column, i) => `$${i + 1}::${column.sqlType}[]`).join(", ")}, $${n + 1}::bigint[]) AS t(${aliases.join(", ")}, s)\n` +
    `ON CONFLICT (${pk}) DO NOTHING RETURNING ${pk}::text AS key`;
  const selected = names.join(", ");
  // Text keys in byte order ("C"), whatever the database's collation: the order every store gives.
  const order = key.sqlType === "text" ? `${pk} COLLATE "C"` : pk;
  return {
    layout,
    keyIndex: layout.columns.findIndex((column) => column.name === layout.primaryKey),
    insertSql,
    selectByKeysSql: `SELECT ${selected} FROM ${table} WHERE ${pk} = ANY($1::${key.sqlType}[])`,
    selectAllSql:
      `SELECT ${selected}, "$user", "$queue", "$seq", (extract(epoch FROM "$arrived") * 1000)::float8 AS "$arrived_ms" ` +
      `FROM ${table} ORDER BY ${order}`,
  };
}

/**
 * A primary key value (a row's column value, or as a stored row reads back) as PostgreSQL prints
 * it (`RETURNING key`), or null when PostgreSQL cannot hold it: a string `_id` with NUL (text
 * refuses NUL, and a key cannot live in `$exact`; the codec leaves the column NULL).
 */
export function keyText(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

/** Rows (documentToRowValues's) made into the insert's arrays: one per row column (property columns, then `$exact`), one value per row. */
export function columnArrays(layout: TableLayout, rows: readonly (readonly SqlValue[])[]): SqlValue[][] {
  return rowColumns(layout).map((_, i) => rows.map((row) => row[i] ?? null));
}
