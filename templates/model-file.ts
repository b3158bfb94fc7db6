/**
 * The text of a generated `X.realm.ts`. No decisions here: the view model (generator/render)
 * decided names, types, checks and layout; these functions only print it, in the exact shape
 * prettier prints for its default options (two-space indent, double quotes, trailing commas,
 * expanded object literals), so the output needs no formatter in the common case.
 */
import type { EncodeStepView, FileView, ImportView, LiteralEntry, MemberView, ModelView } from "./file-view.js";
import { codegenTypes as ty, codegenValues as rt, writerMethods as wm } from "asymgen/codegen-symbols";

// Every runtime name below comes from the symbol table, so a renamed runtime export or writer
// method breaks this build instead of the generated code.
const {
  atIndex,
  atKey,
  atProperty,
  encodeSymbol,
  indexKey,
  indexPath,
  invalid,
  invalidKey,
  isArray,
  isDictionaryKey,
  isObject,
  isPlainObject,
  isSet,
  keyBytes,
  keyPath,
  keysOf,
  MIXED_EXPECTED,
  putMixed,
  uniqueValues,
} = rt;
const { BsonWriter, CanonicalObjectSchema, GeneratedModelClass } = ty;
const { startDocument, endDocument, openArray, openObject, putDocumentHeader, putNull } = wm;

/** Prints a whole generated file. */
export function printModelFile(view: FileView): string {
  const parts: string[] = [view.header, ...view.imports.map(printImport)];
  let text = `${parts.join("\n")}\n`;
  if (view.keyConstants.length > 0) {
    text += `\n${view.keyConstants.map((key) => `const ${key.name} = ${keyBytes}(${key.literal});`).join("\n")}\n`;
  }
  for (const model of view.models) text += `\n${printModel(model)}`;
  return text;
}

function printImport(view: ImportView): string {
  const head = view.typeOnly ? "import type" : "import";
  if (view.namespace !== undefined) return `${head} * as ${view.namespace} from ${view.from};`;
  if (!view.multiline) return `${head} { ${view.specifiers.join(", ")} } from ${view.from};`;
  return `${head} {\n${view.specifiers.map((specifier) => `  ${specifier},\n`).join("")}} from ${view.from};`;
}

function printModel(model: ModelView): string {
  return [printInit(model), printClass(model), printEncoder(model)].join("\n");
}

function printDocs(docs: string[], indent: string): string {
  return docs.map((line) => `${indent}${line}\n`).join("");
}

function printMember(member: MemberView, indent: string, prefix: string): string {
  return `${printDocs(member.docs, indent)}${indent}${prefix}${member.key}${member.optional ? "?" : ""}: ${member.type};\n`;
}

function printInit(model: ModelView): string {
  const docs = `/** What \`new ${model.className}(…)\` and \`realm.ingest(${model.className}, …)\` take. */\n`;
  if (model.initMembers.length === 0) return `${docs}export interface ${model.initName} {}\n`;
  return `${docs}export interface ${model.initName} {\n${model.initMembers.map((member) => printMember(member, "  ", "")).join("")}}\n`;
}

function printLiteral(entries: LiteralEntry[], indent: string): string {
  if (entries.length === 0) return "{}";
  const inner = `${indent}  `;
  const lines = entries.map((entry) => `${inner}${entry.key}: ${"value" in entry ? entry.value : printLiteral(entry.entries, inner)},\n`);
  return `{\n${lines.join("")}${indent}}`;
}

function printClass(model: ModelView): string {
  let text = printDocs(model.docs, "");
  text += `export class ${model.className} {\n`;
  text += `  /** The model's schema in Realm JS's canonical form. */\n`;
  text += `  static readonly schema: ${CanonicalObjectSchema} = ${printLiteral(model.schema, "  ")};\n\n`;
  text += `  /** The generated encoder \`realm.ingest\` calls: validates and writes BSON in one pass. */\n`;
  text += `  static readonly [${encodeSymbol}] = ${model.encoderName};\n`;
  if (model.fields.length > 0) text += `\n${model.fields.map((field) => printMember(field, "  ", "readonly ")).join("")}`;
  const body = model.assignments.map((line) => `    ${line}\n`).join("");
  text += `\n  constructor(${model.initParameter}: ${model.initName}) ${body === "" ? "{}\n" : `{\n${body}  }\n`}`;
  text += `}\n\n`;
  text += `${model.className} satisfies ${GeneratedModelClass}<${model.initName}>;\n`;
  return text;
}

function printEncoder(model: ModelView): string {
  let text = `/** Validates \`value\` as a {@link ${model.className}} and appends it to \`w\` as one BSON document. */\n`;
  text += model.encoderSignatureMultiline
    ? `export function ${model.encoderName}(\n  w: ${BsonWriter},\n  value: ${model.initName},\n): void {\n`
    : `export function ${model.encoderName}(w: ${BsonWriter}, value: ${model.initName}): void {\n`;
  text += `  if (!${isObject}(value)) {\n    throw ${invalid}(${model.rootPath}, ${model.objectExpected});\n  }\n`;
  text += `  const start = w.${startDocument}();\n`;
  for (const step of model.steps) text += printStep(step);
  text += `  w.${endDocument}(start);\n}\n`;
  return text;
}

function fill(template: string, value: string): string {
  return template.replace(/\$/g, () => value);
}

/** Prints one property's encoding at two-space indent. */
function printStep(step: EncodeStepView): string {
  let text = `  const ${step.local} = ${step.read};\n`;
  switch (step.shape) {
    case "single":
      if (step.value.kind === "mixed") {
        return `${text}  if (${step.local} !== undefined && !${putMixed}(w, ${step.key}, ${step.local})) {\n    throw ${invalid}(${step.path}, ${MIXED_EXPECTED});\n  }\n`;
      }
      if (!step.optional) return text + printSingle(step, "  ");
      text += `  if (${step.local} === null) {\n    w.${putNull}(${step.key});\n  } else if (${step.local} !== undefined) {\n`;
      return `${text}${printSingle(step, "    ")}  }\n`;
    case "list":
    case "set": {
      const check = `!${step.shape === "list" ? isArray : isSet}(${step.local})`;
      text += `  if (${check}) {\n    throw ${invalid}(${step.path}, ${step.containerExpected});\n  }\n`;
      text += `  const ${step.container} = w.${openArray}(${step.key});\n`;
      text += `  let ${step.counter} = 0;\n`;
      text += `  for (const item of ${step.unique ? `${uniqueValues}(${step.local})` : step.local}) {\n`;
      const at = {
        key: `${indexKey}(${step.counter})`,
        errorPath: `${indexPath}(${step.path}, ${step.counter})`,
        rethrow: `${atIndex}(e, ${step.path}, ${step.counter})`,
      };
      text += printElement(step, at, "    ");
      text += `    ${step.counter}++;\n  }\n  w.${endDocument}(${step.container});\n`;
      return text;
    }
    case "dictionary": {
      text += `  if (!${isPlainObject}(${step.local})) {\n    throw ${invalid}(${step.path}, ${step.containerExpected});\n  }\n`;
      text += `  const ${step.container} = w.${openObject}(${step.key});\n`;
      text += `  for (const k of ${keysOf}(${step.local})) {\n`;
      text += `    if (!${isDictionaryKey}(k)) {\n      throw ${invalidKey}(${step.path}, k);\n    }\n`;
      text += `    const item = ${step.local}[k];\n`;
      text += printElement(step, { key: "k", errorPath: `${keyPath}(${step.path}, k)`, rethrow: `${atKey}(e, ${step.path}, k)` }, "    ");
      text += `  }\n  w.${endDocument}(${step.container});\n`;
      return text;
    }
  }
}

/** A required single value: check, then write (embedded: header, then the model's encoder). */
function printSingle(step: EncodeStepView, indent: string): string {
  const { value, local, key, path } = step;
  const i2 = `${indent}  `;
  switch (value.kind) {
    case "check":
      return `${indent}if (${fill(value.invalidWhen, local)}) {\n${i2}throw ${invalid}(${path}, ${value.expected});\n${indent}}\n${indent}w.${value.put}(${key}, ${fill(value.argument, local)});\n`;
    case "embedded":
      return (
        `${indent}if (!${isObject}(${local})) {\n${i2}throw ${invalid}(${path}, ${step.objectExpected});\n${indent}}\n` +
        `${indent}w.${putDocumentHeader}(${key});\n` +
        `${indent}try {\n${i2}${value.encoder}(w, ${local});\n${indent}} catch (e) {\n${i2}throw ${atProperty}(e, ${path});\n${indent}}\n`
      );
    case "mixed":
      return `${indent}if (!${putMixed}(w, ${key}, ${local})) {\n${i2}throw ${invalid}(${path}, ${MIXED_EXPECTED});\n${indent}}\n`;
  }
}

/** One collection element held in `item`. */
function printElement(step: EncodeStepView, at: { key: string; errorPath: string; rethrow: string }, indent: string): string {
  const i2 = `${indent}  `;
  const value = step.value;
  const nullBranch = step.elementNullable ? `${indent}if (item === null || item === undefined) {\n${i2}w.${putNull}(${at.key});\n${indent}} else ` : indent;
  switch (value.kind) {
    case "check":
      return `${nullBranch}if (${fill(value.invalidWhen, "item")}) {\n${i2}throw ${invalid}(${at.errorPath}, ${value.expected});\n${indent}} else {\n${i2}w.${value.put}(${at.key}, ${fill(value.argument, "item")});\n${indent}}\n`;
    case "mixed":
      return `${indent}if (!${putMixed}(w, ${at.key}, item)) {\n${i2}throw ${invalid}(${at.errorPath}, ${MIXED_EXPECTED});\n${indent}}\n`;
    case "embedded":
      return (
        `${nullBranch}if (!${isObject}(item)) {\n${i2}throw ${invalid}(${at.errorPath}, ${step.objectExpected});\n${indent}} else {\n` +
        `${i2}w.${putDocumentHeader}(${at.key});\n` +
        `${i2}try {\n${i2}  ${value.encoder}(w, item);\n${i2}} catch (e) {\n${i2}  throw ${at.rethrow};\n${i2}}\n${indent}}\n`
      );
  }
}
