/** Rule: a model declares no constructor (the generated class owns construction from an init object). */
import { createDiagnostic } from "../../diagnostics/create-diagnostic.js";
import { inModel, listModels, type ModelRule } from "../model-rule.js";

/** Reports each constructor in a model class. */
export const checkModelConstructor: ModelRule = (project, report) => {
  for (const model of listModels(project)) {
    for (const span of model.constructorSpans) {
      report(
        createDiagnostic("modelConstructor", {
          message: `Model "${model.className}" declares a constructor; the generated "${model.name}" constructs objects from an init object instead.`,
          span,
          related: [inModel(model)],
          hint: "remove the constructor; give properties defaults with initializers",
        }),
      );
    }
  }
};
