/**
 * Rule: a persisted model name is letters, digits and `_`, starting with a letter or `_` (as
 * realm-dart checks a class-level `@MapTo`). The name becomes the schema name, a MongoDB
 * collection name (no `$`, `.` or spaces there) and the server's table name.
 */
import { createDiagnostic } from "../../diagnostics/create-diagnostic.js";
import { persistedModelName } from "../../model/model-info.js";
import { inModel, listModels, type ModelRule } from "../model-rule.js";
import { fixOf } from "../fix-edits.js";

/** Unicode letters count as letters: `@MapTo("Messstation_Größe")` is a fine name. */
const validModelName = /^[\p{L}_][\p{L}\p{N}_]*$/u;

/** Reports models whose persisted name (a class-level `@MapTo`, or the class name without its prefix) is not a valid name. */
export const checkInvalidModelName: ModelRule = (project, report) => {
  for (const model of listModels(project)) {
    const name = persistedModelName(model);
    // An empty @MapTo has its own code (ASYM3018).
    if (name === "" || validModelName.test(name)) continue;
    const mapTo = model.decorators.find((d) => d.name === "MapTo" && d.argument !== undefined);
    const origin = mapTo === undefined ? `the class name "${model.className}" without its prefix` : `@MapTo(${JSON.stringify(name)})`;
    report(
      createDiagnostic("invalidModelName", {
        message: `The persisted name ${JSON.stringify(name)} of model "${model.name}" (from ${origin}) is not a valid model name: use letters, digits and "_", starting with a letter or "_".`,
        span: mapTo?.span ?? model.span,
        related: mapTo === undefined ? [] : [inModel(model)],
        hint: mapTo === undefined ? `rename the class, or give it a valid persisted name with @MapTo("…")` : `change the @MapTo name, e.g. @MapTo(${JSON.stringify(suggestName(name))})`,
        fixes: mapTo === undefined ? undefined : [fixOf(`Persist it as ${JSON.stringify(suggestName(name))}`, mapTo.span, `@MapTo(${JSON.stringify(suggestName(name))})`)],
      }),
    );
  }
};

/** The name with every character that is not allowed replaced by `_` (and a leading digit prefixed). */
function suggestName(name: string): string {
  const replaced = name.replace(/[^\p{L}\p{N}_]/gu, "_");
  return /^\p{N}/u.test(replaced) ? `_${replaced}` : replaced;
}
