/** Rule: a model class is named `_Name` or `$Name`; the generated class takes `Name`. */
import { createDiagnostic } from "../../diagnostics/create-diagnostic.js";
import { listModels, type ModelRule } from "../model-rule.js";
import { fixOf } from "../fix-edits.js";

/** Reports model classes without the prefix (the generated class would clash with the model's). */
export const checkModelNamePrefix: ModelRule = (project, report) => {
  for (const model of listModels(project)) {
    if (model.className.length > 1 && (model.className.startsWith("_") || model.className.startsWith("$"))) continue;
    report(
      createDiagnostic("modelNamePrefix", {
        message: `Model class "${model.className}" must be named with a "_" or "$" prefix; the generated class takes the name without it.`,
        span: model.span,
        hint: model.className === "" ? "name the class, e.g. _Reading" : `rename it to "_${model.className}"`,
        // The declaration only: an editor's rename (F2) also updates the references.
        fixes: model.className === "" ? undefined : [fixOf(`Rename the class to "_${model.className}"`, model.span, `_${model.className}`)],
      }),
    );
  }
};
