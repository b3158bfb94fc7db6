/** Rule: a single embedded link is optional (Realm stores a missing embedded object as null). */
import { createDiagnostic } from "../../diagnostics/create-diagnostic.js";
import { inModel, listModels, listPersistedProperties, type ModelRule } from "../model-rule.js";
import { annotationSeparatorFix, listFixes } from "../fix-edits.js";

/** Reports `location!: _Location` where `location?: _Location` is required. */
export const checkRequiredEmbeddedLink: ModelRule = (project, report) => {
  for (const model of listModels(project)) {
    for (const property of listPersistedProperties(model)) {
      const type = property.type;
      if (type.kind !== "link" || type.target?.kind !== "embedded" || type.optional) continue;
      report(
        createDiagnostic("requiredEmbeddedLink", {
          message: `Embedded link "${property.name}" must be optional: Realm stores a link to an embedded object as nullable.`,
          // At the type, where realm-dart reports it.
          span: type.span,
          related: [inModel(model)],
          hint: `declare it as "${property.name}?: ${type.text}"`,
          fixes: listFixes(annotationSeparatorFix(`Make "${property.name}" optional`, property, "?: ")),
        }),
      );
    }
  }
};
