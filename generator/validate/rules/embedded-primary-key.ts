/** Rule: embedded objects have no primary key (they live inside their parent). */
import { createDiagnostic } from "../../diagnostics/create-diagnostic.js";
import { inModel, listModels, listPersistedProperties, type ModelRule } from "../model-rule.js";
import { deletion } from "../fix-edits.js";

/** Reports `@PrimaryKey()` in an embedded model. */
export const checkEmbeddedPrimaryKey: ModelRule = (project, report) => {
  for (const model of listModels(project)) {
    if (model.kind !== "embedded") continue;
    for (const key of listPersistedProperties(model).filter((p) => p.primaryKey)) {
      const decorator = key.decorators.find((d) => d.name === "PrimaryKey");
      report(
        createDiagnostic("embeddedWithPrimaryKey", {
          message: `Embedded model "${model.name}" has a primary key, "${key.name}"; embedded objects cannot have one.`,
          // At the key property, where realm-dart reports it.
          span: key.span,
          related: [inModel(model)],
          hint: `remove @PrimaryKey() from "${key.name}", or make "${model.className}" an asymmetric model (ObjectType.asymmetricObject) if it is ingested on its own`,
          fixes: decorator === undefined ? undefined : [{ title: `Remove @PrimaryKey() from "${key.name}"`, edits: [deletion(decorator.span)] }],
        }),
      );
    }
  }
};
