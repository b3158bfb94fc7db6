/** Rule: a model has at most one primary key. */
import { createDiagnostic } from "../../diagnostics/create-diagnostic.js";
import { inModel, listModels, listPersistedProperties, type ModelRule } from "../model-rule.js";
import { deletion } from "../fix-edits.js";

/** Reports every primary key after a model's first. */
export const checkMultiplePrimaryKeys: ModelRule = (project, report) => {
  for (const model of listModels(project)) {
    const keys = listPersistedProperties(model).filter((p) => p.primaryKey);
    const first = keys[0];
    if (first === undefined) continue;
    for (const extra of keys.slice(1)) {
      report(
        createDiagnostic("multiplePrimaryKeys", {
          message: `Model "${model.name}" has more than one primary key: "${first.name}" and "${extra.name}".`,
          span: extra.span,
          label: "second primary key",
          related: [{ span: first.span, label: `the first primary key, "${first.name}"` }, inModel(model)],
          hint: `keep @PrimaryKey() on one property; remove it from "${extra.name}"`,
          fixes: extra.decorators.filter((d) => d.name === "PrimaryKey").map((d) => ({ title: `Remove @PrimaryKey() from "${extra.name}"`, edits: [deletion(d.span)] })),
        }),
      );
    }
  }
};
