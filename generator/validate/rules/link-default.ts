/**
 * Rule: a link to an object has no default value (realm-dart's rule too): the initializer would
 * build an instance of the model class, not of the generated class the encoder expects.
 */
import { createDiagnostic } from "../../diagnostics/create-diagnostic.js";
import { inModel, listModels, listPersistedProperties, type ModelRule } from "../model-rule.js";
import type { DiagnosticFix } from "../../diagnostics/diagnostic.js";
import type { PropertyInfo } from "../../model/model-info.js";
import { deletion, spanThrough } from "../fix-edits.js";

/** Reports an initializer on a property whose type is a single link. */
export const checkLinkDefault: ModelRule = (project, report) => {
  for (const model of listModels(project)) {
    for (const property of listPersistedProperties(model)) {
      if (property.type.kind !== "link" || property.default === undefined) continue;
      report(
        createDiagnostic("linkDefault", {
          message: `"${property.name}" links to "${property.type.targetClass}" and has a default value; links to objects cannot have defaults.`,
          // At the initializer, where realm-dart reports it.
          span: property.defaultSpan ?? property.span,
          related: [inModel(model)],
          hint: `remove the initializer \`= ${property.default.text}\` and pass "${property.name}" when ingesting`,
          fixes: removeInitializerFix(property),
        }),
      );
    }
  }
};

/**
 * Deletes ` = …` after the written type. Offered only where what remains is valid TypeScript: a
 * type annotation before the initializer (else the type was inferred from it), and a property
 * that may be undefined (`?`, `| undefined`), so strict property initialization has nothing to say.
 */
function removeInitializerFix(property: PropertyInfo): DiagnosticFix[] | undefined {
  const { type, defaultSpan } = property;
  if (defaultSpan === undefined || !type.optional || type.nullable || type.span.start <= property.span.end || type.span.end > defaultSpan.start) return undefined;
  const span = spanThrough(type.span, defaultSpan);
  return span === undefined ? undefined : [{ title: `Remove the initializer of "${property.name}"`, edits: [deletion(span)] }];
}
