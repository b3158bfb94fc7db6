/** Rule: an asymmetric model's primary key is persisted as `_id` (Atlas Data Ingest requires it). */
import { createDiagnostic } from "../../diagnostics/create-diagnostic.js";
import { persistedPropertyName } from "../../model/model-info.js";
import { inModel, listModels, listPersistedProperties, type ModelRule } from "../model-rule.js";

/** Reports an asymmetric model's primary key persisted under another name than `_id`. */
export const checkPrimaryKeyNotId: ModelRule = (project, report) => {
  for (const model of listModels(project)) {
    if (model.kind !== "asymmetric") continue;
    const key = listPersistedProperties(model).find((p) => p.primaryKey);
    if (key === undefined || persistedPropertyName(key) === "_id") continue;
    report(
      createDiagnostic("primaryKeyNotId", {
        message: `The primary key "${key.name}" of asymmetric model "${model.name}" is persisted as "${persistedPropertyName(key)}"; an asymmetric model's primary key must be persisted as "_id".`,
        span: key.span,
        related: [inModel(model)],
        hint: key.name === "_id" ? `remove the @MapTo from "_id"` : `add @MapTo("_id") to "${key.name}"`,
      }),
    );
  }
};
