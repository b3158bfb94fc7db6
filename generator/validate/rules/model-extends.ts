/** Rule: a model extends no class (its schema is exactly the properties it declares). */
import { createDiagnostic } from "../../diagnostics/create-diagnostic.js";
import { listModels, type ModelRule } from "../model-rule.js";
import { deletion } from "../fix-edits.js";

/** Reports an `extends` clause on a model class. */
export const checkModelExtends: ModelRule = (project, report) => {
  for (const model of listModels(project)) {
    if (model.extendsSpan === undefined) continue;
    report(
      createDiagnostic("modelExtends", {
        message: `Model "${model.className}" extends another class; a model's schema comes only from the properties it declares.`,
        // At the class name, where realm-dart reports it; the clause itself is the note.
        span: model.span,
        related: [{ span: model.extendsSpan, label: "the extends clause" }],
        hint: `remove the extends clause and declare the inherited properties in "${model.className}"`,
        fixes: [{ title: "Remove the extends clause", edits: [deletion(model.extendsSpan)] }],
      }),
    );
  }
};
