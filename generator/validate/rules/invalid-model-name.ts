/**
 * Rule: a persisted model name is one every store can use as a table or collection name. Realm
 * accepts any name (realm-dart's own tests map a class to "another type"); the server's stores
 * quote their SQL identifiers, so spaces and punctuation are fine, but MongoDB refuses `$` and
 * NUL in a collection name and reserves names starting with "system.".
 */
import { createDiagnostic } from "../../diagnostics/create-diagnostic.js";
import { persistedModelName } from "../../model/model-info.js";
import { inModel, listModels, type ModelRule } from "../model-rule.js";
import { fixOf } from "../fix-edits.js";

/** What is wrong with a persisted model name, or undefined. */
function describeModelNameProblem(name: string): string | undefined {
  if (name.includes("\0")) return "holds a NUL character, which no table or collection name can hold";
  if (name.includes("$")) return 'holds "$", which MongoDB does not allow in a collection name';
  if (name.startsWith("system.")) return 'starts with "system.", which MongoDB reserves for its own collections';
  return undefined;
}

/** Reports models whose persisted name (a class-level `@MapTo`, or the class name without its prefix) a store cannot use. */
export const checkInvalidModelName: ModelRule = (project, report) => {
  for (const model of listModels(project)) {
    const name = persistedModelName(model);
    const problem = describeModelNameProblem(name);
    if (problem === undefined) continue;
    const mapTo = model.decorators.find((d) => d.name === "MapTo" && d.argument !== undefined);
    const origin = mapTo === undefined ? `the class name "${model.className}" without its prefix` : `@MapTo(${JSON.stringify(name)})`;
    report(
      createDiagnostic("invalidModelName", {
        message: `The persisted name ${JSON.stringify(name)} of model "${model.name}" (from ${origin}) ${problem}.`,
        span: mapTo?.span ?? model.span,
        related: mapTo === undefined ? [] : [inModel(model)],
        hint: mapTo === undefined ? `rename the class, or give it another persisted name with @MapTo("…")` : `change the @MapTo name, e.g. @MapTo(${JSON.stringify(suggestName(name))})`,
        fixes: mapTo === undefined ? undefined : [fixOf(`Persist it as ${JSON.stringify(suggestName(name))}`, mapTo.span, `@MapTo(${JSON.stringify(suggestName(name))})`)],
      }),
    );
  }
};

/** The name with `$` and NUL replaced by `_`, and without a leading "system.". */
function suggestName(name: string): string {
  return name.replace(/^system\./, "").replace(/[$\0]/g, "_");
}
