/**
 * A store's prepare needs the whole schema, embedded models included: a typed table's nested
 * values are decoded by their models, and without them every row would keep its nested values a
 * second time in `$exact` (the codec could not predict their read-back), silently. So a schema
 * that names a model it does not hold is refused.
 */
import type { CanonicalObjectSchema, ScalarTypeName } from "asymgen/schema";

const scalarTypes: ReadonlySet<string> = new Set<ScalarTypeName>([
  "bool",
  "int",
  "float",
  "double",
  "decimal128",
  "objectId",
  "uuid",
  "string",
  "data",
  "date",
  "mixed",
]);

/** Throws when a property of `models` refers to a model that is not among them. */
export function assertCompleteSchema(models: readonly CanonicalObjectSchema[]): void {
  const names = new Set(models.map((model) => model.name));
  for (const model of models) {
    for (const property of Object.values(model.properties)) {
      const target = property.objectType;
      if (target === undefined || scalarTypes.has(target) || names.has(target)) continue;
      throw new Error(
        `store: "${model.name}.${property.mapTo}" refers to the model "${target}", which is not in the schema given to prepare (give the whole schema, embedded models included)`,
      );
    }
  }
}
