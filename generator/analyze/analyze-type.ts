/**
 * Maps a property's type, as written, to TypeInfo. Each type reference is followed to its
 * declaration by symbol: `Types.Int` and `Types.Double` are both `number` to the checker, so the
 * reference itself decides. User aliases (generic ones too) are expanded; anything unknown
 * becomes an `unsupported` TypeInfo that validate/ reports.
 */
import { ts } from "../ts-morph.cjs";
import type { SourceSpan, TypeInfo, UnsupportedTypeInfo } from "../model/model-info.js";
import type { ScalarTypeName } from "asymgen/schema";
import type { AnalyzerState } from "./analyze-context.js";
import { readClassHeader } from "./read-decorators.js";
import { createSourceSpan } from "./source-span.js";

/** Type parameters of an expanded generic alias, bound to the type arguments at its use. */
type Substitution = ReadonlyMap<ts.Symbol, { node: ts.TypeNode; substitution: Substitution }>;

const noSubstitution: Substitution = new Map();

/** How deep alias expansion may go before a self-referencing alias is declared unsupported. */
const maxAliasDepth = 32;

const typesScalars: Record<string, ScalarTypeName> = {
  Bool: "bool",
  String: "string",
  Int: "int",
  Float: "float",
  Double: "double",
  Decimal128: "decimal128",
  ObjectId: "objectId",
  UUID: "uuid",
  Date: "date",
  Data: "data",
  Mixed: "mixed",
};

const bsonScalars: Record<string, ScalarTypeName> = { ObjectId: "objectId", UUID: "uuid", Decimal128: "decimal128" };

const libScalars: Record<string, ScalarTypeName> = { Date: "date", Uint8Array: "data", ArrayBuffer: "data" };

/** Analyses a type node written on a property (or inside another type). */
export function analyzeTypeNode(state: AnalyzerState, node: ts.TypeNode, file: ts.SourceFile): TypeInfo {
  return new TypeAnalyzer(state).analyze(node, file, noSubstitution, 0);
}

/** Infers a property's type from its initializer (`kind = "x"`, `n = 0`, `at = new Date()`). */
export function inferTypeFromInitializer(state: AnalyzerState, declaration: ts.PropertyDeclaration, file: ts.SourceFile): TypeInfo {
  const initializer = declaration.initializer as ts.Expression;
  const span = createSourceSpan(initializer, file);
  const analyzer = new TypeAnalyzer(state);
  let expression = initializer;
  while (ts.isParenthesizedExpression(expression)) expression = expression.expression;
  // A type written in the initializer decides, as on a property: the checker sees `Types.Int`
  // as `number`, so `new Set<Types.Int>()` would otherwise become a set of doubles.
  if ((ts.isAsExpression(expression) || ts.isTypeAssertionExpression(expression)) && !isConstAssertion(expression.type)) {
    return analyzer.analyze(expression.type, file, noSubstitution, 0);
  }
  const inferred = analyzer.fromType(state.checker.getTypeAtLocation(declaration.name), span, 0);
  const typeArgument = ts.isNewExpression(expression) && expression.typeArguments?.length === 1 ? expression.typeArguments[0] : undefined;
  if (typeArgument !== undefined && (inferred.kind === "list" || inferred.kind === "set")) {
    return { ...inferred, element: analyzer.analyze(typeArgument, file, noSubstitution, 0) };
  }
  return inferred;
}

/** `as const` names no type to analyse. */
function isConstAssertion(type: ts.TypeNode): boolean {
  return ts.isTypeReferenceNode(type) && ts.isIdentifier(type.typeName) && type.typeName.text === "const";
}

class TypeAnalyzer {
  constructor(private readonly state: AnalyzerState) {}

  analyze(node: ts.TypeNode, file: ts.SourceFile, substitution: Substitution, depth: number): TypeInfo {
    const span = createSourceSpan(node, file);
    const text = node.getText(file);
    switch (node.kind) {
      case ts.SyntaxKind.ParenthesizedType:
        return this.analyze((node as ts.ParenthesizedTypeNode).type, file, substitution, depth);
      case ts.SyntaxKind.TypeOperator: {
        const operator = node as ts.TypeOperatorNode;
        // `readonly T[]` is a list the model does not mutate: the same database type.
        if (operator.operator === ts.SyntaxKind.ReadonlyKeyword) return this.analyze(operator.type, file, substitution, depth);
        return unsupported("other", text, span);
      }
      case ts.SyntaxKind.StringKeyword:
        return scalar("string", text, span);
      case ts.SyntaxKind.BooleanKeyword:
        return scalar("bool", text, span);
      case ts.SyntaxKind.NumberKeyword:
        return scalar("double", text, span);
      case ts.SyntaxKind.BigIntKeyword:
        return scalar("int", text, span);
      case ts.SyntaxKind.AnyKeyword:
        return unsupported("any", text, span);
      case ts.SyntaxKind.UnknownKeyword:
        return unsupported("unknown", text, span);
      case ts.SyntaxKind.ArrayType:
        return this.collection("list", this.analyze((node as ts.ArrayTypeNode).elementType, file, substitution, depth), text, span);
      case ts.SyntaxKind.TupleType:
        return unsupported("tuple", text, span);
      case ts.SyntaxKind.FunctionType:
      case ts.SyntaxKind.ConstructorType:
        return unsupported("function", text, span);
      case ts.SyntaxKind.UnionType:
        return this.union(node as ts.UnionTypeNode, file, substitution, depth, text, span);
      case ts.SyntaxKind.TypeLiteral:
        return this.typeLiteral(node as ts.TypeLiteralNode, file, substitution, depth, text, span);
      case ts.SyntaxKind.TypeReference:
        return this.reference(node as ts.TypeReferenceNode, file, substitution, depth, text, span);
      default:
        return unsupported("other", text, span);
    }
  }

  private union(node: ts.UnionTypeNode, file: ts.SourceFile, substitution: Substitution, depth: number, text: string, span: SourceSpan): TypeInfo {
    let nullable = false;
    let optional = false;
    const members: ts.TypeNode[] = [];
    for (const member of node.types) {
      if (ts.isLiteralTypeNode(member) && member.literal.kind === ts.SyntaxKind.NullKeyword) {
        nullable = true;
        optional = true;
      } else if (member.kind === ts.SyntaxKind.UndefinedKeyword) {
        optional = true;
      } else {
        members.push(member);
      }
    }
    if (members.length === 0) return unsupported("other", text, span);
    const analysed = members.map((member) => this.analyze(member, file, substitution, depth));
    const first = analysed[0] as TypeInfo;
    // `ArrayBuffer | Uint8Array` (what Types.Data expands to) is one database type, not a union.
    const same = analysed.every((t) => t.kind === "scalar" && first.kind === "scalar" && t.scalar === first.scalar);
    if (analysed.length > 1 && !same) return unsupported("union", text, span);
    // One member beside null/undefined: keep it as written, for fixes that drop the null.
    const nonNull = analysed.length === 1 && (optional || nullable) ? (first.nonNull ?? { text: first.text, span: first.span }) : first.nonNull;
    return { ...first, optional: first.optional || optional, nullable: first.nullable || nullable, text, span, ...(nonNull === undefined ? {} : { nonNull }) };
  }

  /** `{ [key: string]: T }` is a dictionary; any other object literal type is not persistable. */
  private typeLiteral(node: ts.TypeLiteralNode, file: ts.SourceFile, substitution: Substitution, depth: number, text: string, span: SourceSpan): TypeInfo {
    const member = node.members[0];
    if (node.members.length !== 1 || member === undefined || !ts.isIndexSignatureDeclaration(member) || member.type === undefined) {
      return unsupported("objectLiteral", text, span);
    }
    const key = member.parameters[0]?.type;
    const element = this.analyze(member.type, file, substitution, depth);
    const result = this.collection("dictionary", element, text, span);
    if (key !== undefined && key.kind !== ts.SyntaxKind.StringKeyword) result.badKeyText = key.getText(file);
    return result;
  }

  /** Where an unresolved name (`Missing`, `ns.Missing`) is imported from, and whether that module resolves. */
  private findImportOf(name: ts.EntityName): { specifier: string; moduleFound: boolean } | undefined {
    let first: ts.EntityName = name;
    while (ts.isQualifiedName(first)) first = first.left;
    const declaration = this.state.checker.getSymbolAtLocation(first)?.declarations?.[0];
    if (declaration === undefined) return undefined;
    const importDeclaration = ts.isImportSpecifier(declaration)
      ? declaration.parent.parent.parent
      : ts.isNamespaceImport(declaration)
        ? declaration.parent.parent
        : ts.isImportClause(declaration)
          ? declaration.parent
          : undefined;
    if (importDeclaration === undefined || !ts.isImportDeclaration(importDeclaration) || !ts.isStringLiteral(importDeclaration.moduleSpecifier)) return undefined;
    return { specifier: importDeclaration.moduleSpecifier.text, moduleFound: this.state.checker.getSymbolAtLocation(importDeclaration.moduleSpecifier) !== undefined };
  }

  private reference(node: ts.TypeReferenceNode, file: ts.SourceFile, substitution: Substitution, depth: number, text: string, span: SourceSpan): TypeInfo {
    const symbol = this.state.symbols.getSymbol(node.typeName);
    if (symbol === undefined || symbol.declarations === undefined || symbol.declarations.length === 0) {
      // Realm JS's backlink type (`Types.LinkingObjects<Person, "friends">`), which asymgen does
      // not declare: named for what it is, so the message can say why it has no place here.
      if (rightmostName(node.typeName) === "LinkingObjects") return unsupported("linkingObjects", text, span);
      const result = unsupported("unresolved", text, span);
      const importedFrom = this.findImportOf(node.typeName);
      if (importedFrom !== undefined) result.importedFrom = importedFrom;
      return result;
    }
    const bound = substitution.get(symbol);
    if (bound !== undefined) {
      const type = this.analyze(bound.node, bound.node.getSourceFile(), bound.substitution, depth + 1);
      return { ...type, text, span };
    }
    const args = node.typeArguments ?? [];
    const arg = (index: number): TypeInfo => {
      const argument = args[index];
      return argument === undefined ? unsupported("other", text, span) : this.analyze(argument, file, substitution, depth);
    };
    const known = this.state.symbols.classify(symbol);
    if (known?.origin === "types") {
      if (known.name === "MixedValue") return mixed(text, span);
      if (known.inTypesNamespace) {
        const scalarName = typesScalars[known.name];
        if (scalarName === "mixed") return mixed(text, span);
        if (scalarName !== undefined) return scalar(scalarName, text, span);
        if (known.name === "List") return this.collection("list", arg(0), text, span);
        if (known.name === "Set") return this.collection("set", arg(0), text, span);
        // `Types.Dictionary` alone is a dictionary of mixed values (its type parameter's default).
        if (known.name === "Dictionary") return this.collection("dictionary", args[0] === undefined ? mixed(text, span) : arg(0), text, span);
      }
      return unsupported("other", text, span);
    }
    if (known?.origin === "bson") {
      const scalarName = bsonScalars[known.name];
      return scalarName === undefined ? unsupported("other", text, span) : scalar(scalarName, text, span);
    }
    if (known?.origin === "lib") return this.libReference(known.name, node, file, substitution, depth, text, span, arg);
    // A class merged with an interface of the same name is still the class.
    const declaration = symbol.declarations.find(ts.isClassDeclaration) ?? (symbol.declarations[0] as ts.Declaration);
    if (ts.isClassDeclaration(declaration)) return this.link(declaration, text, span);
    if (ts.isInterfaceDeclaration(declaration)) return unsupported("interface", text, span);
    // `Kind` and `Kind.A` (an enum member used as a type) both name an enum.
    if (ts.isEnumDeclaration(declaration) || ts.isEnumMember(declaration)) return unsupported("enum", text, span);
    if (ts.isTypeAliasDeclaration(declaration)) {
      if (depth >= maxAliasDepth) return unsupported("other", text, span);
      const inner = new Map(noSubstitution) as Map<ts.Symbol, { node: ts.TypeNode; substitution: Substitution }>;
      for (const [index, parameter] of (declaration.typeParameters ?? []).entries()) {
        const parameterSymbol = this.state.checker.getSymbolAtLocation(parameter.name);
        const argument = args[index] ?? parameter.default;
        if (parameterSymbol !== undefined && argument !== undefined) inner.set(parameterSymbol, { node: argument, substitution: argument === args[index] ? substitution : inner });
      }
      const type = this.analyze(declaration.type, declaration.getSourceFile(), inner, depth + 1);
      return { ...type, text, span };
    }
    return unsupported("other", text, span);
  }

  private libReference(
    name: string,
    node: ts.TypeReferenceNode,
    file: ts.SourceFile,
    substitution: Substitution,
    depth: number,
    text: string,
    span: SourceSpan,
    arg: (index: number) => TypeInfo,
  ): TypeInfo {
    const scalarName = libScalars[name];
    if (scalarName !== undefined) return scalar(scalarName, text, span);
    switch (name) {
      case "Array":
      case "ReadonlyArray":
        return this.collection("list", arg(0), text, span);
      case "Set":
      case "ReadonlySet":
        return this.collection("set", arg(0), text, span);
      case "Record": {
        const key = node.typeArguments?.[0];
        const result = this.collection("dictionary", arg(1), text, span);
        if (key !== undefined && !this.isStringKey(key, file, substitution, depth)) result.badKeyText = key.getText(file);
        return result;
      }
      case "Map":
      case "ReadonlyMap":
      case "WeakMap":
        return unsupported("map", text, span);
      case "Function":
        return unsupported("function", text, span);
      default:
        return unsupported("other", text, span);
    }
  }

  private isStringKey(key: ts.TypeNode, file: ts.SourceFile, substitution: Substitution, depth: number): boolean {
    const type = this.analyze(key, file, substitution, depth);
    return type.kind === "scalar" && type.scalar === "string" && !type.optional;
  }

  private link(declaration: ts.ClassDeclaration, text: string, span: SourceSpan): TypeInfo {
    let target = this.state.linkTargets.get(declaration);
    if (target === undefined) {
      const header = readClassHeader(this.state, declaration, false);
      target =
        header === undefined
          ? null
          : { name: header.name, persistedName: header.mapTo ?? header.name, kind: header.kind, span: createSourceSpan(declaration.name ?? declaration, declaration.getSourceFile()) };
      this.state.linkTargets.set(declaration, target);
    }
    const result: TypeInfo = {
      kind: "link",
      targetClass: declaration.name?.text ?? "",
      targetFile: declaration.getSourceFile().fileName,
      optional: false,
      nullable: false,
      text,
      span,
    };
    if (target !== null) result.target = target;
    else if (!declaration.getSourceFile().isDeclarationFile) result.nonModelSpan = createSourceSpan(declaration.name ?? declaration, declaration.getSourceFile());
    return result;
  }

  private collection(kind: "list" | "set" | "dictionary", element: TypeInfo, text: string, span: SourceSpan) {
    return { kind, element, optional: false, nullable: false, text, span } as { kind: typeof kind; element: TypeInfo; optional: boolean; nullable: boolean; text: string; span: SourceSpan; badKeyText?: string };
  }

  /** Maps a checker type (an initializer's widened type) for properties written without a type. */
  fromType(type: ts.Type, span: SourceSpan, depth: number): TypeInfo {
    const text = this.state.checker.typeToString(type);
    const flags = type.flags;
    if (flags & ts.TypeFlags.Any) return unsupported("any", text, span);
    if (flags & ts.TypeFlags.Unknown) return unsupported("unknown", text, span);
    // Before StringLike/NumberLike, which an enum member's literal type also matches.
    if (flags & ts.TypeFlags.EnumLike || (type.isUnion() && type.types.every((member) => member.flags & ts.TypeFlags.EnumLike))) {
      return unsupported("enum", text, span);
    }
    if (flags & ts.TypeFlags.StringLike) return scalar("string", text, span);
    if (flags & ts.TypeFlags.BooleanLike) return scalar("bool", text, span);
    if (flags & ts.TypeFlags.NumberLike) return scalar("double", text, span);
    if (flags & ts.TypeFlags.BigIntLike) return scalar("int", text, span);
    if (type.isUnion()) return unsupported("union", text, span);
    const symbol = type.getSymbol();
    if (symbol === undefined || depth > maxAliasDepth) return unsupported("other", text, span);
    const known = this.state.symbols.classify(symbol);
    if (known?.origin === "bson" && bsonScalars[known.name] !== undefined) return scalar(bsonScalars[known.name] as ScalarTypeName, text, span);
    if (known?.origin === "lib") {
      const scalarName = libScalars[known.name];
      if (scalarName !== undefined) return scalar(scalarName, text, span);
      const argument = this.state.checker.getTypeArguments(type as ts.TypeReference)[0];
      if ((known.name === "Array" || known.name === "Set") && argument !== undefined) {
        return this.collection(known.name === "Array" ? "list" : "set", this.fromType(argument, span, depth + 1), text, span);
      }
      if (known.name === "Map") return unsupported("map", text, span);
      return unsupported("other", text, span);
    }
    if (type.getCallSignatures().length > 0) return unsupported("function", text, span);
    const declaration = symbol.declarations?.[0];
    if (declaration !== undefined && ts.isClassDeclaration(declaration)) return this.link(declaration, text, span);
    if (declaration !== undefined && ts.isInterfaceDeclaration(declaration)) return unsupported("interface", text, span);
    if (declaration !== undefined && (ts.isObjectLiteralExpression(declaration) || ts.isTypeLiteralNode(declaration))) return unsupported("objectLiteral", text, span);
    return unsupported("other", text, span);
  }
}

/** The last identifier of `A.B.C` (or `C` itself). */
function rightmostName(name: ts.EntityName): string {
  return ts.isQualifiedName(name) ? name.right.text : name.text;
}

function scalar(name: ScalarTypeName, text: string, span: SourceSpan): TypeInfo {
  return { kind: "scalar", scalar: name, optional: false, nullable: false, text, span };
}

/** Realm's rule: `mixed` can always hold null, so it is optional whatever the declaration says. */
function mixed(text: string, span: SourceSpan): TypeInfo {
  return { kind: "scalar", scalar: "mixed", optional: true, nullable: true, text, span };
}

function unsupported(reason: UnsupportedTypeInfo["reason"], text: string, span: SourceSpan): UnsupportedTypeInfo {
  return { kind: "unsupported", reason, optional: false, nullable: false, text, span };
}

