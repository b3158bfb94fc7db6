/**
 * Rule: persisted names survive the trip to MongoDB. BSON keys are C strings, so no name may hold
 * NUL (a model name with one already breaks invalid-model-name's rule); MongoDB reads a field name starting with `$` as an operator and a `.` as a path, so a
 * persisted property name may have neither (the runtime applies the same rule to dictionary keys).
 */
import { createDiagnostic } from "../../diagnostics/create-diagnostic.js";
import { persistedPropertyName } from "../../model/model-info.js";
import { inModel, listModels, listPersistedProperties, type ModelRule } from "../model-rule.js";

/** What is wrong with a persisted property name, or undefined. */
function describePropertyNameProblem(name: string): string | undefined {
  if (name.includes("\0")) return "holds a NUL character (BSON keys end at NUL)";
  if (name.startsWith("$")) return 'starts with "$" (MongoDB reads such a field name as an operator)';
  if (name.includes(".")) return 'holds "." (MongoDB reads it as a path into an embedded document)';
  return undefined;
}

/** Reports persisted property names MongoDB or BSON cannot hold (model names: see invalid-model-name). */
export const checkInvalidPersistedName: ModelRule = (project, report) => {
  for (const model of listModels(project)) {
    for (const property of listPersistedProperties(model)) {
      const name = persistedPropertyName(property);
      const problem = describePropertyNameProblem(name);
      if (problem === undefined) continue;
      const mapTo = property.decorators.find((d) => d.name === "MapTo" && d.argument !== undefined);
      report(
        createDiagnostic("invalidPersistedName", {
          message: `${JSON.stringify(property.name)} is persisted under ${JSON.stringify(name)}, which ${problem}.`,
          span: mapTo?.span ?? property.span,
          related: [inModel(model)],
          hint: `persist it under another name with @MapTo("…")`,
        }),
      );
    }
  }
};
