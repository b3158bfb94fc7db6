/** Rule: a property that names a class links to a model. */
import { createDiagnostic } from "../../diagnostics/create-diagnostic.js";
import { elementOf, generatedClassHint, inModel, listModels, listPersistedProperties, type ModelRule } from "../model-rule.js";
import { ignoreFix } from "../fix-edits.js";

/** Reports links (and collections of them) to classes without `@RealmModel`. */
export const checkLinkToNonModel: ModelRule = (project, report) => {
  const generatedNames = new Map(listModels(project).map((model) => [model.name, model.className]));
  for (const model of listModels(project)) {
    for (const property of listPersistedProperties(model)) {
      const link = elementOf(property.type);
      if (link.kind !== "link" || link.target !== undefined) continue;
      // Named like a model's generated class (`Reading` for `_Reading`): the model class is meant.
      const modelClass = generatedNames.get(link.targetClass);
      const meantModel = modelClass !== undefined && modelClass !== link.targetClass;
      report(
        createDiagnostic("linkToNonModel", {
          message: `"${property.name}" has type "${link.text}", a class that is not a model.`,
          span: link.span,
          // realm-dart also shows the class's declaration.
          related: [inModel(model), ...(link.nonModelSpan === undefined ? [] : [{ span: link.nonModelSpan, label: `"${link.targetClass}" is declared here, without @RealmModel` }])],
          hint: meantModel ? generatedClassHint(link.targetClass, modelClass) : `add @RealmModel(ObjectType.embeddedObject) to "${link.targetClass}", or mark "${property.name}" with @Ignored()`,
          // Making the class a model may not be the user's to do (it may come from a package); leaving the property out is.
          fixes: meantModel ? undefined : [ignoreFix(property)],
        }),
      );
    }
  }
};
