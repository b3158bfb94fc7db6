/** Rule: `@RealmModel()` names its kind (Realm's default, realmObject, is out of scope here). */
import { createDiagnostic } from "../../diagnostics/create-diagnostic.js";
import { listModels, type ModelRule } from "../model-rule.js";
import { fixOf } from "../fix-edits.js";

/** Reports `@RealmModel()` without an argument. */
export const checkModelKindMissing: ModelRule = (project, report) => {
  for (const model of listModels(project)) {
    if (model.kind !== "none" || model.kindText !== undefined) continue;
    const decorator = model.decorators.find((d) => d.name === "RealmModel");
    report(
      createDiagnostic("modelKindMissing", {
        message: `@RealmModel() on "${model.className}" names no kind; Realm's default, a realmObject, needs bi-directional sync, which is out of scope for asymgen.`,
        span: decorator?.span ?? model.span,
        hint: "write @RealmModel(ObjectType.asymmetricObject) or @RealmModel(ObjectType.embeddedObject)",
        fixes:
          decorator === undefined
            ? undefined
            : [fixOf("Write @RealmModel(ObjectType.asymmetricObject)", decorator.span, "@RealmModel(ObjectType.asymmetricObject)"), fixOf("Write @RealmModel(ObjectType.embeddedObject)", decorator.span, "@RealmModel(ObjectType.embeddedObject)")],
      }),
    );
  }
};
