/** Rule: an asymmetric model needs a primary key (the server deduplicates retried uploads by it). */
import { createDiagnostic } from "../../diagnostics/create-diagnostic.js";
import { listModels, listPersistedProperties, type ModelRule } from "../model-rule.js";
import { addDecoratorFix } from "../fix-edits.js";

/** Reports asymmetric models without a `@PrimaryKey()` property. */
export const checkNoPrimaryKey: ModelRule = (project, report) => {
  for (const model of listModels(project)) {
    if (model.kind !== "asymmetric") continue;
    const properties = listPersistedProperties(model);
    if (properties.some((p) => p.primaryKey)) continue;
    const candidate = properties.find((p) => p.name === "_id" || p.name === "id" || p.mapTo === "_id");
    report(
      createDiagnostic("asymmetricWithoutPrimaryKey", {
        message: `Asymmetric model "${model.name}" has no primary key.`,
        span: model.span,
        label: "needs a @PrimaryKey() property persisted as _id",
        hint:
          candidate === undefined
            ? `add a property such as \`@PrimaryKey() @MapTo("_id") id!: ObjectId;\` to "${model.className}"`
            : `mark "${candidate.name}" with @PrimaryKey()${candidate.name === "_id" || candidate.mapTo === "_id" ? "" : ' and @MapTo("_id")'}`,
        fixes:
          candidate === undefined
            ? undefined
            : [
                candidate.name === "_id" || candidate.mapTo === "_id" || candidate.mapTo !== undefined
                  ? // A @MapTo("other") stays: primary-key-not-id then offers to change it.
                    addDecoratorFix(`Add @PrimaryKey() to "${candidate.name}"`, candidate, "@PrimaryKey()")
                  : addDecoratorFix(`Add @PrimaryKey() @MapTo("_id") to "${candidate.name}"`, candidate, '@PrimaryKey() @MapTo("_id")'),
              ],
      }),
    );
  }
};
