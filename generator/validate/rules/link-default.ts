/**
 * Rule: a link to an object has no default value (realm-dart's rule too): the initializer would
 * build an instance of the model class, not of the generated class the encoder expects.
 */
import { createDiagnostic } from "../../diagnostics/create-diagnostic.js";
import { inModel, listModels, listPersistedProperties, type ModelRule } from "../model-rule.js";

/** Reports an initializer on a property whose type is a single link. */
export const checkLinkDefault: ModelRule = (project, report) => {
  for (const model of listModels(project)) {
    for (const property of listPersistedProperties(model)) {
      if (property.type.kind !== "link" || property.default === undefined) continue;
      report(
        createDiagnostic("linkDefault", {
          message: `"${property.name}" links to "${property.type.targetClass}" and has a default value; links to objects cannot have defaults.`,
          // At the initializer, where realm-dart reports it.
          span: property.defaultSpan ?? property.span,
          related: [inModel(model)],
          hint: `remove the initializer \`= ${property.default.text}\` and pass "${property.name}" when ingesting`,
        }),
      );
    }
  }
};
