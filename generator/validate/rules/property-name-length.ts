/** Rule: a persisted property name has at most 63 characters (Realm core's column name limit). */
import { createDiagnostic } from "../../diagnostics/create-diagnostic.js";
import { persistedPropertyName } from "../../model/model-info.js";
import { inModel, listModels, listPersistedProperties, type ModelRule } from "../model-rule.js";

/** The longest persisted property name Realm accepts. */
export const maxPropertyNameLength = 63;

/** Reports properties whose persisted name is longer. */
export const checkPropertyNameLength: ModelRule = (project, report) => {
  for (const model of listModels(project)) {
    for (const property of listPersistedProperties(model)) {
      const name = persistedPropertyName(property);
      if (name.length <= maxPropertyNameLength) continue;
      const mapTo = property.decorators.find((d) => d.name === "MapTo" && d.argument !== undefined);
      report(
        createDiagnostic("propertyNameTooLong", {
          message: `"${property.name}" is persisted under a name ${name.length} characters long; the limit is ${maxPropertyNameLength}.`,
          span: mapTo?.span ?? property.span,
          related: [inModel(model)],
          hint: `persist it under a shorter name with @MapTo("…")`,
        }),
      );
    }
  }
};
