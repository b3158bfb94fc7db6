/**
 * What both Realms (Node's runtime/realm.ts and the browser's runtime/browser/browser-realm.ts)
 * do the same way before a document reaches a queue: check the configured model classes, index
 * them by constructor, and find the model an `ingest` call names.
 */
import type { BsonWriter } from "./encode/bson-writer.js";
import { encodeSymbol, type GeneratedModelClass } from "./codegen/model-class.js";
import { RealmSchemaError } from "./errors.js";
import type { CanonicalObjectSchema } from "./schema/canonical-schema.js";

/** Any generated model class, whatever its init type. */
export type AnyModelClass = GeneratedModelClass<any>;

/** The init object a generated class's constructor takes. */
export type ModelInit<M> = M extends GeneratedModelClass<infer Init> ? Init : never;

/** A model of the schema: its table, whether it is embedded, and its generated encoder. */
export interface ModelEntry {
  table: string;
  embedded: boolean;
  encode: (writer: BsonWriter, value: unknown) => void;
}

/** Whether `value` is a promise (or any thenable): a write callback must not return one. */
export function isThenable(value: unknown): boolean {
  return (typeof value === "object" || typeof value === "function") && value !== null && typeof (value as { then?: unknown }).then === "function";
}

/** Checks the configured classes and indexes them by constructor. */
export function indexSchema(classes: readonly AnyModelClass[]): { models: Map<Function, ModelEntry>; schema: CanonicalObjectSchema[] } {
  if (!Array.isArray(classes) || classes.length === 0) throw new RealmSchemaError("Realm.open needs a schema: a non-empty array of generated model classes");
  const models = new Map<Function, ModelEntry>();
  const names = new Set<string>();
  const schema: CanonicalObjectSchema[] = [];
  for (const Model of classes) {
    const label = typeof Model === "function" ? Model.name || "(anonymous class)" : String(Model);
    const objectSchema = typeof Model === "function" ? (Model as { schema?: CanonicalObjectSchema }).schema : undefined;
    const encode = typeof Model === "function" ? (Model as Partial<AnyModelClass>)[encodeSymbol] : undefined;
    if (objectSchema === undefined || typeof objectSchema.name !== "string" || typeof encode !== "function") {
      throw new RealmSchemaError(`${label} is not a generated model class (no static schema or encoder); list the classes from X.realm.ts`);
    }
    if (!objectSchema.asymmetric && !objectSchema.embedded) {
      throw new RealmSchemaError(`"${objectSchema.name}" is neither asymmetric nor embedded; asymgen only ingests asymmetric objects`);
    }
    if (names.has(objectSchema.name)) throw new RealmSchemaError(`two models are named "${objectSchema.name}" in the schema`);
    names.add(objectSchema.name);
    schema.push(objectSchema);
    // Bound so a generated encoder may refer to `this` (its class) like any static method.
    models.set(Model, { table: objectSchema.name, embedded: objectSchema.embedded, encode: encode.bind(Model) as ModelEntry["encode"] });
  }
  return { models, schema };
}

/** The model an `ingest(Model, init)` or `ingest(instance)` call names, and the value to encode; throws `RealmSchemaError` for one outside the schema or embedded. */
export function resolveIngestTarget(models: ReadonlyMap<Function, ModelEntry>, modelOrObject: unknown, init: unknown): { entry: ModelEntry; value: unknown } {
  let Model: Function;
  let value: unknown;
  if (typeof modelOrObject === "function") {
    Model = modelOrObject;
    value = init;
  } else if (typeof modelOrObject === "object" && modelOrObject !== null) {
    Model = modelOrObject.constructor;
    value = modelOrObject;
  } else {
    throw new RealmSchemaError(`ingest takes a model class and an init object, or a model instance; got ${String(modelOrObject)}`);
  }
  const entry = models.get(Model);
  if (entry === undefined) {
    throw new RealmSchemaError(`"${Model.name}" is not in this Realm's schema; list it in Realm.open({ schema })`);
  }
  if (entry.embedded) {
    throw new RealmSchemaError(`"${entry.table}" is an embedded model: it can only be ingested inside an asymmetric object`);
  }
  return { entry, value };
}
