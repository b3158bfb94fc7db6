/**
 * Rule: a generated file's names do not collide. Each model gives the generated file a class
 * (`Reading`), an init type (`ReadingInit`) and an encoder (`encodeReading`), beside the names it
 * imports from asymgen and the globals its types name (`Set`, `Date`, `Record`…). A model named
 * `_Set` or `_ReadingInit`, or a default that imports `invalid`, would shadow or redeclare one of
 * them, and the generated file would not compile.
 */
import { createDiagnostic } from "../../diagnostics/create-diagnostic.js";
import type { ModelInfo } from "../../model/model-info.js";
import { ELEMENTS_FUNCTION_PREFIX, GENERATED_CODE_GLOBALS, KEY_CONSTANT_PREFIX, codegenTypes, codegenValues, runtimeTypes } from "asymgen/codegen-symbols";
import { inModel, listModels, listPersistedProperties, type ModelRule } from "../model-rule.js";

const globals = new Set(GENERATED_CODE_GLOBALS);
// TypeScript rejects these as class names (TS2414 for the primitive type names, TS2725 for
// `Object` in a module).
const reservedClassNames = new Set(["Object", "any", "bigint", "boolean", "never", "number", "object", "string", "symbol", "undefined", "unknown", "void"]);
const codegenNames = new Set<string>([...Object.values(codegenValues), ...Object.values(codegenTypes)]);
const runtimeNames = new Set<string>(Object.values(runtimeTypes));

/** What a generated name collides with, in words, or undefined. */
function describeClash(name: string, helperNames: ReadonlyMap<string, ModelInfo>, self: ModelInfo): string | undefined {
  if (globals.has(name)) return `the global "${name}" that generated code uses`;
  if (reservedClassNames.has(name)) return `a name TypeScript does not allow for a class in a module`;
  if (codegenNames.has(name)) return `"${name}", which generated code imports from "asymgen/codegen"`;
  if (runtimeNames.has(name)) return `"${name}", which generated code imports from "asymgen"`;
  if (name.startsWith(KEY_CONSTANT_PREFIX)) return `the generated key constants (named "${KEY_CONSTANT_PREFIX}…")`;
  if (name.startsWith(ELEMENTS_FUNCTION_PREFIX)) return `the generated collection-element functions (named "${ELEMENTS_FUNCTION_PREFIX}…")`;
  const owner = helperNames.get(name);
  if (owner !== undefined && owner !== self) return `"${name}", generated for model "${owner.name}"`;
  return undefined;
}

/** Reports generated class names, and names defaults import, that collide with generated code's names. */
export const checkGeneratedNameCollision: ModelRule = (project, report) => {
  const models = listModels(project);
  const helperNames = new Map<string, ModelInfo>();
  for (const model of models) {
    helperNames.set(`${model.name}Init`, model);
    helperNames.set(`encode${model.name}`, model);
  }
  for (const model of models) {
    const clash = describeClash(model.name, helperNames, model);
    if (clash === undefined) continue;
    report(
      createDiagnostic("generatedNameCollision", {
        message: `The generated class "${model.name}" (from "${model.className}") would collide with ${clash}.`,
        span: model.span,
        hint: `rename the class (e.g. "${model.className}Model") and keep its persisted name with @MapTo("${model.mapTo ?? model.name}")`,
      }),
    );
  }
  for (const file of project.files) {
    const generated = new Map<string, ModelInfo>();
    for (const model of file.models) for (const name of [model.name, `${model.name}Init`, `encode${model.name}`]) generated.set(name, model);
    for (const model of file.models) {
      for (const property of listPersistedProperties(model)) {
        if (property.default?.kind !== "expression") continue;
        for (const imported of property.default.imports) {
          const local = imported.local;
          const owner = generated.get(local);
          const clash = owner !== undefined ? `"${local}", generated for model "${owner.name}"` : codegenNames.has(local) || runtimeNames.has(local) ? describeClash(local, new Map(), model) : undefined;
          // The model file's own import of `ObjectId`/`UUID`/`Decimal128` from "asymgen" or "bson" replaces asymgen's.
          if (clash === undefined || (runtimeNames.has(local) && owner === undefined)) continue;
          report(
            createDiagnostic("generatedNameCollision", {
              message: `The default of "${property.name}" uses "${local}", which would collide with ${clash} in the generated file.`,
              span: property.span,
              related: [inModel(model)],
              hint: `import "${local}" under another name in the model file and use that name in the default`,
            }),
          );
        }
      }
    }
  }
};
