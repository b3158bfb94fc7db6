/** Rule: an `@Ignored` property carries no other asymgen decorator (they would have no effect). */
import { createDiagnostic } from "../../diagnostics/create-diagnostic.js";
import { inModel, listModels, type ModelRule } from "../model-rule.js";
import { deletion } from "../fix-edits.js";

/** Reports `@PrimaryKey`, `@MapTo` or `@Indexed` beside `@Ignored`. */
export const checkIgnoredWithDecorators: ModelRule = (project, report) => {
  for (const model of listModels(project)) {
    for (const property of model.properties) {
      if (!property.ignored) continue;
      for (const decorator of property.decorators) {
        if (decorator.name === "Ignored") continue;
        report(
          createDiagnostic("ignoredWithDecorators", {
            message: `"${property.name}" is @Ignored, so @${decorator.name} on it has no effect.`,
            span: decorator.span,
            related: [inModel(model)],
            hint: `remove @${decorator.name}, or remove @Ignored() to persist "${property.name}"`,
            fixes: [
              { title: `Remove @${decorator.name} from "${property.name}"`, edits: [deletion(decorator.span)] },
              ...property.decorators.filter((d) => d.name === "Ignored").map((ignored) => ({ title: `Remove @Ignored() to persist "${property.name}"`, edits: [deletion(ignored.span)] })),
            ],
          }),
        );
      }
    }
  }
};
