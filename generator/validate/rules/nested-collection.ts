/** Rule: a collection's elements are not collections (Realm schemas cannot declare nested collections). */
import { createDiagnostic } from "../../diagnostics/create-diagnostic.js";
import { inModel, isCollection, listModels, listPersistedProperties, type ModelRule } from "../model-rule.js";
import { ignoreFix } from "../fix-edits.js";

/** Reports `string[][]`, `Set<string[]>`, `Record<string, string[]>`… once per property. */
export const checkNestedCollection: ModelRule = (project, report) => {
  for (const model of listModels(project)) {
    for (const property of listPersistedProperties(model)) {
      const type = property.type;
      if (!isCollection(type) || !isCollection(type.element)) continue;
      report(
        createDiagnostic("nestedCollection", {
          message: `"${property.name}" is a ${type.kind} of ${type.element.kind}s; collections cannot hold collections.`,
          span: type.element.span,
          related: [inModel(model)],
          hint: `wrap the inner ${type.element.kind} in an embedded model (a list of objects that each hold a ${type.element.kind}), or mark "${property.name}" with @Ignored() to leave it out`,
          // The embedded model is a design choice; leaving the property out is one edit.
          fixes: [ignoreFix(property)],
        }),
      );
    }
  }
};
