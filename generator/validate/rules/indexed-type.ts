/** Rule: `@Indexed` is on a type Realm can index: bool, int, string, objectId, uuid, date or mixed. */
import { createDiagnostic } from "../../diagnostics/create-diagnostic.js";
import { describeType, inModel, listModels, listPersistedProperties, type ModelRule } from "../model-rule.js";
import { deletion } from "../fix-edits.js";

const indexable = new Set(["bool", "int", "string", "objectId", "uuid", "date", "mixed"]);

/** Reports `@Indexed()` on floats, doubles, decimals, data, links and collections. */
export const checkIndexedType: ModelRule = (project, report) => {
  for (const model of listModels(project)) {
    for (const property of listPersistedProperties(model)) {
      if (!property.indexed || property.type.kind === "unsupported") continue;
      if (property.type.kind === "scalar" && indexable.has(property.type.scalar)) continue;
      const decorator = property.decorators.find((d) => d.name === "Indexed");
      report(
        createDiagnostic("indexedUnsupportedType", {
          message: `"${property.name}" has type ${describeType(property.type)}, which Realm cannot index.`,
          // At the type, where realm-dart reports it.
          span: property.type.span,
          related: [inModel(model)],
          hint: `change the type of "${property.name}" to an indexable one (bool, int, string, objectId, uuid, date, mixed), or remove @Indexed()`,
          fixes: decorator === undefined ? undefined : [{ title: `Remove @Indexed() from "${property.name}"`, edits: [deletion(decorator.span)] }],
        }),
      );
    }
  }
};
