/**
 * Rule: a literal default (or constant arithmetic, `2 ** 53`) is a value of the property's type, checked at generate time with the
 * same value checks the generated encoder runs (`half: Types.Int = 1.5` would otherwise fail on
 * every ingest that leaves `half` out, far from its cause). TypeScript sees `Types.Int`,
 * `Types.Float` and `Types.Double` all as `number`, so it cannot catch these.
 */
import { createDiagnostic } from "../../diagnostics/create-diagnostic.js";
import type { DefaultInfo, TypeInfo } from "../../model/model-info.js";
import { isFiniteNumber, isFloat32, isInt64 } from "asymgen/codegen";
import { describeType, inModel, listModels, listPersistedProperties, type ModelRule } from "../model-rule.js";

/** What the literal should have been, or undefined when it fits. */
function describeMismatch(type: TypeInfo, fallback: DefaultInfo): string | undefined {
  const value: unknown = fallback.kind === "bigint" ? BigInt(fallback.value) : fallback.kind === "expression" ? fallback.constantValue : fallback.value;
  if (value === null) return type.nullable || (type.kind === "scalar" && type.scalar === "mixed") ? undefined : `a ${describeType(type)} (null is allowed only when the type includes null)`;
  if (type.kind !== "scalar") return `a ${describeType(type)}, which has no literal form`;
  switch (type.scalar) {
    case "string":
      return typeof value === "string" ? undefined : "a string";
    case "bool":
      return typeof value === "boolean" ? undefined : "a boolean";
    case "int":
      return isInt64(value) ? undefined : "an integer: a safe integer number or a bigint within Int64";
    case "float":
      return isFloat32(value) ? undefined : "a 32-bit float";
    case "double":
      return isFiniteNumber(value) ? undefined : "a finite number";
    case "mixed":
      if (typeof value === "number") return Number.isFinite(value) ? undefined : "a finite number";
      if (typeof value === "bigint") return isInt64(value) ? undefined : "a bigint within Int64";
      return undefined;
    default:
      return `a ${type.scalar}, which has no literal form`;
  }
}

/** Reports literal defaults the property's value check would reject. */
export const checkLiteralDefaultType: ModelRule = (project, report) => {
  for (const model of listModels(project)) {
    for (const property of listPersistedProperties(model)) {
      const fallback = property.default;
      if (fallback === undefined || property.type.kind === "unsupported" || property.type.kind === "link") continue;
      // A computed default is checked when it is constant arithmetic (`2 ** 53`), else at ingest.
      if (fallback.kind === "expression" && fallback.constantValue === undefined) continue;
      const expected = describeMismatch(property.type, fallback);
      if (expected === undefined) continue;
      report(
        createDiagnostic("literalDefaultType", {
          message: `The default \`${fallback.text}\` of "${property.name}" is not a valid ${describeType(property.type)} value: expected ${expected}.`,
          span: property.span,
          related: [inModel(model)],
          hint: `change the default to a value of type ${describeType(property.type)}, or change the property's type`,
        }),
      );
    }
  }
};
