/**
 * What a store holds today, for the schema plan (plan-schema-change.ts): each model table's
 * columns (name, declared type, nullability, primary key) and indexes, the column records and
 * layout version in `asymgen_meta`, and whether asymgen's own server tables exist. Read-only.
 *
 * The stores must read this BEFORE creating their own tables (`asymgen_queues`…): a store that
 * has them but no `asymgen_meta` is an asymgen 0.1 store.
 */
import type Database from "better-sqlite3";
import type pg from "pg";
import { columnsKey, layoutKey, metaTable, parseColumnRecords, type ColumnRecord } from "./store-meta.js";

/** One existing column. */
export interface ColumnShape {
  readonly name: string;
  /** As the database spells it: SQLite's declared type (`REAL`), PostgreSQL's `format_type` (`double precision`, `numeric(10,2)`). */
  readonly declaredType: string;
  readonly nullable: boolean;
  readonly primaryKey: boolean;
}

/** One existing index: its columns in order (an expression's place is left out). */
export interface IndexShape {
  readonly name: string;
  readonly columns: readonly string[];
}

/** An existing relation with a model's name. */
export interface TableShape {
  readonly table: string;
  /** A view (or anything else) with the model's name cannot take rows. */
  readonly isTable: boolean;
  readonly columns: readonly ColumnShape[];
  readonly indexes: readonly IndexShape[];
  /** What `asymgen_meta` says the columns were made for; null when it says nothing about this table. */
  readonly recorded: Readonly<Record<string, ColumnRecord>> | null;
}

/** The store as a whole. */
export interface StoreShape {
  /** `asymgen_meta`'s layout version; null when there is no such table or record. */
  readonly layoutVersion: string | null;
  /** Whether asymgen's server tables (`asymgen_queues`) exist: with no layout version, the store is asymgen 0.1's. */
  readonly serverTablesExist: boolean;
  /** Each model table by name: null when it does not exist. */
  readonly tables: ReadonlyMap<string, TableShape | null>;
}

/** The server table every asymgen store has had since 0.1. */
const queuesTable = "asymgen_queues";

// SQLite ---------------------------------------------------------------------------------------

function sqliteRelationType(db: Database.Database, name: string): string | null {
  // Names are case-insensitive in SQLite: "weathersensor" is the table "WeatherSensor".
  const row = db.prepare("SELECT type FROM sqlite_schema WHERE name = ? COLLATE NOCASE AND type IN ('table', 'view')").get(name) as { type: string } | undefined;
  return row?.type ?? null;
}

function sqliteMeta(db: Database.Database, key: string): string | null {
  if (sqliteRelationType(db, metaTable) !== "table") return null;
  const row = db.prepare(`SELECT value FROM ${metaTable} WHERE key = ?`).get(key) as { value: string } | undefined;
  return row?.value ?? null;
}

/** A table's shape in a SQLite database (`pragma table_xinfo`, `pragma index_list`/`index_info`), or null when it does not exist. */
function readSqliteTableShape(db: Database.Database, table: string): TableShape | null {
  const type = sqliteRelationType(db, table);
  if (type === null) return null;
  // The table-valued forms of the pragmas take the name as a bound parameter: no quoting.
  const columns = (db.prepare("SELECT name, type, \"notnull\", pk, hidden FROM pragma_table_xinfo(?)").all(table) as {
    name: string;
    type: string;
    notnull: number;
    pk: number;
    hidden: number;
  }[])
    // Hidden columns (a virtual table's) are not the table's own.
    .filter((column) => column.hidden === 0 || column.hidden === 2 || column.hidden === 3)
    .map((column) => ({ name: column.name, declaredType: column.type, nullable: column.notnull === 0, primaryKey: column.pk > 0 }));
  const indexes = (db.prepare("SELECT name FROM pragma_index_list(?)").all(table) as { name: string }[]).map((index) => ({
    name: index.name,
    columns: (db.prepare("SELECT name FROM pragma_index_info(?) ORDER BY seqno").all(index.name) as { name: string | null }[])
      .map((column) => column.name)
      .filter((name): name is string => name !== null),
  }));
  return { table, isTable: type === "table", columns, indexes, recorded: parseColumnRecords(sqliteMeta(db, columnsKey(table))) };
}

/** The store's shape in a SQLite database, for the model tables named. */
export function readSqliteStoreShape(db: Database.Database, tables: readonly string[]): StoreShape {
  return {
    layoutVersion: sqliteMeta(db, layoutKey),
    serverTablesExist: sqliteRelationType(db, queuesTable) !== null,
    tables: new Map(tables.map((table) => [table, readSqliteTableShape(db, table)])),
  };
}

// PostgreSQL -----------------------------------------------------------------------------------

/** A pg Client, PoolClient or Pool. */
export type PostgresQueryable = Pick<pg.ClientBase, "query">;

/**
 * The relation named `name` in the schema unqualified names are created in (current_schema()):
 * the stores create and use their tables unqualified, so a table of that name in a later schema
 * of the search_path is not theirs.
 */
async function postgresRelation(client: PostgresQueryable, name: string): Promise<{ oid: string; kind: string } | null> {
  const result = await client.query<{ oid: string; kind: string }>(
    `SELECT c.oid::text AS oid, c.relkind::text AS kind FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = current_schema() AND c.relname = $1`,
    [name],
  );
  return result.rows[0] ?? null;
}

async function postgresMeta(client: PostgresQueryable, key: string): Promise<string | null> {
  if ((await postgresRelation(client, metaTable)) === null) return null;
  const result = await client.query<{ value: string }>(`SELECT value FROM ${metaTable} WHERE key = $1`, [key]);
  return result.rows[0]?.value ?? null;
}

/**
 * A table's shape in PostgreSQL, or null when it does not exist. From the catalog rather than
 * information_schema.columns/pg_indexes: information_schema's data_type drops the type modifier
 * (a `numeric(10,2)` or a `timestamp(0) with time zone` would pass for ours and lose digits), and
 * pg_indexes gives an index's columns only inside its definition's text.
 */
export async function readPostgresTableShape(client: PostgresQueryable, table: string): Promise<TableShape | null> {
  const relation = await postgresRelation(client, table);
  if (relation === null) return null;
  const columns = await client.query<{ name: string; type: string; nullable: boolean; pk: boolean }>(
    `SELECT a.attname::text AS name, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type, NOT a.attnotnull AS nullable,
            EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = a.attrelid AND i.indisprimary AND a.attnum = ANY(i.indkey)) AS pk
     FROM pg_catalog.pg_attribute a WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [relation.oid],
  );
  const indexes = await client.query<{ name: string; columns: string[] }>(
    `SELECT c.relname::text AS name,
            array(SELECT a.attname::text FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
                  JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.n) AS columns
     FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = $1::oid ORDER BY c.relname`,
    [relation.oid],
  );
  return {
    table,
    // r: an ordinary table, p: a partitioned one.
    isTable: relation.kind === "r" || relation.kind === "p",
    columns: columns.rows.map((row) => ({ name: row.name, declaredType: row.type, nullable: row.nullable, primaryKey: row.pk })),
    indexes: indexes.rows.map((row) => ({ name: row.name, columns: row.columns })),
    recorded: parseColumnRecords(await postgresMeta(client, columnsKey(table))),
  };
}

/** The store's shape in PostgreSQL, for the model tables named. */
export async function readPostgresStoreShape(client: PostgresQueryable, tables: readonly string[]): Promise<StoreShape> {
  const shapes = new Map<string, TableShape | null>();
  for (const table of tables) shapes.set(table, await readPostgresTableShape(client, table));
  return {
    layoutVersion: await postgresMeta(client, layoutKey),
    serverTablesExist: (await postgresRelation(client, queuesTable)) !== null,
    tables: shapes,
  };
}
