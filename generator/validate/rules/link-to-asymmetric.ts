/** Rule: nothing links to an asymmetric object (it leaves the device once uploaded). */
import { createDiagnostic } from "../../diagnostics/create-diagnostic.js";
import { elementOf, inModel, listModels, listPersistedProperties, type ModelRule } from "../model-rule.js";

/** Reports links, and collections of links, whose target is an asymmetric model. */
export const checkLinkToAsymmetric: ModelRule = (project, report) => {
  for (const model of listModels(project)) {
    for (const property of listPersistedProperties(model)) {
      const link = elementOf(property.type);
      if (link.kind !== "link" || link.target?.kind !== "asymmetric") continue;
      report(
        createDiagnostic("linkToAsymmetric", {
          message: `"${property.name}" links to asymmetric model "${link.target.name}"; asymmetric objects can only be ingested, never linked to.`,
          span: link.span,
          related: [inModel(model)],
          hint: `make "${link.targetClass}" an embedded model (ObjectType.embeddedObject), or store its primary key instead of the object`,
        }),
      );
    }
  }
};
