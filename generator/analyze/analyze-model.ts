/**
 * Analyses one model class into a ModelInfo: its header, its persisted properties, and the
 * spans of anything a model may not have (constructors, `extends`).
 */
import { ts } from "ts-morph";
import { createDiagnostic } from "../diagnostics/create-diagnostic.js";
import type { RelatedSpan } from "../diagnostics/diagnostic.js";
import type { ModelInfo, PropertyInfo, SourceSpan, TypeInfo } from "../model/model-info.js";
import type { AnalyzerState } from "./analyze-context.js";
import { analyzeDefault } from "./analyze-default.js";
import { analyzeTypeNode, inferTypeFromInitializer } from "./analyze-type.js";
import { readClassHeader, readDecorators, spanOfClassName, type ClassHeader } from "./read-decorators.js";
import { readDocs } from "./read-docs.js";
import { createSourceSpan } from "./source-span.js";

/** The ModelInfo of `node`, or `undefined` when no decorator on it resolves to `RealmModel`. */
export function analyzeModel(state: AnalyzerState, node: ts.ClassDeclaration, file: ts.SourceFile): ModelInfo | undefined {
  const header = readClassHeader(state, node, true);
  if (header === undefined) {
    reportStrayPropertyDecorators(state, node, file);
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
    // Static fields belong to the class, not to stored objects; #private fields are not reachable from an init object.
    if (member.modifiers?.some((m) => m.kind === ts.SyntaxKind.StaticKeyword)) continue;
    if (!ts.isIdentifier(member.name) && !ts.isStringLiteral(member.name)) continue;
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
  };
  const mapTo = decorators.find((d) => d.info.name === "MapTo")?.info.argument;
  if (mapTo !== undefined) property.mapTo = mapTo;
  if (node.initializer !== undefined) property.default = analyzeDefault(node.initializer, file);
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
