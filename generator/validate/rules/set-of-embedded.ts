/** Rule: sets cannot hold embedded objects (Realm core's rule: embedded objects have no identity to compare). */
import { createDiagnostic } from "../../diagnostics/create-diagnostic.js";
import { inModel, listModels, listPersistedProperties, type ModelRule } from "../model-rule.js";
import { fixOf } from "../fix-edits.js";

/** Reports `Set<_Reading>` where `_Reading` is embedded. */
export const checkSetOfEmbedded: ModelRule = (project, report) => {
  for (const model of listModels(project)) {
    for (const property of listPersistedProperties(model)) {
      const type = property.type;
      if (type.kind !== "set" || type.element.kind !== "link" || type.element.target?.kind !== "embedded") continue;
      // The element as written (`m._Reading`, an alias, an import's local name), not the
      // declaration's class name, which may not be in scope here; without a `| null` (a list of
      // objects cannot hold null either).
      const element = type.element.nonNull?.text ?? type.element.text;
      const list = /^[\w$.]+$/.test(element) ? `${element}[]` : `(${element})[]`;
      report(
        createDiagnostic("setOfEmbedded", {
          message: `The set "${property.name}" holds embedded objects ("${type.element.target.name}"); sets cannot hold embedded objects.`,
          span: type.span,
          related: [inModel(model)],
          hint: `use a list instead: "${property.name}!: ${list}"`,
          fixes: [fixOf(`Use a list: ${list}`, type.span, list)],
        }),
      );
    }
  }
};
