/**
 * Retired columns: a removed OPTIONAL property's column stays in its table with its values
 * (dropping data is never the server's decision; the schema plan lists it in `kept`), and rows
 * written before must still decode to the exact documents ingested. A row without `$order`
 * stands for its non-NULL columns in layout order, and one with `$order` names its keys: both
 * need the old column in the layout, in its old place. `asymgen_meta`'s column record keeps
 * every column the table was made with, in the order they came (store-meta.ts), and what each
 * was made for, which is all a column needs to be decoded again.
 *
 * Stores: plan and write with the schema's layout; decode rows (`rowToDocument`, duplicate
 * `_id` checks, `readDocuments`) with `storeLayoutOf(layout, table shape)`: the shape read
 * before the plan is applied gives the same layout (a record keeps its removed columns).
 */
import type { CanonicalPropertySchema, PropertyTypeName } from "asymgen/schema";
import type { TableShape } from "./read-table-shape.js";
import type { ColumnRecord } from "./store-meta.js";
import type { PropertyColumn, TableLayout } from "./table-layout.js";

const collectionTypes = new Set(["list", "set", "dictionary"]);

/** The property a recorded descriptor (store-meta.ts's `describeProperty`: `string?`, `list<int?>`, `object<Location>`, `mixed`) stands for; null when it is not one. */
export function propertyOfRecord(name: string, descriptor: string): CanonicalPropertySchema | null {
  const generic = /^(list|set|dictionary|object)<([^<>?]+)(\?)?>$/.exec(descriptor);
  if (generic) {
    const [, type, objectType, optional] = generic as unknown as [string, string, string, string | undefined];
    if (type === "object" && optional !== undefined) return null;
    // An embedded object is always optional; a collection's `?` is its elements' (mixed elements are nullable anyway).
    return { name, mapTo: name, type: type as PropertyTypeName, objectType, optional: type === "object" || optional !== undefined || objectType === "mixed", indexed: false };
  }
  if (descriptor === "mixed") return { name, mapTo: name, type: "mixed", optional: true, indexed: false };
  const scalar = /^(bool|int|float|double|decimal128|objectId|uuid|string|data|date)(\?)?$/.exec(descriptor);
  if (!scalar) return null;
  return { name, mapTo: name, type: scalar[1] as PropertyTypeName, optional: scalar[2] !== undefined, indexed: false };
}

/**
 * `layout` with the columns `recorded` (the table's `asymgen_meta` record) names that the layout
 * no longer has, marked retired, each placed right after the column it followed in the record
 * (the record lists columns in the order they were made: the old layout's order, new columns
 * after), so old rows decode to the documents they were. A record that does not describe a
 * property (hand-edited), or an embedded object whose model is gone, cannot be decoded: such a
 * column is left out, and rows holding a value in it decode without that value (throws only if
 * their `$order` names it, as before). `recorded` null: the layout as it is.
 */
export function withRetiredColumns(layout: TableLayout, recorded: Readonly<Record<string, ColumnRecord>> | null): TableLayout {
  if (recorded === null) return layout;
  const current = new Set(layout.columns.map((column) => column.name));
  const columns: PropertyColumn[] = [...layout.columns];
  let previous: string | null = null;
  for (const [name, record] of Object.entries(recorded)) {
    if (!current.has(name)) {
      const property = propertyOfRecord(name, record.property);
      const decodable = property !== null && (property.type !== "object" && !collectionTypes.has(property.type) ? true : isKnownElement(property, layout));
      if (property !== null && decodable) {
        const form = property.type === "mixed" || property.type === "object" || collectionTypes.has(property.type) ? "json" : "native";
        const retired: PropertyColumn = { name, property, sqlType: record.sqlType, form, nullable: true, indexed: false, retired: true };
        const at = previous === null ? 0 : columns.findIndex((column) => column.name === previous) + 1;
        columns.splice(at, 0, retired);
      } else {
        continue; // not placed: the next column follows what this one followed
      }
    }
    previous = name;
  }
  return columns.length === layout.columns.length ? layout : { ...layout, columns };
}

/** Whether a collection's or embedded object's element is a scalar type or a model the layout knows. */
function isKnownElement(property: CanonicalPropertySchema, layout: TableLayout): boolean {
  const element = property.objectType ?? "mixed";
  return ["bool", "int", "float", "double", "decimal128", "objectId", "uuid", "string", "data", "date", "mixed"].includes(element) || layout.models.has(element);
}

/**
 * The layout a store reads and writes `layout`'s table with: its retired columns, those of the
 * table's record that the table still has (a kept column dropped by hand since is left out, so
 * no statement names a column that is gone).
 */
export function storeLayoutOf(layout: TableLayout, table: TableShape | null): TableLayout {
  if (table === null || table.recorded === null) return layout;
  const present = new Set(table.columns.map((column) => column.name));
  return withRetiredColumns(layout, Object.fromEntries(Object.entries(table.recorded).filter(([name]) => present.has(name))));
}
