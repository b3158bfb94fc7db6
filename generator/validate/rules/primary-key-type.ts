/** Rule: a primary key is an int, a string, an objectId or a uuid (Realm's rule). */
import { createDiagnostic } from "../../diagnostics/create-diagnostic.js";
import { describeType, inModel, listModels, listPersistedProperties, type ModelRule } from "../model-rule.js";
import { fixOf } from "../fix-edits.js";

const keyTypes = new Set(["int", "string", "objectId", "uuid"]);

/** Reports primary keys of any other type. */
export const checkPrimaryKeyType: ModelRule = (project, report) => {
  for (const model of listModels(project)) {
    for (const key of listPersistedProperties(model).filter((p) => p.primaryKey)) {
      const type = key.type;
      if (type.kind === "unsupported" || (type.kind === "scalar" && keyTypes.has(type.scalar))) continue;
      report(
        createDiagnostic("primaryKeyType", {
          message: `Primary key "${key.name}" of model "${model.name}" has type "${type.text}" (${describeType(type)}); a primary key must be int, string, objectId or uuid.`,
          span: type.span,
          related: [inModel(model)],
          // Realm's fix: change the type, or move the key (an asymmetric model needs one, so not "remove").
          hint: `${type.kind === "scalar" && (type.scalar === "double" || type.scalar === "float") ? `declare "${key.name}" as Types.Int` : `declare "${key.name}" as ObjectId, Types.UUID, string or Types.Int`}, or move @PrimaryKey() to an int, string, objectId or uuid property`,
          fixes: type.kind === "scalar" && (type.scalar === "double" || type.scalar === "float") && key.default === undefined ? [fixOf(`Declare "${key.name}" as Types.Int`, type.span, "Types.Int")] : undefined,
        }),
      );
    }
  }
};
