/**
 * What starting a server with a schema does to the store's tables, decided without a database:
 * create a new model's table, add the column of a new property that old documents could lack,
 * add the index of a newly `@Indexed` property, or refuse. Refused: a changed type, a property
 * made required, a new required property (old rows have no value), a removed required property
 * (its NOT NULL column would refuse new rows), a table in asymgen 0.1's layout, a table that is
 * not asymgen's, a store written in another layout. Every problem of every table is reported,
 * and nothing is changed when there is one.
 *
 * A removed OPTIONAL property's column stays, with its values: new rows leave it NULL, SQL still
 * reads the old values, and the plan says which columns are kept (`kept`). Dropping data is
 * never the server's decision.
 */
import type { CanonicalPropertySchema } from "asymgen/schema";
import { quoteIdentifier } from "../stores/quote-identifier.js";
import type { ColumnShape, StoreShape, TableShape } from "./read-table-shape.js";
import { createMetaTableSql, describeProperty, metaTable, recordColumnsSql, recordLayoutSql, typedLayoutVersion } from "./store-meta.js";
import { createIndexSql, createTableSql, metadataColumnNames, type PropertyColumn, type TableLayout } from "./table-layout.js";

/** What is wrong, in kinds a caller (and a test) can tell apart. */
export type SchemaProblemKind =
  | "type-changed"
  | "made-required"
  | "new-required"
  | "required-removed"
  | "made-optional"
  | "primary-key-changed"
  | "reordered"
  | "old-layout"
  | "foreign-table"
  | "other-layout";

/** One incompatibility: the table, the column (null: the table or store as a whole), what the store has, what the schema asks, and what to do. */
export interface SchemaProblem {
  readonly kind: SchemaProblemKind;
  readonly table: string;
  readonly column: string | null;
  /** What the store has: a type (`double (double precision)`), `optional`, a layout. */
  readonly was: string;
  /** What the schema asks: a type, `required`, `removed`. */
  readonly now: string;
  readonly wayForward: string;
}

/** A column no longer in the schema, kept with its values. */
export interface KeptColumn {
  readonly table: string;
  readonly column: string;
}

/** One table's plan. */
export type SchemaPlan =
  | { readonly kind: "create"; readonly sql: readonly string[] }
  | { readonly kind: "alter"; readonly sql: readonly string[]; readonly kept: readonly KeptColumn[] }
  | { readonly kind: "up-to-date"; readonly kept: readonly KeptColumn[] }
  | { readonly kind: "refuse"; readonly problems: readonly SchemaProblem[] };

/** The whole store's plan: the SQL to run in one transaction, or every problem. */
export type StorePlan =
  | { readonly kind: "apply"; readonly sql: readonly string[]; readonly kept: readonly KeptColumn[] }
  | { readonly kind: "up-to-date"; readonly kept: readonly KeptColumn[] }
  | { readonly kind: "refuse"; readonly problems: readonly SchemaProblem[] };

/** asymgen 0.1's table: the document as Extended JSON text in `doc`, and its delivery in four columns. */
const oldLayoutColumns = ["_id", "doc", "user_id", "arrived_at", "queue_id", "seq"];

/**
 * Whether a valid document may lack the property, the validator's rule
 * (server/validate/object-scanner.ts `isRequired`): collections default to empty, links and mixed
 * are nullable, any other property only when optional. Old rows can lack exactly these.
 */
function mayBeAbsent(property: CanonicalPropertySchema): boolean {
  if (property.type === "list" || property.type === "set" || property.type === "dictionary") return true;
  if (property.type === "object" || property.type === "mixed") return true;
  return property.optional;
}

function sameSqlType(a: string, b: string, layout: TableLayout): boolean {
  // SQLite keeps the declared type as written; its names are case-insensitive.
  return layout.dialect === "sqlite" ? a.trim().toUpperCase() === b.trim().toUpperCase() : a === b;
}

/** `int (bigint)`: the property's type and its column's. */
function described(column: PropertyColumn): string {
  return `${describeProperty(column.property)} (${column.sqlType})`;
}

const newName = "give the model a new persisted name with @MapTo (a new table; the old one stays as it is)";

function problem(kind: SchemaProblemKind, layout: TableLayout, column: string | null, was: string, now: string, wayForward: string): SchemaProblem {
  return { kind, table: layout.table, column, was, now, wayForward };
}

/** Whether the old layout's exact columns are the table's. */
function isOldLayout(existing: TableShape): boolean {
  const names = existing.columns.map((column) => column.name).sort();
  return names.join("\0") === [...oldLayoutColumns].sort().join("\0");
}

/** The table's problems as a whole (old layout, foreign, a view); none when it is a typed table of ours. */
function tableProblems(layout: TableLayout, existing: TableShape): SchemaProblem[] {
  const t = quoteIdentifier(layout.table);
  if (isOldLayout(existing))
    return [
      problem(
        "old-layout",
        layout,
        null,
        "the asymgen 0.1 layout (each document as Extended JSON text in one doc column)",
        "a typed table (a column per property)",
        `this server never mixes the two layouts: start it on a new store (another --store URL or SQLite file); the old store stays readable as it is (SELECT doc FROM ${t})`,
      ),
    ];
  if (!existing.isTable)
    return [problem("foreign-table", layout, null, "a view or other relation, not a table", "asymgen's typed table", `rename or drop the relation ${t}, or ${newName}`)];
  const byName = new Map(existing.columns.map((column) => [column.name, column]));
  const metadataMissing = layout.metadata.filter((column) => !byName.has(column.name) || !sameSqlType(byName.get(column.name)!.declaredType, column.sqlType, layout));
  if (metadataMissing.length === 0) return [];
  // Not asymgen's: its columns that the model does not explain, and asymgen's own that it lacks.
  const known = new Set([...layout.columns.map((column) => column.name), ...metadataColumnNames]);
  const foreign = existing.columns.filter((column) => !known.has(column.name)).map((column) => `${column.name} ${column.declaredType}`);
  const missing = metadataMissing.map((column) => `${column.name} ${column.sqlType}`);
  return [
    problem(
      "foreign-table",
      layout,
      null,
      `a table that is not asymgen's (${[foreign.length ? `columns not in the model: ${foreign.join(", ")}` : "", `missing: ${missing.join(", ")}`].filter(Boolean).join("; ")})`,
      "asymgen's typed table",
      `${newName}, or rename the existing table (ALTER TABLE ${t} RENAME TO …)`,
    ),
  ];
}

/** One existing column against the layout's: a problem, SQL to run, or nothing. */
function checkColumn(layout: TableLayout, column: PropertyColumn, existing: ColumnShape, recordedProperty: string | undefined): SchemaProblem | string | null {
  const t = quoteIdentifier(layout.table);
  const c = quoteIdentifier(column.name);
  const isKey = column.name === layout.primaryKey;
  if (isKey !== existing.primaryKey)
    return problem(
      "primary-key-changed",
      layout,
      column.name,
      existing.primaryKey ? "the primary key" : "not the primary key",
      isKey ? "the primary key" : "not the primary key",
      `${newName}; a table's primary key cannot change in place`,
    );
  const was = `${recordedProperty ?? "?"} (${existing.declaredType})`;
  const typeChanged = (): SchemaProblem =>
    problem(
      "type-changed",
      layout,
      column.name,
      recordedProperty === undefined ? existing.declaredType : was,
      described(column),
      layout.dialect === "postgres"
        ? `change the property back, or ${newName}, or migrate the column by hand: ALTER TABLE ${t} ALTER COLUMN ${c} TYPE ${column.sqlType} USING … (then the server records the new type)`
        : `change the property back, or ${newName}, or migrate by hand: SQLite cannot change a column's type in place; rebuild the table, or move the column aside (ALTER TABLE ${t} RENAME COLUMN ${c} TO …) when the property is optional`,
    );
  if (!sameSqlType(existing.declaredType, column.sqlType, layout)) return typeChanged();
  const now = describeProperty(column.property);
  const optionalOnly = (text: string): string => text.replace(/\?$/, "");
  if (recordedProperty !== undefined && recordedProperty !== now && optionalOnly(recordedProperty) !== optionalOnly(now)) return typeChanged();
  if (isKey) return null;
  const nowRequired = !mayBeAbsent(column.property);
  // Made required: the column allows NULL (or the record says the property was optional, where the
  // column allows NULL either way: SQLite's REAL): old rows may have no value.
  const recordedOptional = recordedProperty !== undefined && recordedProperty.endsWith("?") && !now.endsWith("?");
  if (nowRequired && existing.nullable && (!column.nullable || recordedOptional))
    return problem(
      "made-required",
      layout,
      column.name,
      `optional ${recordedProperty === undefined ? existing.declaredType : `${optionalOnly(recordedProperty)} (${existing.declaredType})`}`,
      `required ${described(column)}`,
      `keep the property optional (old rows may have no value), or ${newName}` +
        (layout.dialect === "postgres" ? `, or fill the old rows and add the constraint by hand: UPDATE ${t} SET ${c} = … WHERE ${c} IS NULL; ALTER TABLE ${t} ALTER COLUMN ${c} SET NOT NULL` : ""),
    );
  // Made optional: new rows may leave it NULL; PostgreSQL drops the constraint, SQLite cannot.
  if (!existing.nullable && column.nullable) {
    if (layout.dialect === "postgres") return `ALTER TABLE ${t} ALTER COLUMN ${c} DROP NOT NULL`;
    return problem(
      "made-optional",
      layout,
      column.name,
      `required ${recordedProperty === undefined ? existing.declaredType : `${recordedProperty} (${existing.declaredType})`} NOT NULL`,
      `optional ${described(column)}`,
      `keep the property required, or ${newName}: SQLite cannot drop a NOT NULL constraint in place (rebuild the table by hand)`,
    );
  }
  return null;
}

/**
 * A row without `$order` stands for its document's fields in the layout's order of the day it
 * was written: properties the table already has must keep their relative order, or old rows would
 * decode with their fields in the new order (other bytes). The record lists the columns in the
 * last layout's order (retired ones in place: store-meta.ts); new properties may go anywhere.
 */
function reorderProblem(layout: TableLayout, existing: TableShape): SchemaProblem | null {
  if (existing.recorded === null) return null;
  const now = layout.columns.map((column) => column.name);
  const before = Object.keys(existing.recorded).filter((name) => now.includes(name));
  const after = now.filter((name) => before.includes(name));
  if (before.join("\0") === after.join("\0")) return null;
  return problem(
    "reordered",
    layout,
    null,
    `the properties in the order ${before.join(", ")}`,
    `the order ${after.join(", ")}`,
    `keep the properties in their stored order (rows keep their documents' field order by it), or ${newName}`,
  );
}

/** One table's plan: `existing` as read-table-shape.ts reads it, null when there is no such table. */
export function planSchemaChange(layout: TableLayout, existing: TableShape | null): SchemaPlan {
  // Each plan that writes a column record creates asymgen_meta first (IF NOT EXISTS), so a table's
  // plan runs on its own; planStoreSchema drops the repeats.
  const meta = createMetaTableSql(layout.dialect);
  if (existing === null) return { kind: "create", sql: [createTableSql(layout), ...createIndexSql(layout), meta, recordColumnsSql(layout, existing)] };
  const whole = tableProblems(layout, existing);
  if (whole.length > 0) return { kind: "refuse", problems: whole };
  const reordered = reorderProblem(layout, existing);
  if (reordered) return { kind: "refuse", problems: [reordered] };
  const t = quoteIdentifier(layout.table);
  const byName = new Map(existing.columns.map((column) => [column.name, column]));
  const problems: SchemaProblem[] = [];
  const sql: string[] = [];
  for (const column of layout.columns) {
    const current = byName.get(column.name);
    const recorded = existing.recorded?.[column.name];
    // The record describes the column only while its SQL type is the one recorded: a column
    // migrated by hand (ALTER … TYPE) is judged by its SQL type alone.
    const recordedProperty = recorded !== undefined && current !== undefined && sameSqlType(recorded.sqlType, current.declaredType, layout) ? recorded.property : undefined;
    if (current === undefined) {
      if (mayBeAbsent(column.property)) sql.push(`ALTER TABLE ${t} ADD COLUMN ${quoteIdentifier(column.name)} ${column.sqlType}`);
      else
        problems.push(
          problem(
            "new-required",
            layout,
            column.name,
            "no such column (old rows have no value)",
            `required ${described(column)}`,
            `make the property optional, or ${newName}`,
          ),
        );
      continue;
    }
    const verdict = checkColumn(layout, column, current, recordedProperty);
    if (typeof verdict === "string") sql.push(verdict);
    else if (verdict !== null) problems.push(verdict);
  }
  const inLayout = new Set<string>([...layout.columns.map((column) => column.name), ...metadataColumnNames]);
  const kept: KeptColumn[] = [];
  for (const column of existing.columns) {
    if (inLayout.has(column.name)) continue;
    if (column.nullable && !column.primaryKey) {
      kept.push({ table: layout.table, column: column.name });
      continue;
    }
    const recorded = existing.recorded?.[column.name]?.property;
    problems.push(
      problem(
        column.primaryKey ? "primary-key-changed" : "required-removed",
        layout,
        column.name,
        `${column.primaryKey ? "the primary key" : "required"} ${recorded === undefined ? column.declaredType : `${recorded} (${column.declaredType})`}`,
        "removed",
        column.primaryKey
          ? `${newName}; a table's primary key cannot change in place`
          : `keep the property, or ${newName}` +
              (layout.dialect === "postgres"
                ? `, or let new rows leave the column empty: ALTER TABLE ${t} ALTER COLUMN ${quoteIdentifier(column.name)} DROP NOT NULL`
                : ` (its NOT NULL column would refuse every new row, and SQLite cannot drop the constraint in place)`),
      ),
    );
  }
  if (problems.length > 0) return { kind: "refuse", problems };
  // Indexes: one whose only column is the property's, whatever its name (PostgreSQL truncates
  // names past 63 bytes).
  const indexedColumns = layout.columns.filter((column) => column.indexed);
  const indexSql = createIndexSql(layout);
  indexedColumns.forEach((column, i) => {
    if (!existing.indexes.some((index) => index.columns.length === 1 && index.columns[0] === column.name)) sql.push(indexSql[i] as string);
  });
  // Record what the columns are made for when the record is missing or says something else.
  const recordedNow = layout.columns.every((column) => {
    const record = existing.recorded?.[column.name];
    return record !== undefined && record.property === describeProperty(column.property) && record.sqlType === column.sqlType;
  });
  if (sql.length === 0 && recordedNow) return { kind: "up-to-date", kept };
  return { kind: "alter", sql: [...sql, meta, recordColumnsSql(layout, existing.recorded)], kept };
}

/**
 * The whole store's plan for the schema's layouts. Refused as a whole when the store is in
 * another layout: written by asymgen 0.1 (server tables, no `asymgen_meta`), or by a version
 * that recorded another layout. Otherwise every table's plan, all problems together; the SQL
 * first creates `asymgen_meta` and records the layout when the store has none.
 */
export function planStoreSchema(layouts: readonly TableLayout[], store: StoreShape): StorePlan {
  const problems: SchemaProblem[] = [];
  if (store.layoutVersion !== null && store.layoutVersion !== typedLayoutVersion) {
    problems.push({
      kind: "other-layout",
      table: metaTable,
      column: null,
      was: `layout ${store.layoutVersion}`,
      now: `layout ${typedLayoutVersion} (typed tables)`,
      wayForward: "this store was written by another asymgen version: run that version on it, or start this server on a new store (another --store URL or SQLite file)",
    });
    return { kind: "refuse", problems };
  }
  const sql: string[] = [];
  const kept: KeptColumn[] = [];
  for (const layout of layouts) {
    const plan = planSchemaChange(layout, store.tables.get(layout.table) ?? null);
    if (plan.kind === "refuse") problems.push(...plan.problems);
    else if (plan.kind !== "up-to-date") sql.push(...plan.sql);
    if (plan.kind === "alter" || plan.kind === "up-to-date") kept.push(...plan.kept);
  }
  // A 0.1 store whose model tables are all new names: its server tables still say so.
  if (store.layoutVersion === null && store.serverTablesExist && !problems.some((p) => p.kind === "old-layout"))
    problems.push({
      kind: "old-layout",
      table: "asymgen_queues",
      column: null,
      was: "an asymgen 0.1 store (server tables and no asymgen_meta)",
      now: `layout ${typedLayoutVersion} (typed tables)`,
      wayForward: "this server never mixes the two layouts: start it on a new store (another --store URL or SQLite file); the old store stays readable as it is",
    });
  if (problems.length > 0) return { kind: "refuse", problems };
  if (store.layoutVersion === null) sql.unshift(createMetaTableSql(layouts[0]?.dialect ?? "sqlite"), recordLayoutSql());
  return sql.length === 0 ? { kind: "up-to-date", kept } : { kind: "apply", sql: [...new Set(sql)], kept };
}
