/** Rule: `@MapTo` names a non-empty name. */
import { createDiagnostic } from "../../diagnostics/create-diagnostic.js";
import { inModel, listModels, type ModelRule } from "../model-rule.js";
import { deletion } from "../fix-edits.js";

/** Reports `@MapTo("")` on a model or a property. */
export const checkEmptyMapTo: ModelRule = (project, report) => {
  for (const model of listModels(project)) {
    const owners = [{ what: `model "${model.name}"`, decorators: model.decorators }, ...model.properties.map((p) => ({ what: `property "${p.name}"`, decorators: p.decorators }))];
    for (const owner of owners) {
      for (const decorator of owner.decorators) {
        if (decorator.name !== "MapTo" || decorator.argument !== "") continue;
        report(
          createDiagnostic("emptyMapTo", {
            message: `@MapTo("") on ${owner.what} gives it an empty persisted name.`,
            span: decorator.span,
            related: [inModel(model)],
            hint: "name the persisted name, or remove @MapTo to keep the TypeScript name",
            fixes: [{ title: "Remove @MapTo(\"\")", edits: [deletion(decorator.span)] }],
          }),
        );
      }
    }
  }
};
