/**
 * Turns a field initializer into a DefaultInfo: Realm JS keeps literals as values and wraps
 * anything else in a function evaluated per object. A computed default is copied into the
 * generated file, so every name it reads is resolved here, with the checker, to how the generated
 * file imports it (render/ never re-reads the model file's text).
 */
import { ts } from "../ts-morph.cjs";
import { createDiagnostic } from "../diagnostics/create-diagnostic.js";
import type { RelatedSpan } from "../diagnostics/diagnostic.js";
import type { DefaultImportInfo, DefaultInfo } from "../model/model-info.js";
import type { AnalyzerState } from "./analyze-context.js";
import { createSourceSpan } from "./source-span.js";

/** The default a property's initializer declares; names it cannot import are reported. */
export function analyzeDefault(state: AnalyzerState, initializer: ts.Expression, file: ts.SourceFile, propertyName: string, inModel: RelatedSpan): DefaultInfo {
  const text = initializer.getText(file);
  const literal = readLiteral(initializer, text);
  if (literal !== undefined) return literal;
  const info: DefaultInfo = { kind: "expression", text, imports: resolveImports(state, initializer, file, propertyName, inModel) };
  const constant = foldNumber(initializer);
  if (constant !== undefined) info.constantValue = constant;
  return info;
}

/** The value of arithmetic over number literals (`2 ** 53`, `-(1 << 4)`), or undefined. */
function foldNumber(node: ts.Expression): number | undefined {
  if (ts.isParenthesizedExpression(node)) return foldNumber(node.expression);
  if (ts.isNumericLiteral(node)) return readNumber(node);
  if (ts.isPrefixUnaryExpression(node)) {
    const operand = foldNumber(node.operand);
    if (operand === undefined) return undefined;
    if (node.operator === ts.SyntaxKind.MinusToken) return -operand;
    if (node.operator === ts.SyntaxKind.PlusToken) return operand;
    return undefined;
  }
  if (!ts.isBinaryExpression(node)) return undefined;
  const left = foldNumber(node.left);
  const right = left === undefined ? undefined : foldNumber(node.right);
  if (left === undefined || right === undefined) return undefined;
  switch (node.operatorToken.kind) {
    case ts.SyntaxKind.PlusToken:
      return left + right;
    case ts.SyntaxKind.MinusToken:
      return left - right;
    case ts.SyntaxKind.AsteriskToken:
      return left * right;
    case ts.SyntaxKind.SlashToken:
      return left / right;
    case ts.SyntaxKind.PercentToken:
      return left % right;
    case ts.SyntaxKind.AsteriskAsteriskToken:
      return left ** right;
    default:
      return undefined;
  }
}

function readLiteral(initializer: ts.Expression, text: string): DefaultInfo | undefined {
  let expression = initializer;
  while (ts.isParenthesizedExpression(expression)) expression = expression.expression;
  if (ts.isStringLiteral(expression) || ts.isNoSubstitutionTemplateLiteral(expression)) return { kind: "literal", value: expression.text, text };
  let negative = false;
  if (ts.isPrefixUnaryExpression(expression) && expression.operator === ts.SyntaxKind.MinusToken) {
    negative = true;
    expression = expression.operand;
  }
  if (ts.isNumericLiteral(expression)) return { kind: "literal", value: negative ? -readNumber(expression) : readNumber(expression), text };
  if (ts.isBigIntLiteral(expression)) {
    const value = BigInt(expression.text.slice(0, -1).replace(/_/g, ""));
    return { kind: "bigint", value: String(negative ? -value : value), text };
  }
  if (negative) return undefined;
  if (expression.kind === ts.SyntaxKind.TrueKeyword) return { kind: "literal", value: true, text };
  if (expression.kind === ts.SyntaxKind.FalseKeyword) return { kind: "literal", value: false, text };
  if (expression.kind === ts.SyntaxKind.NullKeyword) return { kind: "literal", value: null, text };
  return undefined;
}

/** The value of a numeric literal, separators (`1_000`) and radix prefixes (`0x10`) included. */
function readNumber(literal: ts.NumericLiteral): number {
  return Number(literal.text.replace(/_/g, ""));
}

/**
 * Every name `initializer` reads from outside itself, as an import of the generated file: an
 * import of the model file is copied, a name the model file exports is imported from it, a global
 * needs nothing. Anything else (a local the model file does not export) is reported.
 */
function resolveImports(state: AnalyzerState, initializer: ts.Expression, file: ts.SourceFile, propertyName: string, inModel: RelatedSpan): DefaultImportInfo[] {
  const found = new Map<string, DefaultImportInfo>();
  const reported = new Set<string>();
  const visit = (node: ts.Node, inType: boolean): void => {
    const typePosition = inType || ts.isTypeNode(node);
    if (ts.isIdentifier(node) && isReference(node)) {
      const info = resolveName(state, node, file, initializer, typePosition);
      if (info === "typeOnly") {
        if (!reported.has(node.text)) {
          reported.add(node.text);
          state.diagnostics.push(
            createDiagnostic("defaultNotImportable", {
              message: `The default of "${propertyName}" uses "${node.text}" as a value, but "${node.text}" is only a type, so the generated file has nothing to import.`,
              span: createSourceSpan(node, file),
              related: [inModel],
              hint: typeOnlyHint(node),
            }),
          );
        }
      } else if (info === "unreachable") {
        if (!reported.has(node.text)) {
          reported.add(node.text);
          state.diagnostics.push(
            createDiagnostic("defaultNotImportable", {
              message: `The default of "${propertyName}" uses "${node.text}", which the generated file cannot import.`,
              span: createSourceSpan(node, file),
              related: [inModel],
              hint: `export "${node.text}" from ${baseName(file.fileName)} (or import it from a module), so the generated file can import it`,
            }),
          );
        }
      } else if (info !== undefined) {
        const existing = found.get(info.local);
        // A name used as a value anywhere needs a value import.
        if (existing === undefined) found.set(info.local, info);
        else if (!info.typeOnly) existing.typeOnly = false;
      }
    }
    node.forEachChild((child) => visit(child, typePosition));
  };
  visit(initializer, false);
  return [...found.values()].sort((a, b) => (a.local < b.local ? -1 : a.local > b.local ? 1 : 0));
}

/** Whether an identifier names something (not a member name after `.`, a property key or a label). */
function isReference(node: ts.Identifier): boolean {
  const parent = node.parent;
  if (ts.isPropertyAccessExpression(parent) && parent.name === node) return false;
  if (ts.isQualifiedName(parent) && parent.right === node) return false;
  if ((ts.isPropertyAssignment(parent) || ts.isMethodDeclaration(parent) || ts.isPropertySignature(parent) || ts.isGetAccessor(parent) || ts.isSetAccessor(parent)) && parent.name === node) return false;
  if (ts.isBindingElement(parent) && parent.propertyName === node) return false;
  if ((ts.isLabeledStatement(parent) || ts.isBreakOrContinueStatement(parent)) && parent.label === node) return false;
  if (ts.isMetaProperty(parent)) return false;
  return true;
}

/**
 * How the generated file gets `node`'s binding: an import (`DefaultImportInfo`), nothing needed
 * (`undefined`: a global, or a name the expression declares itself), `"unreachable"`, or
 * `"typeOnly"` (an imported name with no value, used as one).
 */
function resolveName(state: AnalyzerState, node: ts.Identifier, file: ts.SourceFile, initializer: ts.Expression, inType: boolean): DefaultImportInfo | "unreachable" | "typeOnly" | undefined {
  const parent = node.parent;
  const symbol = ts.isShorthandPropertyAssignment(parent) && parent.name === node ? state.checker.getShorthandAssignmentValueSymbol(parent) : state.checker.getSymbolAtLocation(node);
  if (symbol === undefined) {
    // In a value position the checker sees no value named so; an import of a type-only name
    // (asymgen's `Types`, used as Realm JS's `new Types.Decimal128()`) is still in scope.
    if (!inType && state.checker.getSymbolsInScope(node, ts.SymbolFlags.Alias).some((s) => s.name === node.text)) return "typeOnly";
    return undefined; // `undefined`, or a name the checker already reports.
  }
  const declaration = symbol.declarations?.[0];
  if (declaration === undefined) return undefined; // `globalThis` and other built-in symbols.
  // A parameter or local of an arrow function inside the expression travels with it.
  if (declaration.getSourceFile() === file && declaration.pos >= initializer.pos && declaration.end <= initializer.end) return undefined;
  if (symbol.flags & ts.SymbolFlags.Alias) {
    // asymgen's `Types` is a namespace of types only, where Realm JS's also holds classes
    // (`new Types.Decimal128()`): copied as is, the generated file would not compile.
    if (!inType && (state.checker.getAliasedSymbol(symbol).flags & ts.SymbolFlags.Value) === 0) return "typeOnly";
    const imported = readImport(declaration, node.text);
    if (imported !== undefined) return { ...imported, typeOnly: inType };
    return "unreachable"; // `import x = require(…)`, `export import`: no ESM import to copy.
  }
  if (declaration.getSourceFile() !== file) return undefined; // a global (lib, @types, `declare global`).
  if (declaration.parent !== undefined && isClassMemberOfModelFile(declaration)) return "unreachable";
  const exportedAs = findExportName(state, file, symbol);
  if (exportedAs === undefined) return "unreachable";
  return { imported: exportedAs, local: node.text, typeOnly: inType };
}

/** The value Realm JS's `Types.X` stands for, spelled with what asymgen exports as values. */
const typesValues: Record<string, string> = {
  Decimal128: 'new Decimal128("0") with Decimal128 imported from "asymgen"',
  ObjectId: 'new ObjectId() with ObjectId imported from "asymgen"',
  UUID: 'new UUID() with UUID imported from "asymgen"',
  Date: "new Date()",
  Data: "new ArrayBuffer(0) or new Uint8Array()",
};

/** The fix for a type-only name used as a value: for `Types.X`, the value it stands for in Realm JS. */
function typeOnlyHint(node: ts.Identifier): string {
  const parent = node.parent;
  const member = ts.isPropertyAccessExpression(parent) && parent.expression === node ? parent.name.text : undefined;
  const value = member === undefined ? undefined : typesValues[member];
  if (value !== undefined) return `write ${value}`;
  return `use a value in the default; "${node.text}" can only annotate types`;
}

/** Class members, type parameters and the like are never importable. */
function isClassMemberOfModelFile(declaration: ts.Declaration): boolean {
  return ts.isClassElement(declaration) || ts.isTypeParameterDeclaration(declaration) || ts.isParameter(declaration);
}

/** The import a model file's import declaration gives `local`: module specifier and imported name. */
function readImport(declaration: ts.Declaration, local: string): Omit<DefaultImportInfo, "typeOnly"> | undefined {
  let importDeclaration: ts.ImportDeclaration | ts.JSDocImportTag;
  let imported: string;
  if (ts.isImportSpecifier(declaration)) {
    importDeclaration = declaration.parent.parent.parent;
    imported = declaration.propertyName?.text ?? local;
  } else if (ts.isImportClause(declaration)) {
    importDeclaration = declaration.parent;
    imported = "default";
  } else if (ts.isNamespaceImport(declaration)) {
    importDeclaration = declaration.parent.parent;
    imported = "*";
  } else {
    return undefined;
  }
  if (!ts.isImportDeclaration(importDeclaration) || !ts.isStringLiteral(importDeclaration.moduleSpecifier)) return undefined;
  return { from: importDeclaration.moduleSpecifier.text, imported, local };
}

/** The name under which the model file exports `symbol` (`export const`, `export { e }`, `export { e as f }`). */
function findExportName(state: AnalyzerState, file: ts.SourceFile, symbol: ts.Symbol): string | undefined {
  const moduleSymbol = state.checker.getSymbolAtLocation(file);
  if (moduleSymbol === undefined) return undefined;
  const own = state.checker.getExportSymbolOfSymbol(symbol);
  let fallback: string | undefined;
  for (const exported of state.checker.getExportsOfModule(moduleSymbol)) {
    const target = exported.flags & ts.SymbolFlags.Alias ? state.checker.getAliasedSymbol(exported) : exported;
    if (exported !== own && target !== symbol && target !== own) continue;
    // Prefer the local name itself, so the generated file reads as the model file does.
    if (exported.name === symbol.name) return exported.name;
    fallback ??= exported.name;
  }
  return fallback;
}

function baseName(fileName: string): string {
  return fileName.slice(fileName.lastIndexOf("/") + 1);
}
