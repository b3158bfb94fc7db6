/** Rule: lists, sets and dictionaries are never optional (Realm stores an empty one instead). */
import { createDiagnostic } from "../../diagnostics/create-diagnostic.js";
import { inModel, isCollection, listModels, listPersistedProperties, type ModelRule } from "../model-rule.js";
import { annotationSeparatorFix, listFixes } from "../fix-edits.js";

/** Reports collections declared with `?`, `| null` or `| undefined`. */
export const checkOptionalCollection: ModelRule = (project, report) => {
  for (const model of listModels(project)) {
    for (const property of listPersistedProperties(model)) {
      const type = property.type;
      if (!isCollection(type) || !type.optional) continue;
      report(
        createDiagnostic("optionalCollection", {
          message: `The ${type.kind} "${property.name}" is optional; a ${type.kind} cannot be null in Realm, it is empty instead.`,
          // At the type, where realm-dart reports it.
          span: type.span,
          related: [inModel(model)],
          hint: `declare "${property.name}" without "?", "| null" or "| undefined" (an empty ${type.kind} is the default)`,
          fixes: listFixes(annotationSeparatorFix(`Make "${property.name}" required`, property, "!: ")),
        }),
      );
    }
  }
};
