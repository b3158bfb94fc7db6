/**
 * The text of a generated `X.realm.ts`. No decisions here: the view model (generator/render)
 * decided names, types, checks and layout; these functions only print it, in the exact shape
 * prettier prints for its default options (two-space indent, double quotes, trailing commas,
 * expanded object literals), so the output needs no formatter in the common case.
 */
import type { DirectWriteView, EncodeStepView, FileView, ImportView, LiteralEntry, MemberView, ModelView } from "./file-view.js";
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
  writeCString,
  writeEnd,
  writeKey,
} = rt;
const { BsonWriter, CanonicalObjectSchema, GeneratedModelClass } = ty;
const { bytes, commit, length, room, view: viewOf } = wm;

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

/*
 * The encoder keeps the write position in a local `p` and writes into the writer's buffer `buf`
 * (and its DataView `view`) itself: per element one capacity check (`room` only when it fails:
 * strings counted at their worst case, 3 bytes per UTF-16 unit), the type byte and key as
 * straight-line stores (generator/render/element-head.ts), the value inline or through a
 * `write*` function. Why: one BsonWriter call per element (a capacity check, a key copy loop, a
 * load and store of the position each) was most of the encoder's cost. Kept inline on purpose:
 * V8 stops inlining small helpers once a function's inlined size passes its budget, and a
 * generated encoder passes it early. Nested encoders, mixed values and binary data go through
 * the writer: `commit(p)` before, `p`/`buf`/`view` read back after. Validation comes before each
 * element's writes and throws as before; what a failed document wrote is cut back by the caller
 * (runtime/queue/encode-document.ts), so the writer's position needs no care on that path.
 */

function printEncoder(model: ModelView): string {
  const io = { view: model.usesView };
  let text = `/** Validates \`value\` as a {@link ${model.className}} and appends it to \`w\` as one BSON document. */\n`;
  text += model.encoderSignatureMultiline
    ? `export function ${model.encoderName}(\n  w: ${BsonWriter},\n  value: ${model.initName},\n): void {\n`
    : `export function ${model.encoderName}(w: ${BsonWriter}, value: ${model.initName}): void {\n`;
  text += `  if (!${isObject}(value)) {\n    throw ${invalid}(${model.rootPath}, ${model.objectExpected});\n  }\n`;
  // One line for the reader of generated code; the why is above, in this file.
  text += `  // Written in place: p is the position in buf (w.${room} grows it when needed).\n`;
  text += printOpenDocument(io, "5");
  for (const step of model.steps) text += printStep(step, io);
  text += `${printCloseDocument(io)}}\n`;
  for (const step of model.steps) if (step.elements !== undefined) text += `\n${printElementsFunction(step)}`;
  return text;
}

interface Io {
  /** Whether the encoder declares `view` (and so renews it with `buf`). */
  view: boolean;
}

function fill(template: string, value: string): string {
  return template.replace(/\$/g, () => value);
}

function indentLines(lines: string[], indent: string): string {
  return lines.map((line) => `${indent}${line}\n`).join("");
}

/** The capacity check before writing at most `size` bytes at `p` (a new buffer when it fails). */
function printRoom(size: string, io: Io, indent: string): string {
  const renew = io.view ? `${indent}  view = w.${viewOf};\n` : "";
  return `${indent}if (p + ${size} > buf.length) {\n${indent}  buf = w.${room}(p, ${size});\n${renew}${indent}}\n`;
}

/**
 * A function's start on a document (or array) it writes whole: the writer's position and buffer
 * taken into locals, room for `size` bytes, the length prefix skipped (`start`).
 */
function printOpenDocument(io: Io, size: string): string {
  const view = io.view ? `  let view = w.${viewOf};\n` : "";
  return `  let p = w.${length};\n  let buf = w.${bytes};\n${view}${printRoom(size, io, "  ")}  const start = p;\n  p += 4;\n`;
}

/** Its end: the terminator and length prefix (writeEnd), and the position handed back. */
function printCloseDocument(io: Io): string {
  return `${printRoom("1", io, "  ")}  w.${commit}(${writeEnd}(buf, start, p));\n`;
}

/** Hands the position to the writer for a call that writes through it. */
function printCommit(indent: string): string {
  return `${indent}w.${commit}(p);\n`;
}

/** Takes the position (and the buffer, which may have grown) back after such a call. */
function printResume(io: Io, indent: string): string {
  return `${indent}p = w.${length};\n${indent}buf = w.${bytes};\n${io.view ? `${indent}view = w.${viewOf};\n` : ""}`;
}

/** `fixed` plus the terms, as printed in a size. */
function sizeOf(fixed: number, ...terms: (string | undefined)[]): string {
  return [String(fixed), ...terms.filter((term): term is string => term !== undefined)].join(" + ");
}

/** A direct value's statements for the value in `local`. */
function printWrite(direct: DirectWriteView, local: string, indent: string): string {
  return indentLines(direct.write.map((line) => fill(line, local)), indent);
}

/** Prints one property's encoding at two-space indent. */
function printStep(step: EncodeStepView, io: Io): string {
  let text = `  const ${step.local} = ${step.read};\n`;
  switch (step.shape) {
    case "single":
      if (step.value.kind === "mixed") {
        return `${text}${printCommit("  ")}  if (${step.local} !== undefined && !${putMixed}(w, ${step.key}, ${step.local})) {\n    throw ${invalid}(${step.path}, ${MIXED_EXPECTED});\n  }\n${printResume(io, "  ")}`;
      }
      if (!step.optional) return text + printSingle(step, io, "  ");
      text += `  if (${step.local} === null) {\n${printRoom(String(step.headSize), io, "    ")}${indentLines(step.nullHead, "    ")}  } else if (${step.local} !== undefined) {\n`;
      return `${text}${printSingle(step, io, "    ")}  }\n`;
    case "list":
    case "set": {
      const check = `!${step.shape === "list" ? isArray : isSet}(${step.local})`;
      text += `  if (${check}) {\n    throw ${invalid}(${step.path}, ${step.containerExpected});\n  }\n`;
      return text + printContainer(step, io);
    }
    case "dictionary": {
      text += `  if (!${isPlainObject}(${step.local})) {\n    throw ${invalid}(${step.path}, ${step.containerExpected});\n  }\n`;
      return text + printContainer(step, io);
    }
  }
}

/** A collection in the encoder: its head, then its elements function called through the writer. */
function printContainer(step: EncodeStepView, io: Io): string {
  const elements = step.elements!;
  return `${printRoom(String(step.headSize), io, "  ")}${indentLines(step.head, "  ")}${printCommit("  ")}  ${elements.name}(w, ${step.local});\n${printResume(io, "  ")}`;
}

/**
 * A collection's elements function: the container's length prefix, its elements, its end. A
 * function of its own so the model's encoder has no loop: on Node 20 an encoder with its loops
 * inline was now and then left in baseline code for good after an on-stack replacement of one of
 * them (%GetOptimizationStatus: baseline, 3× slower): 7 of 50 runs with two encoders sharing the
 * runtime; none of 80 once the loops moved.
 */
function printElementsFunction(step: EncodeStepView): string {
  const elements = step.elements!;
  const io: Io = { view: elements.usesView };
  let text = `/** Elements of ${elements.label} (a loop kept out of the encoder). */\n`;
  text += elements.signatureMultiline
    ? `function ${elements.name}(\n  w: ${BsonWriter},\n  ${step.local}: ${elements.type},\n): void {\n`
    : `function ${elements.name}(w: ${BsonWriter}, ${step.local}: ${elements.type}): void {\n`;
  text += printOpenDocument(io, "4");
  if (step.shape === "dictionary") {
    text += `  for (const k of ${keysOf}(${step.local})) {\n`;
    text += `    if (!${isDictionaryKey}(k)) {\n      throw ${invalidKey}(${step.path}, k);\n    }\n`;
    text += `    const item = ${step.local}[k];\n`;
    const at: ElementKey = {
      key: "k",
      // Its UTF-8 and NUL: at most 3 bytes per UTF-16 unit, plus 1.
      headSize: "k.length * 3",
      head: `p = ${writeCString}(buf, p + 1, k);`,
      errorPath: `${keyPath}(${step.path}, k)`,
      rethrow: `${atKey}(e, ${step.path}, k)`,
    };
    text += printElement(step, at, io, "    ");
    text += `  }\n`;
  } else {
    text += `  let ${step.counter} = 0;\n`;
    text += `  for (const item of ${step.unique ? `${uniqueValues}(${step.local})` : step.local}) {\n`;
    text += `    const key = ${indexKey}(${step.counter});\n`;
    const at: ElementKey = {
      key: "key",
      headSize: "key.length",
      head: `p = ${writeKey}(buf, p + 1, key);`,
      errorPath: `${indexPath}(${step.path}, ${step.counter})`,
      rethrow: `${atIndex}(e, ${step.path}, ${step.counter})`,
    };
    text += printElement(step, at, io, "    ");
    text += `    ${step.counter}++;\n  }\n`;
  }
  return `${text}${printCloseDocument(io)}}\n`;
}

/** A required single value: check, then write (embedded: head, then the model's encoder). */
function printSingle(step: EncodeStepView, io: Io, indent: string): string {
  const { value, local, key, path } = step;
  const i2 = `${indent}  `;
  switch (value.kind) {
    case "check": {
      let text = `${indent}if (${fill(value.invalidWhen, local)}) {\n${i2}throw ${invalid}(${path}, ${value.expected});\n${indent}}\n`;
      const direct = value.direct;
      if (direct === undefined) return `${text}${printCommit(indent)}${indent}w.${value.put}(${key}, ${fill(value.argument, local)});\n${printResume(io, indent)}`;
      text += printRoom(sizeOf(step.headSize + direct.fixed, direct.variable && fill(direct.variable, local)), io, indent);
      return text + indentLines(step.head, indent) + printWrite(direct, local, indent);
    }
    case "embedded":
      return (
        `${indent}if (!${isObject}(${local})) {\n${i2}throw ${invalid}(${path}, ${step.objectExpected});\n${indent}}\n` +
        printRoom(String(step.headSize), io, indent) +
        indentLines(step.head, indent) +
        printCommit(indent) +
        `${indent}try {\n${i2}${value.encoder}(w, ${local});\n${indent}} catch (e) {\n${i2}throw ${atProperty}(e, ${path});\n${indent}}\n` +
        printResume(io, indent)
      );
    case "mixed":
      return `${printCommit(indent)}${indent}if (!${putMixed}(w, ${key}, ${local})) {\n${i2}throw ${invalid}(${path}, ${MIXED_EXPECTED});\n${indent}}\n${printResume(io, indent)}`;
  }
}

/** How a collection element's key is written: an index key (`key`) or a dictionary key (`k`). */
interface ElementKey {
  /** The local holding it, for writer calls. */
  key: string;
  /** Its size beyond the type byte, as printed. */
  headSize: string;
  /** The statement writing it after the type byte at `p`. */
  head: string;
  errorPath: string;
  rethrow: string;
}

/** One collection element held in `item`. */
function printElement(step: EncodeStepView, at: ElementKey, io: Io, indent: string): string {
  const i2 = `${indent}  `;
  const value = step.value;
  // The type byte at `p`, then the key.
  const head = (type: string, ind: string): string => `${ind}buf[p] = ${type};\n${ind}${at.head}\n`;
  const nullBranch = step.elementNullable
    ? `${indent}if (item === null || item === undefined) {\n${printRoom(sizeOf(1, at.headSize), io, i2)}${head(step.nullType, i2)}${indent}} else `
    : indent;
  switch (value.kind) {
    case "check": {
      const direct = value.direct;
      let text = `${nullBranch}if (${fill(value.invalidWhen, "item")}) {\n${i2}throw ${invalid}(${at.errorPath}, ${value.expected});\n${indent}} else {\n`;
      if (direct === undefined) {
        text += `${printCommit(i2)}${i2}w.${value.put}(${at.key}, ${fill(value.argument, "item")});\n${printResume(io, i2)}`;
      } else {
        text += printRoom(sizeOf(1 + direct.fixed, at.headSize, direct.variable && fill(direct.variable, "item")), io, i2);
        text += head(direct.typeByte, i2) + printWrite(direct, "item", i2);
      }
      return `${text}${indent}}\n`;
    }
    case "mixed":
      return `${printCommit(indent)}${indent}if (!${putMixed}(w, ${at.key}, item)) {\n${i2}throw ${invalid}(${at.errorPath}, ${MIXED_EXPECTED});\n${indent}}\n${printResume(io, indent)}`;
    case "embedded":
      return (
        `${nullBranch}if (!${isObject}(item)) {\n${i2}throw ${invalid}(${at.errorPath}, ${step.objectExpected});\n${indent}} else {\n` +
        printRoom(sizeOf(1, at.headSize), io, i2) +
        head(step.documentType, i2) +
        printCommit(i2) +
        `${i2}try {\n${i2}  ${value.encoder}(w, item);\n${i2}} catch (e) {\n${i2}  throw ${at.rethrow};\n${i2}}\n` +
        printResume(io, i2) +
        `${indent}}\n`
      );
  }
}
