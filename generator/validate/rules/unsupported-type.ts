/** Rule: every persisted property has a type asymgen can map to a database type. */
import { createDiagnostic } from "../../diagnostics/create-diagnostic.js";
import type { DiagnosticCodeId } from "../../diagnostics/codes.js";
import type { PropertyInfo, TypeInfo, UnsupportedTypeInfo } from "../../model/model-info.js";
import { generatedClassHint, inModel, listModels, listPersistedProperties, type ModelRule } from "../model-rule.js";
import { ignoreFix } from "../fix-edits.js";

const codes: Record<UnsupportedTypeInfo["reason"], DiagnosticCodeId> = {
  unresolved: "unresolvedType",
  missing: "missingType",
  any: "anyType",
  unknown: "anyType",
  union: "unionType",
  map: "mapType",
  tuple: "tupleType",
  function: "functionType",
  interface: "unsupportedType",
  objectLiteral: "unsupportedType",
  enum: "unsupportedType",
  other: "unsupportedType",
  linkingObjects: "unsupportedType",
};

/** Reports the first unsupported type inside each persisted property's type. */
export const checkUnsupportedType: ModelRule = (project, report) => {
  const generatedNames = new Map(listModels(project).map((model) => [model.name, model.className]));
  for (const model of listModels(project)) {
    for (const property of listPersistedProperties(model)) {
      const type = findUnsupported(property.type);
      if (type === undefined) continue;
      const { message, hint, ignorable } = describe(property, type, generatedNames);
      // A hint that offers "or mark … with @Ignored()" gets that as a fix.
      const fixes = ignorable === true ? [ignoreFix(property)] : undefined;
      report(createDiagnostic(codes[type.reason], { message, span: type.span, related: [inModel(model)], hint, fixes }));
    }
  }
};

function findUnsupported(type: TypeInfo): UnsupportedTypeInfo | undefined {
  if (type.kind === "unsupported") return type;
  if (type.kind === "list" || type.kind === "set" || type.kind === "dictionary") return findUnsupported(type.element);
  return undefined;
}

const ignoreHint = (property: PropertyInfo) => `or mark "${property.name}" with @Ignored() to leave it out`;

/** What a rule says about one unsupported type; `ignorable`: the hint offers @Ignored(), and a fix makes it. */
interface Description {
  message: string;
  hint: string;
  ignorable?: boolean;
}

function describe(property: PropertyInfo, type: UnsupportedTypeInfo, generatedNames: ReadonlyMap<string, string>): Description {
  switch (type.reason) {
    case "unresolved":
      return describeUnresolved(property, type, generatedNames);
    case "missing":
      return { message: `"${property.name}" has no type annotation and no initializer to infer its type from.`, hint: `declare its type, e.g. "${property.name}!: string"` };
    case "any":
    case "unknown":
      return { message: `"${property.name}" has type "${type.text}", which has no database type.`, hint: `use a specific type, or Types.Mixed for a value of any scalar type, ${ignoreHint(property)}`, ignorable: true };
    case "union":
      return { message: `"${property.name}" has the union type "${type.text}"; only unions with null or undefined are supported.`, hint: `use Types.Mixed for values of several types, ${ignoreHint(property)}`, ignorable: true };
    case "map":
      return { message: `"${property.name}" has type "${type.text}"; Map is not supported.`, hint: `use Record<string, T> (a dictionary), ${ignoreHint(property)}`, ignorable: true };
    case "tuple":
      return { message: `"${property.name}" has the tuple type "${type.text}"; tuples are not supported.`, hint: `use a list (T[]) or an embedded model with named properties` };
    case "function":
      return { message: `"${property.name}" has the function type "${type.text}"; functions cannot be persisted.`, hint: `make it a method, ${ignoreHint(property)}`, ignorable: true };
    case "interface":
    case "objectLiteral": {
      const what = type.reason === "interface" ? `the interface "${type.text}"` : `the object type "${type.text}"`;
      const name = type.reason === "interface" ? type.text.replace(/<.*$/s, "").replace(/^.*\./, "") : "X";
      return {
        message: `"${property.name}" has ${what}, which asymgen cannot persist: only model classes describe stored objects.`,
        hint: `declare it as an embedded model: @RealmModel(ObjectType.embeddedObject) class _${name} { … }, and use _${name} in its place`,
      };
    }
    case "enum":
      return {
        message: `"${property.name}" has the enum type "${type.text}"; enums are not database types.`,
        hint: `store the enum's values: use string for a string enum or Types.Int for a numeric enum, ${ignoreHint(property)}`,
        ignorable: true,
      };
    case "linkingObjects":
      // Realm JS and realm-dart declare backlinks this way; they are computed on read from the
      // links that point at the object, and asymgen writes only (asymmetric objects cannot even
      // be linked to), so there is nothing to store and nothing to read them from.
      return {
        message: `"${property.name}" is a backlink ("${type.text}"); Realm computes backlinks on read from the links that point at an object, and asymgen has no reads and no links to asymmetric objects.`,
        hint: `remove "${property.name}": the link it would invert is stored on the object that holds it`,
      };
    case "other":
      return {
        message: `"${property.name}" has type "${type.text}", which asymgen cannot persist.`,
        hint: `use string, boolean, number, bigint, Date, Uint8Array, ObjectId, UUID, Decimal128, a Types.* type, a model class, T[], Set<T> or Record<string, T>, ${ignoreHint(property)}`,
        ignorable: true,
      };
  }
}

/** An unresolved name: not imported, imported from a module that is not found, or not exported by it. */
function describeUnresolved(property: PropertyInfo, type: UnsupportedTypeInfo, generatedNames: ReadonlyMap<string, string>): { message: string; hint: string } {
  const name = type.text.replace(/<.*$/s, "");
  const from = type.importedFrom;
  // The generated class's name where the model class is meant (realm-dart suggests the same):
  // before the first run its file does not exist yet, and the model class is what links name.
  const modelClass = generatedNames.get(name);
  if (modelClass !== undefined && modelClass !== name) {
    const where = from === undefined ? "" : from.moduleFound ? `: "${from.specifier}" does not export "${name}"` : `: the module "${from.specifier}" it is imported from is not found`;
    return { message: `The type "${type.text}" of "${property.name}" cannot be resolved${where}.`, hint: generatedClassHint(name, modelClass) };
  }
  if (from === undefined) return { message: `The type "${type.text}" of "${property.name}" cannot be resolved.`, hint: `import "${name}" or correct its name` };
  if (!from.moduleFound) {
    return {
      message: `The type "${type.text}" of "${property.name}" cannot be resolved: the module "${from.specifier}" it is imported from is not found.`,
      hint: from.specifier.startsWith(".") ? `correct the path "${from.specifier}" (relative imports name the compiled file, e.g. "./units.js")` : `install "${from.specifier}" or correct the module name`,
    };
  }
  return { message: `The type "${type.text}" of "${property.name}" cannot be resolved: "${from.specifier}" does not export "${name}".`, hint: `export "${name}" from "${from.specifier}", or correct the imported name` };
}

