/**
 * Realm JS's canonical object schema of a model, with the edge rules of realm-js
 * `packages/realm/src/schema/normalize.ts`: mixed (and collections of mixed) are optional; a
 * link is always optional and names the target's persisted name; lists and sets of objects hold
 * non-optional elements while dictionaries of objects hold optional ones; a primary key is
 * indexed; every property carries `mapTo`.
 */
import type { CanonicalObjectSchema, CanonicalPropertySchema, PropertyTypeName } from "asymgen/schema";
import { persistedModelName, persistedPropertyName, type ModelInfo, type ProjectInfo, type PropertyInfo, type TypeInfo } from "../model/model-info.js";
import { resolveLinkOrThrow } from "./resolve-link.js";

/** How a default appears: its literal value, or the source of an expression (rendered `() => expr`). */
export type SchemaDefault =
  | { kind: "literal"; value: string | number | boolean | null }
  /** A bigint literal (`10n`), as decimal digits. */
  | { kind: "bigint"; value: string }
  | { kind: "expression"; text: string };

/** One property of the canonical schema, with the default kept symbolic for rendering. */
export interface SchemaPropertyView {
  name: string;
  type: PropertyTypeName;
  objectType?: string;
  optional: boolean;
  indexed: boolean;
  mapTo: string;
  default?: SchemaDefault;
}

/** The persisted properties of a model (`@Ignored` ones are left out entirely). */
export function persistedProperties(model: ModelInfo): PropertyInfo[] {
  return model.properties.filter((property) => !property.ignored);
}

/** The canonical property schema of `property`, default symbolic. */
export function buildPropertySchema(property: PropertyInfo, project: ProjectInfo): SchemaPropertyView {
  const type = property.type;
  let schema: SchemaPropertyView;
  switch (type.kind) {
    case "scalar":
      schema = { name: property.name, type: type.scalar, optional: type.scalar === "mixed" || type.optional, indexed: false, mapTo: "" };
      break;
    case "link":
      schema = { name: property.name, type: "object", objectType: resolveLinkOrThrow(type, project).persistedName, optional: true, indexed: false, mapTo: "" };
      break;
    case "list":
    case "set":
    case "dictionary": {
      const element = elementSchema(type.kind, type.element, project);
      schema = { name: property.name, type: type.kind, objectType: element.objectType, optional: element.optional, indexed: false, mapTo: "" };
      break;
    }
    case "unsupported":
      throw new Error(`asymgen internal error: property ${property.name} has an unsupported type (${type.text}) past validation`);
  }
  schema.indexed = property.primaryKey || property.indexed;
  schema.mapTo = persistedPropertyName(property);
  if (property.default !== undefined) {
    const fallback = property.default;
    schema.default = fallback.kind === "expression" ? { kind: "expression", text: fallback.text } : fallback.kind === "bigint" ? { kind: "bigint", value: fallback.value } : { kind: "literal", value: fallback.value };
  }
  return schema;
}

function elementSchema(collection: "list" | "set" | "dictionary", element: TypeInfo, project: ProjectInfo): { objectType: string; optional: boolean } {
  switch (element.kind) {
    case "scalar":
      return { objectType: element.scalar, optional: element.scalar === "mixed" || element.optional };
    case "link":
      // Realm: objects in lists and sets are never null; a dictionary value may always be null.
      return { objectType: resolveLinkOrThrow(element, project).persistedName, optional: collection === "dictionary" };
    default:
      throw new Error(`asymgen internal error: unsupported collection element (${element.text}) past validation`);
  }
}

/** A model's canonical schema with symbolic defaults. */
export interface SchemaView {
  name: string;
  asymmetric: boolean;
  embedded: boolean;
  primaryKey?: string;
  properties: SchemaPropertyView[];
}

/** The model's canonical schema with symbolic defaults. */
export function buildSchemaView(model: ModelInfo, project: ProjectInfo): SchemaView {
  const properties = persistedProperties(model).map((property) => buildPropertySchema(property, project));
  const primaryKey = persistedProperties(model).find((property) => property.primaryKey)?.name;
  const view: SchemaView = {
    name: persistedModelName(model),
    asymmetric: model.kind === "asymmetric",
    embedded: model.kind === "embedded",
    properties,
  };
  if (primaryKey !== undefined) view.primaryKey = primaryKey;
  return view;
}

/** The canonical schema as data (for `--schema-out`): dynamic defaults are left out. */
export function buildCanonicalSchema(model: ModelInfo, project: ProjectInfo): CanonicalObjectSchema {
  const view = buildSchemaView(model, project);
  const properties: Record<string, CanonicalPropertySchema> = {};
  for (const property of view.properties) {
    // realm-js normalizePropertySchema's key order: name, type, optional, indexed, mapTo, objectType, default.
    const canonical: CanonicalPropertySchema = {
      name: property.name,
      type: property.type,
      optional: property.optional,
      indexed: property.indexed,
      mapTo: property.mapTo,
      ...(property.objectType === undefined ? {} : { objectType: property.objectType }),
    };
    if (property.default?.kind === "literal") canonical.default = property.default.value;
    // JSON has no bigint: a bigint default that a number holds exactly is written as that number;
    // a larger one is left out, like a computed default.
    if (property.default?.kind === "bigint" && Number.isSafeInteger(Number(property.default.value))) canonical.default = Number(property.default.value);
    properties[property.name] = canonical;
  }
  // realm-js normalizeObjectSchema's key order: name, primaryKey, asymmetric, embedded, properties.
  return {
    name: view.name,
    ...(view.primaryKey === undefined ? {} : { primaryKey: view.primaryKey }),
    asymmetric: view.asymmetric,
    embedded: view.embedded,
    properties,
  };
}
