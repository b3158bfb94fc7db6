/** Rule: a persisted model name has at most 57 characters (Realm core's table names: 63 bytes less the "class_" prefix). */
import { createDiagnostic } from "../../diagnostics/create-diagnostic.js";
import { persistedModelName } from "../../model/model-info.js";
import { listModels, type ModelRule } from "../model-rule.js";

/** The longest persisted model name Realm accepts. */
export const maxModelNameLength = 57;

/** Reports models whose persisted name is longer. */
export const checkModelNameLength: ModelRule = (project, report) => {
  for (const model of listModels(project)) {
    const name = persistedModelName(model);
    if (name.length <= maxModelNameLength) continue;
    const mapTo = model.decorators.find((d) => d.name === "MapTo" && d.argument !== undefined);
    report(
      createDiagnostic("modelNameTooLong", {
        message: `The persisted name of model "${model.className}" is ${name.length} characters long; the limit is ${maxModelNameLength}.`,
        // At the class name, where realm-dart reports it (also when @MapTo gives the name).
        span: model.span,
        related: mapTo === undefined ? [] : [{ span: mapTo.span, label: "the persisted name comes from here" }],
        hint: mapTo === undefined ? `rename the class, or give it a shorter persisted name with @MapTo("…")` : "shorten the @MapTo name",
      }),
    );
  }
};
