/**
 * Analyses one model class into a ModelInfo: its header, its persisted properties, and the
 * spans of anything a model may not have (constructors, `extends`).
 */
import { ts } from "../ts-morph.cjs";
import { createDiagnostic } from "../diagnostics/create-diagnostic.js";
import type { RelatedSpan } from "../diagnostics/diagnostic.js";
import type { ModelInfo, PropertyInfo, SourceSpan, TypeInfo } from "../model/model-info.js";
import type { AnalyzerState } from "./analyze-context.js";
import { analyzeDefault } from "./analyze-default.js";
import { analyzeTypeNode, inferTypeFromInitializer } from "./analyze-type.js";
import { readClassHeader, readDecorators, spanOfClassName, type ClassHeader } from "./read-decorators.js";
import { readDocs } from "./read-docs.js";
import { reportUnresolvedAsymgen } from "./report-unresolved-asymgen.js";
import { createSourceSpan, createSourceSpanAt } from "./source-span.js";

/** The ModelInfo of `node`, or `undefined` when no decorator on it resolves to `RealmModel`. */
export function analyzeModel(state: AnalyzerState, node: ts.ClassDeclaration, file: ts.SourceFile): ModelInfo | undefined {
  const header = readClassHeader(state, node, true);
  if (header === undefined) {
    if (!reportUnresolvedAsymgen(state, node, file)) reportStrayPropertyDecorators(state, node, file);
    return undefined;
  }
  const model: ModelInfo = {
    className: header.className,
    name: header.name,
    kind: header.kind,
    properties: [],
    decorators: header.decorators.map((d) => d.info),
    span: spanOfClassName(node, file),
    constructorSpans: [],
  };
  applyHeader(model, header);
  const inModel = { span: model.span, label: `in model "${model.name}"` };
  for (const decorator of header.decorators) {
    if (decorator.info.name !== "RealmModel" && decorator.info.name !== "MapTo") {
      reportMisplaced(state, decorator.info.name, decorator.info.span, "a class", "to a property", inModel);
    }
  }
  const docs = readDocs(node, file);
  if (docs !== undefined) model.docs = docs;
  const extendsClause = node.heritageClauses?.find((clause) => clause.token === ts.SyntaxKind.ExtendsKeyword);
  if (extendsClause !== undefined) model.extendsSpan = createSourceSpan(extendsClause, file);
  for (const member of node.members) {
    if (ts.isConstructorDeclaration(member)) {
      const keyword = member.getChildren(file).find((child) => child.kind === ts.SyntaxKind.ConstructorKeyword);
      model.constructorSpans.push(createSourceSpan(keyword ?? member, file));
      continue;
    }
    if (!ts.isPropertyDeclaration(member)) continue;
    if (member.modifiers?.some((m) => m.kind === ts.SyntaxKind.StaticKeyword)) {
      reportStaticField(state, member, file, model, inModel);
      continue;
    }
    if (ts.isPrivateIdentifier(member.name)) {
      reportPrivateField(state, member.name, file, model, inModel);
      continue;
    }
    if (!ts.isIdentifier(member.name) && !ts.isStringLiteral(member.name)) {
      reportUnsupportedPropertyName(state, member.name, file, inModel);
      continue;
    }
    model.properties.push(analyzeProperty(state, member, member.name, file, inModel));
  }
  return model;
}

function applyHeader(model: ModelInfo, header: ClassHeader): void {
  if (header.mapTo !== undefined) model.mapTo = header.mapTo;
  if (header.kindText !== undefined) model.kindText = header.kindText;
}

function analyzeProperty(
  state: AnalyzerState,
  node: ts.PropertyDeclaration,
  name: ts.Identifier | ts.StringLiteral,
  file: ts.SourceFile,
  inModel: RelatedSpan,
): PropertyInfo {
  const decorators = readDecorators(state, node, file);
  for (const decorator of decorators) {
    if (decorator.info.name === "RealmModel") reportMisplaced(state, "RealmModel", decorator.info.span, "a property", "to a class", inModel);
  }
  let type: TypeInfo;
  if (node.type !== undefined) type = analyzeTypeNode(state, node.type, file);
  else if (node.initializer !== undefined) type = inferTypeFromInitializer(state, node, file);
  else type = { kind: "unsupported", reason: "missing", optional: false, nullable: false, text: "", span: createSourceSpan(name, file) };
  if (node.questionToken !== undefined) type = { ...type, optional: true };
  const property: PropertyInfo = {
    name: name.text,
    type,
    primaryKey: decorators.some((d) => d.info.name === "PrimaryKey"),
    indexed: decorators.some((d) => d.info.name === "Indexed"),
    ignored: decorators.some((d) => d.info.name === "Ignored"),
    decorators: decorators.map((d) => d.info),
    span: createSourceSpan(name, file),
    // getStart() of a property covers its decorators and modifiers (not its JSDoc).
    declarationStart: createSourceSpanAt(file, node.getStart(file), node.getStart(file)),
  };
  const mapTo = decorators.find((d) => d.info.name === "MapTo")?.info.argument;
  if (mapTo !== undefined) property.mapTo = mapTo;
  if (node.initializer !== undefined) {
    property.default = analyzeDefault(state, node.initializer, file, name.text, inModel);
    property.defaultSpan = createSourceSpan(node.initializer, file);
  }
  const docs = readDocs(node, file);
  if (docs !== undefined) property.docs = docs;
  return property;
}

function reportMisplaced(state: AnalyzerState, name: string, span: SourceSpan, where: string, to: string, related: RelatedSpan): void {
  state.diagnostics.push(
    createDiagnostic("misplacedDecorator", {
      message: `@${name} has no meaning on ${where}.`,
      span,
      related: [related],
      hint: `move @${name} ${to}, or remove it`,
    }),
  );
}

/**
 * The fix for each static Realm JS reads as a schema setting, as the decorator that says the same
 * here, quoting the static's value when it is a literal (`static name = "test"` → @MapTo("test")).
 */
function describeSchemaStatic(name: string, initializer: ts.Expression | undefined): string | undefined {
  const text = initializer !== undefined && ts.isStringLiteralLike(initializer) ? initializer.text : undefined;
  const flag = initializer?.kind === ts.SyntaxKind.TrueKeyword ? true : initializer?.kind === ts.SyntaxKind.FalseKeyword ? false : undefined;
  switch (name) {
    case "schema":
      return "remove it: the generated class's static schema is built from the properties and decorators";
    case "name":
      return `remove it, and put @MapTo(${JSON.stringify(text ?? "Name")}) on the class to persist it under another name`;
    case "primaryKey":
      return text === undefined ? "remove it, and mark the key property with @PrimaryKey()" : `remove it, and mark "${text}" with @PrimaryKey()`;
    case "embedded":
    case "asymmetric":
      // `= false` asks for nothing a decorator would say: the kind is @RealmModel's alone.
      if (flag === false) return "remove it: the kind is the one @RealmModel names";
      return `remove it, and declare the kind with @RealmModel(ObjectType.${name === "embedded" ? "embeddedObject" : "asymmetricObject"})`;
    default:
      return undefined;
  }
}

/**
 * A static field belongs to the class, not to stored objects, and the generated class does not
 * carry it over: a warning, except for the statics Realm JS reads as schema settings, which here
 * would silently do nothing (an error).
 */
function reportStaticField(state: AnalyzerState, node: ts.PropertyDeclaration, file: ts.SourceFile, model: ModelInfo, inModel: RelatedSpan): void {
  const name = ts.isIdentifier(node.name) || ts.isStringLiteral(node.name) || ts.isPrivateIdentifier(node.name) ? node.name.text : node.name.getText(file);
  const span = createSourceSpan(node.name, file);
  const settingHint = describeSchemaStatic(name, node.initializer);
  if (settingHint !== undefined) {
    state.diagnostics.push(
      createDiagnostic("staticSchemaSetting", {
        message: `Model "${model.name}" declares static "${name}", which Realm JS reads as a schema setting; asymgen builds the schema from decorators and ignores it.`,
        span,
        related: [inModel],
        hint: settingHint,
      }),
    );
    return;
  }
  state.diagnostics.push(
    createDiagnostic("staticField", {
      message: `Static field "${name}" of model "${model.name}" is not persisted and is not carried over to the generated class "${model.name}".`,
      span,
      related: [inModel],
      hint: `remove "static" to persist it, or move it out of the model class`,
    }),
  );
}

/** A computed (`[key]`) or numeric (`0`) property name: the generator needs a name it knows at generate time. */
function reportUnsupportedPropertyName(state: AnalyzerState, name: ts.PropertyName, file: ts.SourceFile, inModel: RelatedSpan): void {
  const text = name.getText(file);
  state.diagnostics.push(
    createDiagnostic("unsupportedPropertyName", {
      message: `Property ${text} has a ${ts.isComputedPropertyName(name) ? "computed" : "numeric"} name; a persisted property needs an identifier or string literal name, so it is not persisted.`,
      span: createSourceSpan(name, file),
      related: [inModel],
      hint: ts.isComputedPropertyName(name) ? `name the property with an identifier, and persist it under another name with @MapTo("…") if needed` : `use an identifier or a quoted name ("${text}"), or mark it @Ignored() after moving it out of the model`,
    }),
  );
}

/** A `#private` field cannot be set from an init object and is never persisted. */
function reportPrivateField(state: AnalyzerState, name: ts.PrivateIdentifier, file: ts.SourceFile, model: ModelInfo, inModel: RelatedSpan): void {
  state.diagnostics.push(
    createDiagnostic("privateField", {
      message: `Private field "${name.text}" of model "${model.name}" is not persisted: the generated class cannot set it from an init object.`,
      span: createSourceSpan(name, file),
      related: [inModel],
      hint: `drop the "#" to persist it, or move it out of the model class`,
    }),
  );
}

/** Property decorators on a class that is not a model usually mean a forgotten `@RealmModel`. */
function reportStrayPropertyDecorators(state: AnalyzerState, node: ts.ClassDeclaration, file: ts.SourceFile): void {
  for (const member of node.members) {
    if (!ts.canHaveDecorators(member) || ts.getDecorators(member) === undefined) continue;
    const decorators = readDecorators(state, member, file, false);
    const first = decorators[0];
    if (first === undefined) continue;
    const className = node.name?.text ?? "(anonymous)";
    state.diagnostics.push(
      createDiagnostic("misplacedDecorator", {
        message: `@${first.info.name} is on a property of "${className}", which is not a model.`,
        span: first.info.span,
        related: [{ span: spanOfClassName(node, file), label: `class "${className}" has no @RealmModel` }],
        hint: `add @RealmModel(ObjectType.asymmetricObject) or @RealmModel(ObjectType.embeddedObject) to "${className}"`,
      }),
    );
    return;
  }
}
