/**
 * The schema-driven document validator: each model's canonical schema is compiled once, at
 * startup, into a tree of small checking closures, so validating a document is one linear walk
 * with no schema lookups on the hot path.
 *
 * Documents arrive deserialized with `promoteValues: false`, so BSON's numeric types stay
 * distinct (`Int32`, `Long`, `Double`) and are checked and stored exactly as sent.
 */
import type { CanonicalObjectSchema, CanonicalPropertySchema } from "../../runtime/schema/canonical-schema.js";

/** Why a document does not match its schema: the path (persisted names) and what went wrong. */
export interface ValidationFailure {
  path: string;
  message: string;
}

/** Checks a document; returns null when it matches, else the first failure. */
export type DocumentValidator = (doc: Record<string, unknown>) => ValidationFailure | null;

/** The compiled validators of every asymmetric model, keyed by persisted model name. */
export type SchemaValidators = ReadonlyMap<string, DocumentValidator>;

type Check = (value: unknown, path: string) => ValidationFailure | null;

const scalarTypes = new Set(["bool", "int", "float", "double", "decimal128", "objectId", "uuid", "string", "data", "date", "mixed"]);

/** Compiles one validator per asymmetric model of `schemas`; throws on a schema that does not hang together. */
export function compileSchemaValidators(schemas: readonly CanonicalObjectSchema[]): SchemaValidators {
  const byName = new Map(schemas.map((schema) => [schema.name, schema]));
  // Checked up front (links compile lazily, to allow recursive embedded types) so a bad schema
  // fails at startup, not on the first document.
  for (const schema of schemas) {
    for (const property of Object.values(schema.properties)) {
      if (property.type !== "object" && property.type !== "list" && property.type !== "set" && property.type !== "dictionary") continue;
      const target = requireObjectType(property);
      if (!scalarTypes.has(target) && !byName.has(target))
        throw new Error(`schema: unknown object type "${target}" (property "${schema.name}.${property.name}")`);
    }
  }
  const objectChecks = new Map<string, Check>();

  function objectCheck(name: string): Check {
    const existing = objectChecks.get(name);
    if (existing) return existing;
    const schema = byName.get(name);
    if (!schema) throw new Error(`schema: unknown object type "${name}"`);
    // Registered before the fields compile so a recursive embedded type finds itself.
    let fieldsCheck: Check = () => null;
    const check: Check = (value, path) => fieldsCheck(value, path);
    objectChecks.set(name, check);
    fieldsCheck = compileObject(schema);
    return check;
  }

  function compileObject(schema: CanonicalObjectSchema): Check {
    const fields = new Map<string, Check>();
    const required: string[] = [];
    for (const property of Object.values(schema.properties)) {
      fields.set(property.mapTo, compileProperty(property));
      if (isRequired(property)) required.push(property.mapTo);
    }
    return (value, path) => {
      if (!isPlainDocument(value)) return { path: path || "(document)", message: "expected an embedded object" };
      const doc = value as Record<string, unknown>;
      for (const key in doc) {
        if (!Object.hasOwn(doc, key)) continue;
        const fieldPath = path ? `${path}.${key}` : key;
        const check = fields.get(key);
        if (check === undefined) return { path: fieldPath, message: badKeyMessage(key) ?? "unknown field" };
        const failure = check(doc[key], fieldPath);
        if (failure) return failure;
      }
      for (const key of required) {
        if (!Object.hasOwn(doc, key)) return { path: path ? `${path}.${key}` : key, message: "required field is missing" };
      }
      return null;
    };
  }

  function compileProperty(property: CanonicalPropertySchema): Check {
    switch (property.type) {
      case "list":
      case "set":
        return compileArray(elementCheck(property), property.type);
      case "dictionary":
        return compileDictionary(elementCheck(property));
      case "object": {
        const target = requireObjectType(property);
        const inner = lazy(() => objectCheck(target));
        return (value, path) => (value === null ? null : inner(value, path));
      }
      default: {
        const check = scalarCheck(property.type);
        if (property.optional || property.type === "mixed") return (value, path) => (value === null ? null : check(value, path));
        return check;
      }
    }
  }

  function elementCheck(property: CanonicalPropertySchema): Check {
    const elementType = requireObjectType(property);
    const inner: Check = scalarTypes.has(elementType) ? scalarCheck(elementType) : lazy(() => objectCheck(elementType));
    if (property.optional || elementType === "mixed") return (value, path) => (value === null ? null : inner(value, path));
    return (value, path) => (value === null ? { path, message: "expected a value, not null" } : inner(value, path));
  }

  const validators = new Map<string, DocumentValidator>();
  for (const schema of schemas) {
    if (!schema.asymmetric || schema.embedded) continue;
    const check = objectCheck(schema.name);
    validators.set(schema.name, (doc) => check(doc, ""));
  }
  return validators;
}

function isRequired(property: CanonicalPropertySchema): boolean {
  // Collections default to empty and links to embedded objects are optional in Realm's model;
  // mixed is always nullable. Everything else non-optional must be sent.
  if (property.type === "list" || property.type === "set" || property.type === "dictionary") return false;
  if (property.type === "object" || property.type === "mixed") return false;
  return !property.optional;
}

function requireObjectType(property: CanonicalPropertySchema): string {
  if (!property.objectType) throw new Error(`schema: property "${property.name}" of type ${property.type} has no objectType`);
  return property.objectType;
}

function lazy(make: () => Check): Check {
  let check: Check | undefined;
  return (value, path) => (check ??= make())(value, path);
}

function compileArray(element: Check, kind: "list" | "set"): Check {
  return (value, path) => {
    if (!Array.isArray(value)) return { path, message: `expected an array (${kind})` };
    for (let i = 0; i < value.length; i++) {
      const failure = element(value[i], `${path}[${i}]`);
      if (failure) return failure;
    }
    return null;
  };
}

function compileDictionary(element: Check): Check {
  return (value, path) => {
    if (!isPlainDocument(value)) return { path, message: "expected a document (dictionary)" };
    const doc = value as Record<string, unknown>;
    for (const key in doc) {
      if (!Object.hasOwn(doc, key)) continue;
      const keyPath = `${path}[${JSON.stringify(key)}]`;
      // Realm refuses dictionary keys that start with "$" or contain "." (MongoDB field rules).
      const bad = badKeyMessage(key) ?? (key.includes(".") ? 'dictionary keys must not contain "."' : null);
      if (bad) return { path: keyPath, message: bad };
      const failure = element(doc[key], keyPath);
      if (failure) return failure;
    }
    return null;
  };
}

function badKeyMessage(key: string): string | null {
  if (key === "") return "empty field names are not allowed";
  if (key.startsWith("$")) return 'field names must not start with "$"';
  return null;
}

function bsonType(value: unknown): string | undefined {
  return typeof value === "object" && value !== null ? (value as { _bsontype?: string })._bsontype : undefined;
}

function isPlainDocument(value: unknown): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value) && bsonType(value) === undefined && !(value instanceof Date);
}

function isValidDate(value: unknown): boolean {
  return value instanceof Date && !Number.isNaN(value.getTime());
}

function binarySubtype(value: unknown): number | undefined {
  if (bsonType(value) !== "Binary") return undefined;
  return (value as { sub_type: number }).sub_type;
}

function isUuid(value: unknown): boolean {
  return binarySubtype(value) === 4 && (value as { length(): number }).length() === 16;
}

function isMixedScalar(value: unknown): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "object": {
      if (value instanceof Date) return isValidDate(value);
      const type = bsonType(value);
      if (type === "Binary") return binarySubtype(value) === 0 || isUuid(value);
      return type === "Int32" || type === "Long" || type === "Double" || type === "Decimal128" || type === "ObjectId";
    }
    default:
      return false;
  }
}

function scalarCheck(type: string): Check {
  const expect =
    (predicate: (value: unknown) => boolean, expected: string): Check =>
    (value, path) =>
      predicate(value) ? null : { path, message: `expected ${expected}` };
  switch (type) {
    case "bool":
      return expect((v) => typeof v === "boolean", "a boolean");
    case "int":
      return expect((v) => {
        const t = bsonType(v);
        return t === "Long" || t === "Int32";
      }, "an integer (BSON Int64 or Int32)");
    case "float":
    case "double":
      // A JS client writes whole numbers of a double field as doubles, but other BSON writers may
      // pick Int32 for them; the value is still exact, so it is accepted and stored as sent.
      return expect((v) => {
        const t = bsonType(v);
        return t === "Double" || t === "Int32";
      }, "a number (BSON double)");
    case "decimal128":
      return expect((v) => bsonType(v) === "Decimal128", "a Decimal128");
    case "objectId":
      return expect((v) => bsonType(v) === "ObjectId", "an ObjectId");
    case "uuid":
      return expect(isUuid, "a UUID (binary subtype 4)");
    case "string":
      return expect((v) => typeof v === "string", "a string");
    case "data":
      return expect((v) => binarySubtype(v) === 0, "binary data (binary subtype 0)");
    case "date":
      return expect(isValidDate, "a date");
    case "mixed":
      return expect(isMixedScalar, "a scalar value (mixed)");
    default:
      throw new Error(`schema: unknown property type "${type}"`);
  }
}
