/**
 * Realm JS's canonical object schema (realm-js `packages/realm/src/schema/normalize.ts`), the
 * shape of every generated class's `static schema` and of `schema.json`, the server's input.
 */

/** A property's database type. */
export type PropertyTypeName =
  | "bool"
  | "int"
  | "float"
  | "double"
  | "decimal128"
  | "objectId"
  | "uuid"
  | "string"
  | "data"
  | "date"
  | "mixed"
  | "object"
  | "list"
  | "set"
  | "dictionary";

/** The element types a collection may hold, and the scalar types. */
export type ScalarTypeName = Exclude<PropertyTypeName, "object" | "list" | "set" | "dictionary">;

/** One property in canonical form. */
export interface CanonicalPropertySchema {
  /** The name in TypeScript (the key in `properties`). */
  name: string;
  type: PropertyTypeName;
  /** For `object`: the target's persisted name; for collections: the element type. */
  objectType?: string;
  /** For collections: the element's optionality. */
  optional: boolean;
  indexed: boolean;
  /** The persisted name (equal to `name` unless `@MapTo` says otherwise). */
  mapTo: string;
  /** A literal default; a function for a computed one (left out of schema.json). */
  default?: unknown;
}

/** One model in canonical form. */
export interface CanonicalObjectSchema {
  /** The persisted name (after a class-level `@MapTo`). */
  name: string;
  properties: Record<string, CanonicalPropertySchema>;
  /** The TypeScript name of the primary key property. */
  primaryKey?: string;
  embedded: boolean;
  asymmetric: boolean;
}
