/** Rule: lists and sets of objects hold no null elements (Realm core's rule). */
import { createDiagnostic } from "../../diagnostics/create-diagnostic.js";
import { inModel, listModels, listPersistedProperties, type ModelRule } from "../model-rule.js";
import { fixOf } from "../fix-edits.js";

/** Reports `(_Reading | null)[]` and the like. */
export const checkOptionalObjectInList: ModelRule = (project, report) => {
  for (const model of listModels(project)) {
    for (const property of listPersistedProperties(model)) {
      const type = property.type;
      if ((type.kind !== "list" && type.kind !== "set") || type.element.kind !== "link" || !type.element.optional) continue;
      const written = type.element.nonNull;
      report(
        createDiagnostic("optionalObjectInList", {
          message: `The ${type.kind} "${property.name}" allows null elements; a ${type.kind} of objects cannot hold null.`,
          span: type.element.span,
          related: [inModel(model)],
          hint: `declare the element as "${written?.text ?? type.element.targetClass}" without "| null" or "| undefined"`,
          // The element as written without its null (`m._Reading`, an alias), replacing the
          // union; none when the IR does not hold it (an optional that is not a union).
          fixes: written === undefined ? [] : [fixOf(`Declare the element as "${written.text}"`, type.element.span, written.text)],
        }),
      );
    }
  }
};
