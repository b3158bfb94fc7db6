/** Rule: dictionary keys are strings (Realm's dictionaries are keyed by string). */
import { createDiagnostic } from "../../diagnostics/create-diagnostic.js";
import { inModel, listModels, listPersistedProperties, type ModelRule } from "../model-rule.js";
import type { TypeInfo } from "../../model/model-info.js";
import { fixOf } from "../fix-edits.js";

/** Reports `Record<number, T>` and other non-string keys, at any nesting depth. */
export const checkDictionaryKey: ModelRule = (project, report) => {
  for (const model of listModels(project)) {
    for (const property of listPersistedProperties(model)) {
      let type: TypeInfo = property.type;
      for (;;) {
        if (type.kind === "dictionary" && type.badKeyText !== undefined) {
          report(
            createDiagnostic("dictionaryKeyNotString", {
              message: `The dictionary "${property.name}" has keys of type "${type.badKeyText}"; dictionary keys must be strings.`,
              span: type.span,
              related: [inModel(model)],
              hint: `declare it as Record<string, ${type.element.text}>`,
              fixes: [fixOf(`Key it by string: Record<string, ${type.element.text}>`, type.span, `Record<string, ${type.element.text}>`)],
            }),
          );
        }
        if (type.kind !== "list" && type.kind !== "set" && type.kind !== "dictionary") break;
        type = type.element;
      }
    }
  }
};
