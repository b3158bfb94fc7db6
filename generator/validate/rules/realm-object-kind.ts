/** Rule: `ObjectType.realmObject` needs bi-directional sync, which asymgen leaves out of scope. */
import { createDiagnostic } from "../../diagnostics/create-diagnostic.js";
import { listModels, type ModelRule } from "../model-rule.js";
import { fixOf } from "../fix-edits.js";

/** Reports models declared as `realmObject`. */
export const checkRealmObjectKind: ModelRule = (project, report) => {
  for (const model of listModels(project)) {
    if (model.kind !== "realmObject") continue;
    const decorator = model.decorators.find((d) => d.name === "RealmModel");
    report(
      createDiagnostic("realmObjectOutOfScope", {
        message: `Model "${model.name}" is a realmObject: bi-directional sync is out of scope for asymgen, which only ingests (asymmetric sync).`,
        span: decorator?.span ?? model.span,
        hint: "use ObjectType.asymmetricObject for objects you ingest, or ObjectType.embeddedObject for objects nested in them",
        fixes:
          decorator === undefined
            ? undefined
            : [fixOf("Use ObjectType.asymmetricObject", decorator.span, "@RealmModel(ObjectType.asymmetricObject)"), fixOf("Use ObjectType.embeddedObject", decorator.span, "@RealmModel(ObjectType.embeddedObject)")],
      }),
    );
  }
};
