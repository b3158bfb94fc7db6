/** Rule: an asymgen decorator appears at most once on a class or property. */
import { createDiagnostic } from "../../diagnostics/create-diagnostic.js";
import type { DecoratorInfo } from "../../model/model-info.js";
import { inModel, listModels, type ModelRule } from "../model-rule.js";
import { deletion } from "../fix-edits.js";

/** Reports the second and later copies of a decorator. */
export const checkDuplicateDecorator: ModelRule = (project, report) => {
  for (const model of listModels(project)) {
    const owners: { what: string; decorators: DecoratorInfo[] }[] = [
      { what: `model "${model.className}"`, decorators: model.decorators },
      ...model.properties.map((p) => ({ what: `"${p.name}"`, decorators: p.decorators })),
    ];
    for (const owner of owners) {
      const seen = new Map<string, DecoratorInfo>();
      for (const decorator of owner.decorators) {
        const first = seen.get(decorator.name);
        if (first === undefined) {
          seen.set(decorator.name, decorator);
          continue;
        }
        report(
          createDiagnostic("duplicateDecorator", {
            message: `@${decorator.name} appears more than once on ${owner.what}.`,
            span: decorator.span,
            related: [{ span: first.span, label: `the first @${decorator.name}` }, inModel(model)],
            hint: `keep one @${decorator.name}`,
            fixes: [{ title: `Remove the repeated @${decorator.name}`, edits: [deletion(decorator.span)] }],
          }),
        );
      }
    }
  }
};
