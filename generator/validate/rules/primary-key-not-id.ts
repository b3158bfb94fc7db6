/** Rule: an asymmetric model's primary key is persisted as `_id` (Atlas Data Ingest requires it). */
import { createDiagnostic } from "../../diagnostics/create-diagnostic.js";
import type { DiagnosticFix } from "../../diagnostics/diagnostic.js";
import { persistedPropertyName, type PropertyInfo } from "../../model/model-info.js";
import { inModel, listModels, listPersistedProperties, type ModelRule } from "../model-rule.js";
import { addDecoratorFix, deletion, fixOf } from "../fix-edits.js";

/** Removes the @MapTo from `_id`, or persists the key as "_id" (replacing its @MapTo, if any). */
function fixesFor(key: PropertyInfo): DiagnosticFix[] {
  const mapTo = key.decorators.find((d) => d.name === "MapTo");
  if (key.name === "_id") return mapTo === undefined ? [] : [{ title: `Remove @MapTo from "_id"`, edits: [deletion(mapTo.span)] }];
  if (mapTo !== undefined) return [fixOf(`Persist "${key.name}" as "_id"`, mapTo.span, '@MapTo("_id")')];
  return [addDecoratorFix(`Add @MapTo("_id") to "${key.name}"`, key, '@MapTo("_id")')];
}

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
        fixes: fixesFor(key),
      }),
    );
  }
};
