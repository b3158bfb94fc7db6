/**
 * The shape every validation rule has, and the small helpers rules share. A rule reads the IR
 * and reports; it never throws and never stops the others.
 */
import type { Diagnostic, RelatedSpan } from "../diagnostics/diagnostic.js";
import type { ModelInfo, ProjectInfo, PropertyInfo, TypeInfo } from "../model/model-info.js";

/** One rule: reads the whole project, reports each problem it finds through `report`. */
export type ModelRule = (project: ProjectInfo, report: (diagnostic: Diagnostic) => void) => void;

/** Every model of the project, in file then source order. */
export function listModels(project: ProjectInfo): ModelInfo[] {
  return project.files.flatMap((file) => file.models);
}

/** The properties that are persisted (not `@Ignored`). */
export function listPersistedProperties(model: ModelInfo): PropertyInfo[] {
  return model.properties.filter((property) => !property.ignored);
}

/** The related span every model-level diagnostic carries: `in model "WeatherSensor"`. */
export function inModel(model: ModelInfo): RelatedSpan {
  return { span: model.span, label: `in model "${model.name}"` };
}

/** The element of a collection type, or the type itself. */
export function elementOf(type: TypeInfo): TypeInfo {
  return type.kind === "list" || type.kind === "set" || type.kind === "dictionary" ? type.element : type;
}

/** Whether a type is a list, set or dictionary. */
export function isCollection(type: TypeInfo): type is Extract<TypeInfo, { kind: "list" | "set" | "dictionary" }> {
  return type.kind === "list" || type.kind === "set" || type.kind === "dictionary";
}

/** A human name for a property's database type (`int`, `list of Reading`), for messages. */
export function describeType(type: TypeInfo): string {
  switch (type.kind) {
    case "scalar":
      return type.scalar;
    case "link":
      return type.target?.name ?? type.targetClass;
    case "list":
    case "set":
    case "dictionary":
      return `${type.kind} of ${describeType(type.element)}`;
    case "unsupported":
      return type.text;
  }
}

/** The key that identifies a class across files (`/abs/models.ts#_Reading`). */
export function classKey(file: string, className: string): string {
  return `${file}#${className}`;
}

/**
 * The hint for a property typed with a generated class (`Reading`) where its model class
 * (`_Reading`) is meant; realm-dart suggests the same fix.
 */
export function generatedClassHint(generated: string, modelClass: string): string {
  return `did you mean the model class "${modelClass}"? "${generated}" is the class asymgen generates from it; properties name the model class`;
}
