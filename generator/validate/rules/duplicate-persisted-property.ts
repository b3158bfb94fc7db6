/** Rule: no two properties of a model are persisted under one name. */
import { createDiagnostic } from "../../diagnostics/create-diagnostic.js";
import { persistedPropertyName, type PropertyInfo } from "../../model/model-info.js";
import { inModel, listModels, listPersistedProperties, type ModelRule } from "../model-rule.js";

/** Reports each property whose persisted name an earlier property already uses. */
export const checkDuplicatePersistedProperty: ModelRule = (project, report) => {
  for (const model of listModels(project)) {
    const seen = new Map<string, PropertyInfo>();
    for (const property of listPersistedProperties(model)) {
      const name = persistedPropertyName(property);
      const first = seen.get(name);
      if (first === undefined) {
        seen.set(name, property);
        continue;
      }
      report(
        createDiagnostic("duplicatePersistedProperty", {
          message: `"${property.name}" and "${first.name}" of model "${model.name}" are both persisted as "${name}".`,
          span: property.span,
          related: [{ span: first.span, label: `"${first.name}" is persisted as "${name}"` }, inModel(model)],
          hint: `give one of them another name with @MapTo`,
        }),
      );
    }
  }
};
