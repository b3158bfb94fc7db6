/** Rule: a primary key always has a value. */
import { createDiagnostic } from "../../diagnostics/create-diagnostic.js";
import { inModel, listModels, listPersistedProperties, type ModelRule } from "../model-rule.js";
import { annotationSeparatorFix, listFixes } from "../fix-edits.js";

/** Reports primary keys declared with `?`, `| null` or `| undefined`. */
export const checkOptionalPrimaryKey: ModelRule = (project, report) => {
  for (const model of listModels(project)) {
    for (const key of listPersistedProperties(model).filter((p) => p.primaryKey)) {
      if (!key.type.optional || key.type.kind === "unsupported") continue;
      // Mixed is always optional, and no key can be mixed: ASYM3005 says so, one error is enough.
      if (key.type.kind === "scalar" && key.type.scalar === "mixed") continue;
      report(
        createDiagnostic("optionalPrimaryKey", {
          message: `Primary key "${key.name}" of model "${model.name}" is optional; a primary key must always have a value.`,
          span: key.type.span,
          related: [inModel(model)],
          hint: `declare "${key.name}" without "?", "| null" or "| undefined"`,
          fixes: listFixes(annotationSeparatorFix(`Make "${key.name}" required`, key, "!: ")),
        }),
      );
    }
  }
};
