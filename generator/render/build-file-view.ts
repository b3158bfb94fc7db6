/**
 * Decides everything about one generated file: names, init types, the canonical schema
 * literal, the encoder's checks and writes, the imports and their layout. templates/ prints it.
 */
import path from "node:path";
import type { ModelInfo, ProjectInfo, PropertyInfo, SourceFileInfo, TypeInfo } from "../model/model-info.js";
import { persistedPropertyName } from "../model/model-info.js";
import { buildSchemaView, persistedProperties, type SchemaDefault, type SchemaPropertyView } from "./build-canonical-schema.js";
import { docLines } from "./doc-lines.js";
import { collectDefaultImports, relativeModule } from "./default-imports.js";
import type { EncodeStepView, FileView, ImportView, KeyConstantView, LiteralEntry, MemberView, ModelView, ValueView } from "../../templates/file-view.js";
import { resolveLinkOrThrow } from "./resolve-link.js";
import { generatedFileName, importPathOf } from "../write/output-path.js";
import { formatGeneratedHeader } from "./generated-header.js";
import { CODEGEN_MODULE, ELEMENTS_FUNCTION_PREFIX, KEY_CONSTANT_PREFIX, RUNTIME_MODULE, TYPE_ONLY_SYMBOLS, codegenTypes, codegenValues as rt } from "asymgen/codegen-symbols";
import { elementHead, hexLiteral } from "./element-head.js";
import { BSON_TYPE, MIXED_TYPE, SCALAR_CODECS } from "./scalar-codecs.js";

/** Where the file comes from and goes, and the width the templates lay lines out for. */
export interface BuildFileViewOptions {
  sourceFile: string;
  outFile: string;
  printWidth: number;
  /** The quote the templates print strings with (prettier's `singleQuote`). */
  quote?: '"' | "'";
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
// Expressions prettier prints exactly as a person usually writes them: `new Date()`, `Date.now()`,
// `defaultKind`, `new ObjectId()`, `crypto.randomUUID()`. Anything else is printed as written and
// handed to prettier (see format-output.ts).
const SIMPLE_EXPRESSION = /^(new )?[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*(\(\))?$/;

/** Builds the view model of the generated file for `file`. */
export function buildFileView(file: SourceFileInfo, project: ProjectInfo, options: BuildFileViewOptions): FileView {
  const builder = new FileViewBuilder(file, project, options);
  return builder.build();
}

class FileViewBuilder {
  private readonly codegen = new Set<string>();
  private readonly runtimeTypes = new Set<string>();
  /** Generated modules of other files → names imported from them. */
  private readonly linked = new Map<string, Set<string>>();
  private readonly keys = new Map<string, string>();
  private readonly keyNames = new Set<string>();
  private readonly functionNames = new Set<string>();
  private readonly untrusted: string[] = [];

  constructor(
    private readonly file: SourceFileInfo,
    private readonly project: ProjectInfo,
    private readonly options: BuildFileViewOptions,
  ) {}

  build(): FileView {
    const models = this.file.models.map((model) => this.buildModel(model));
    const defaults = collectDefaultImports(this.file, this.options.outFile);
    // One import per module: a name a default expression uses as a value (`new ObjectId()`) turns
    // an `import type` of the same name into a value import.
    const modules = new Map<string, Map<string, boolean>>();
    const want = (from: string, name: string, typeOnly: boolean): void => {
      const names = modules.get(from) ?? new Map<string, boolean>();
      names.set(name, (names.get(name) ?? true) && typeOnly);
      modules.set(from, names);
    };
    for (const name of this.runtimeTypes) want(RUNTIME_MODULE, name, true);
    for (const name of this.codegen) want(CODEGEN_MODULE, name, TYPE_ONLY_SYMBOLS.has(name));
    for (const [from, names] of this.linked) for (const name of names) want(from, name.replace(/^type /, ""), name.startsWith("type "));
    for (const extra of defaults) {
      // The model file's own import of a name (`ObjectId` from "bson") replaces asymgen's
      // re-export of it: the same class, and one binding per name.
      if (extra.from !== RUNTIME_MODULE) modules.get(RUNTIME_MODULE)?.delete(extra.local);
      want(extra.from, extra.specifier, extra.typeOnly);
    }
    if (modules.get(RUNTIME_MODULE)?.size === 0) modules.delete(RUNTIME_MODULE);
    const order = (from: string): string => (from === RUNTIME_MODULE ? "0" : from === CODEGEN_MODULE ? "1" : from.startsWith(".") ? `3${from}` : `2${from}`);
    const imports: ImportView[] = [];
    for (const from of [...modules.keys()].sort((a, b) => (order(a) < order(b) ? -1 : 1))) {
      const names = modules.get(from)!;
      // A namespace import cannot share a statement with named ones.
      for (const name of [...names.keys()].filter((spec) => spec.startsWith("* as "))) {
        names.delete(name);
        imports.push({ namespace: name.slice(5), specifiers: [], from: this.stringLiteral(from), typeOnly: false, multiline: false });
      }
      if (names.size > 0) imports.push(this.importView(names, from));
    }
    const keyConstants: KeyConstantView[] = [...this.keys.entries()].map(([persisted, name]) => ({ name, literal: this.stringLiteral(persisted) }));
    return {
      // The source relative to the output (`m.ts` beside it, `../src/m.ts` under --out-dir): what
      // lets a later run tell an orphaned output (its source gone) from one whose source exists.
      header: formatGeneratedHeader(path.relative(path.dirname(this.options.outFile), this.options.sourceFile).split(path.sep).join("/")),
      imports,
      keyConstants,
      models,
      untrusted: this.untrusted,
    };
  }

  private importView(names: Map<string, boolean>, from: string): ImportView {
    const typeOnly = [...names.values()].every((isType) => isType);
    const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
    const values = [...names].filter(([, isType]) => !isType).map(([name]) => name).sort(byName);
    const types = [...names].filter(([, isType]) => isType).map(([name]) => name).sort(byName);
    // Values first, then types, each alphabetical: a stable order for stable bytes.
    const specifiers = typeOnly ? types : [...values, ...types.map((name) => `type ${name}`)];
    const line = `import ${typeOnly ? "type " : ""}{ ${specifiers.join(", ")} } from ${this.stringLiteral(from)};`;
    return { specifiers, from: this.stringLiteral(from), typeOnly, multiline: line.length > this.options.printWidth };
  }

  private buildModel(model: ModelInfo): ModelView {
    const className = model.name;
    const initName = `${className}Init`;
    const encoderName = `encode${className}`;
    const locals = new Set<string>(["w", "value", "start", "item", "k", "e", "p", "buf", "view", "key"]);
    const properties = persistedProperties(model);
    const schemaView = buildSchemaView(model, this.project);
    for (const name of [rt.encodeSymbol, rt.invalid, rt.isObject, rt.writeEnd]) this.codegen.add(name);
    for (const name of Object.values(codegenTypes)) this.codegen.add(name);

    // realm-js normalizeObjectSchema's key order: name, primaryKey, asymmetric, embedded, properties.
    const schema: LiteralEntry[] = [{ key: "name", value: this.stringLiteral(schemaView.name) }];
    if (schemaView.primaryKey !== undefined) schema.push({ key: "primaryKey", value: this.stringLiteral(schemaView.primaryKey) });
    schema.push({ key: "asymmetric", value: String(schemaView.asymmetric) }, { key: "embedded", value: String(schemaView.embedded) });
    schema.push({ key: "properties", entries: schemaView.properties.map((property) => ({ key: this.propertyKey(property.name), entries: this.schemaProperty(property) })) });

    const initMembers: MemberView[] = [];
    const fields: MemberView[] = [];
    const assignments: string[] = [];
    const steps: EncodeStepView[] = [];
    for (const property of properties) {
      const docs = this.docs(property.docs);
      const base = this.typeText(property.type);
      const nullable = property.type.nullable && !isMixed(property.type) ? " | null" : "";
      const hasDefault = property.default !== undefined;
      const initOptional = property.type.optional || hasDefault;
      initMembers.push({ docs, key: this.propertyKey(property.name), optional: initOptional, type: `${base}${nullable}${initOptional ? " | undefined" : ""}` });
      const fieldOptional = property.type.optional && !hasDefault;
      fields.push({ docs, key: this.propertyKey(property.name), optional: fieldOptional, type: `${base}${nullable}${fieldOptional ? " | undefined" : ""}` });
      const fromInit = this.access("init", property.name);
      assignments.push(`${this.access("this", property.name)} = ${this.withDefault(fromInit, property)};`);
      steps.push(this.encodeStep(property, locals, model.name, initName));
    }
    return {
      className,
      initName,
      encoderName,
      docs: this.docs(model.docs),
      schema,
      initMembers,
      fields,
      assignments,
      initParameter: assignments.length === 0 ? "_init" : "init",
      rootPath: this.stringLiteral(""),
      objectExpected: this.stringLiteral("an object"),
      // Every head is at least 3 bytes (type, a 1-character key, NUL): written through the DataView.
      usesView: steps.some((step) => step.head.length > 0 || step.nullHead.length > 0 || (step.value.kind === "check" && step.value.direct !== undefined)),
      encoderSignatureMultiline: `export function ${encoderName}(w: BsonWriter, value: ${initName}): void {`.length > this.options.printWidth,
      steps,
    };
  }

  private schemaProperty(property: SchemaPropertyView): LiteralEntry[] {
    // realm-js normalizePropertySchema's key order: name, type, optional, indexed, mapTo, then objectType and default.
    const entries: LiteralEntry[] = [
      { key: "name", value: this.stringLiteral(property.name) },
      { key: "type", value: this.stringLiteral(property.type) },
      { key: "optional", value: String(property.optional) },
      { key: "indexed", value: String(property.indexed) },
      { key: "mapTo", value: this.stringLiteral(property.mapTo) },
    ];
    if (property.objectType !== undefined) entries.push({ key: "objectType", value: this.stringLiteral(property.objectType) });
    if (property.default !== undefined) entries.push({ key: "default", value: this.defaultValue(property.default, true) });
    return entries;
  }

  private encodeStep(property: PropertyInfo, locals: Set<string>, modelName: string, initName: string): EncodeStepView {
    const ident = sanitize(property.name);
    const local = unique(`v_${ident}`, locals);
    const type = property.type;
    const shape = type.kind === "list" || type.kind === "set" || type.kind === "dictionary" ? type.kind : "single";
    const valueType = shape === "single" ? type : (type as Extract<TypeInfo, { element: TypeInfo }>).element;
    const value = this.valueView(valueType);
    // Realm makes a dictionary's object values optional (its implicit rule): null is a value there.
    const elementNullable = shape !== "single" && !isMixed(valueType) && (valueType.optional || (shape === "dictionary" && valueType.kind === "link"));
    const dedupe = shape === "set" && valueType.kind === "scalar" && IDENTITY_COMPARED.has(valueType.scalar);
    const path = this.stringLiteral(property.name);
    const persisted = persistedPropertyName(property);
    // The head's type: the value's own, or a document's/array's; none when the writer writes it under a key constant.
    let headType: number | undefined;
    if (shape === "single") {
      if (value.kind === "mixed") this.codegen.add(rt.putMixed).add(rt.MIXED_EXPECTED);
      if (value.kind === "embedded") this.codegen.add(rt.atProperty);
      headType = value.kind === "embedded" ? BSON_TYPE.document : value.kind === "check" && value.direct !== undefined ? Number(value.direct.typeByte) : undefined;
    } else {
      headType = shape === "dictionary" ? BSON_TYPE.document : BSON_TYPE.array;
      // Elements' heads are written here too, but for mixed values and binary data (through the writer).
      const writesHeads = value.kind === "embedded" || (value.kind === "check" && value.direct !== undefined) || (elementNullable && value.kind !== "mixed");
      if (writesHeads) this.codegen.add(shape === "dictionary" ? rt.writeCString : rt.writeKey);
    }
    if (shape === "dictionary") {
      for (const name of [rt.isPlainObject, rt.isDictionaryKey, rt.invalidKey, rt.keysOf]) this.codegen.add(name);
      this.codegen.add(value.kind === "embedded" ? rt.atKey : rt.keyPath);
      if (value.kind === "embedded") this.codegen.add(rt.keyPath);
      if (value.kind === "mixed") this.codegen.add(rt.putMixed).add(rt.MIXED_EXPECTED);
    } else if (shape !== "single") {
      this.codegen.add(rt.indexKey).add(rt.indexPath).add(shape === "list" ? rt.isArray : rt.isSet);
      if (dedupe) this.codegen.add(rt.uniqueValues);
      if (value.kind === "embedded") this.codegen.add(rt.atIndex);
      if (value.kind === "mixed") this.codegen.add(rt.putMixed).add(rt.MIXED_EXPECTED);
    }
    const optional = property.type.optional && value.kind !== "mixed";
    const head = headType === undefined ? undefined : elementHead(headType, persisted);
    let elements: EncodeStepView["elements"];
    if (shape !== "single") {
      this.codegen.add(rt.writeEnd);
      const name = unique(`${ELEMENTS_FUNCTION_PREFIX}${sanitize(modelName)}_${ident}`, this.functionNames);
      const type = `NonNullable<${initName}[${this.stringLiteral(property.name)}]>`;
      const usesView = value.kind === "check" && value.direct !== undefined && value.direct.write.some((line) => /\bview\b/.test(line));
      const signatureMultiline = `function ${name}(w: BsonWriter, ${local}: ${type}): void {`.length > this.options.printWidth;
      elements = { name, label: `\`${sanitize(modelName)}.${ident}\``, type, usesView, signatureMultiline };
    }
    return {
      local,
      read: this.withDefault(this.access("value", property.name), property),
      optional,
      shape,
      key: headType === undefined ? this.keyConstant(persisted) : "",
      head: head?.statements ?? [],
      headSize: head?.size ?? 0,
      nullHead: shape === "single" && optional ? elementHead(BSON_TYPE.null, persisted).statements : [],
      elements,
      documentType: hexByte(BSON_TYPE.document),
      nullType: hexByte(BSON_TYPE.null),
      path,
      counter: shape === "list" || shape === "set" ? unique(`i_${ident}`, locals) : "",
      value,
      elementNullable,
      unique: dedupe,
      containerExpected: this.stringLiteral(shape === "list" ? "an array" : shape === "set" ? "a Set" : "a plain object"),
      objectExpected: this.stringLiteral("an object"),
    };
  }

  private valueView(type: TypeInfo): ValueView {
    switch (type.kind) {
      case "scalar": {
        if (type.scalar === "mixed") return { kind: "mixed" };
        const codec = SCALAR_CODECS[type.scalar];
        for (const name of codec.uses) this.codegen.add(name);
        const quote = this.options.quote ?? '"';
        const view: ValueView = { kind: "check", invalidWhen: codec.invalidWhen.replace(/"/g, quote), expected: this.stringLiteral(codec.expected), put: codec.put, argument: codec.argument };
        const direct = codec.direct;
        if (direct === undefined) return view;
        for (const name of direct.uses) this.codegen.add(name);
        return { ...view, direct: { typeByte: hexByte(direct.bsonType), fixed: direct.fixed, ...(direct.variable !== undefined && { variable: direct.variable }), write: direct.write } };
      }
      case "link": {
        const target = resolveLinkOrThrow(type, this.project);
        const encoder = `encode${target.name}`;
        this.linkName(type.targetFile, encoder);
        return { kind: "embedded", encoder };
      }
      default:
        throw new Error(`asymgen internal error: cannot encode ${type.text} (validation should have rejected it)`);
    }
  }

  /** The init-object type of `type`. */
  private typeText(type: TypeInfo): string {
    switch (type.kind) {
      case "scalar": {
        if (type.scalar === "mixed") {
          this.runtimeTypes.add(MIXED_TYPE);
          return MIXED_TYPE;
        }
        const codec = SCALAR_CODECS[type.scalar];
        for (const name of codec.typeImports) this.runtimeTypes.add(name);
        return codec.type;
      }
      case "link": {
        const target = resolveLinkOrThrow(type, this.project);
        const name = `${target.name}Init`;
        this.linkName(type.targetFile, `type ${name}`);
        return name;
      }
      case "list":
      case "set":
      case "dictionary": {
        const element = type.element;
        let text = this.typeText(element);
        if (!isMixed(element)) {
          if (element.nullable || (type.kind === "dictionary" && element.kind === "link")) text += " | null";
          else if (element.optional) text += " | undefined";
        }
        if (type.kind === "list") return text.includes(" | ") ? `(${text})[]` : `${text}[]`;
        if (type.kind === "set") return `Set<${text}>`;
        return `Record<string, ${text}>`;
      }
      case "unsupported":
        throw new Error(`asymgen internal error: unsupported type ${type.text} past validation`);
    }
  }

  /** Registers `name` as imported from the generated module of `targetFile` (unless it is this file). */
  private linkName(targetFile: string, name: string): void {
    if (targetFile === this.file.file) return;
    const from = relativeModule(this.file.file, importPathOf(generatedFileName(targetFile)));
    const set = this.linked.get(from) ?? new Set<string>();
    set.add(name);
    this.linked.set(from, set);
  }

  private keyConstant(persisted: string): string {
    const existing = this.keys.get(persisted);
    if (existing !== undefined) return existing;
    this.codegen.add(rt.keyBytes);
    const name = unique(`${KEY_CONSTANT_PREFIX}${sanitize(persisted)}`, this.keyNames);
    this.keys.set(persisted, name);
    return name;
  }

  private withDefault(read: string, property: PropertyInfo): string {
    const fallback = property.default;
    if (fallback === undefined) return read;
    const value = this.defaultValue(fallback, false);
    // `??` (null also takes the default) unless null is a value the property may hold.
    return property.type.nullable ? `${read} === undefined ? ${value} : ${read}` : `${read} ?? ${value}`;
  }

  /** A default as the schema (`inSchema`: a computed one wrapped in `() =>`) or the constructor reads it. */
  private defaultValue(fallback: SchemaDefault, inSchema: boolean): string {
    switch (fallback.kind) {
      case "literal":
        return this.literal(fallback.value);
      case "bigint":
        return `${fallback.value}n`;
      case "expression":
        return inSchema ? `() => ${this.expression(fallback.text, true)}` : this.expression(fallback.text, false);
    }
  }

  /** A default expression as written; parenthesised (and formatted by prettier) unless simple. */
  private expression(text: string, arrowBody: boolean): string {
    const trimmed = text.trim();
    if (SIMPLE_EXPRESSION.test(trimmed)) return trimmed;
    this.untrusted.push(`default expression ${trimmed}`);
    return arrowBody && !trimmed.startsWith("{") ? trimmed : `(${trimmed})`;
  }

  private literal(value: string | number | boolean | null): string {
    if (typeof value === "string") return this.stringLiteral(value);
    const text = String(value);
    if (typeof value === "number" && /[eEIN]/.test(text)) this.untrusted.push(`number ${text}`);
    return text;
  }

  private stringLiteral(value: string): string {
    // Prettier may pick the other quote for a string holding quotes, and keeps escapes as written:
    // such strings (rare: names and defaults) send the file through prettier.
    if (/["'\\]/.test(value)) this.untrusted.push(`string ${value}`);
    const json = JSON.stringify(value);
    return this.options.quote === "'" ? `'${json.slice(1, -1)}'` : json;
  }

  private propertyKey(name: string): string {
    return IDENTIFIER.test(name) ? name : this.stringLiteral(name);
  }

  private access(object: string, name: string): string {
    return IDENTIFIER.test(name) ? `${object}.${name}` : `${object}[${this.stringLiteral(name)}]`;
  }

  private docs(raw: string | undefined): string[] {
    const { lines, verbatim } = docLines(raw);
    if (verbatim) this.untrusted.push("a comment printed verbatim");
    return lines;
  }
}

// Element types a JS Set keeps apart by identity though their values are equal.
const IDENTITY_COMPARED: ReadonlySet<string> = new Set(["objectId", "uuid", "decimal128", "date", "data", "mixed"]);

function isMixed(type: TypeInfo): boolean {
  return type.kind === "scalar" && type.scalar === "mixed";
}

/** A type byte as generated code prints it: `0x02`. */
function hexByte(value: number): string {
  return hexLiteral(value, 2);
}

/** An identifier fragment for a name that may not be one (`device-id` → `device_id`). */
function sanitize(name: string): string {
  const cleaned = name.replace(/[^\w$]/g, "_");
  return /^\d/.test(cleaned) ? `_${cleaned}` : cleaned;
}

/** `candidate`, or `candidate_2`… when taken; records the result as taken. */
function unique(candidate: string, taken: Set<string>): string {
  let name = candidate;
  for (let n = 2; taken.has(name); n++) name = `${candidate}_${n}`;
  taken.add(name);
  return name;
}
