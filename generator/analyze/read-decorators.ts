/**
 * Reads asymgen decorators off a class or property: a decorator counts when its callee's symbol
 * resolves to asymgen's declaration, whatever it is called locally.
 */
import { ts } from "../ts-morph.cjs";
import type { DecoratorInfo, ModelKind, SourceSpan } from "../model/model-info.js";
import { createDiagnostic } from "../diagnostics/create-diagnostic.js";
import type { AnalyzerState } from "./analyze-context.js";
import { createSourceSpan } from "./source-span.js";

const decoratorNames = new Set<DecoratorInfo["name"]>(["RealmModel", "PrimaryKey", "MapTo", "Indexed", "Ignored"]);

/** One asymgen decorator with the syntax facts its readers need. */
export interface ReadDecorator {
  info: DecoratorInfo;
  /** The call's arguments (empty for a bare `@Name`). */
  arguments: readonly ts.Expression[];
}

/** The asymgen decorators on `node`, in source order; foreign decorators are left out. */
export function readDecorators(state: AnalyzerState, node: ts.HasDecorators, file: ts.SourceFile, report = true): ReadDecorator[] {
  const decorators = ts.getDecorators(node);
  if (decorators === undefined) return [];
  const result: ReadDecorator[] = [];
  for (const decorator of decorators) {
    const expression = readConstantDecoratorCall(state, decorator.expression, file) ?? decorator.expression;
    const callee = ts.isCallExpression(expression) ? expression.expression : expression;
    const known = state.symbols.classifyNode(callee);
    if (known?.origin !== "decorators" || !decoratorNames.has(known.name as DecoratorInfo["name"])) continue;
    const args = ts.isCallExpression(expression) ? expression.arguments : ([] as readonly ts.Expression[]);
    const info: DecoratorInfo = { name: known.name as DecoratorInfo["name"], span: createSourceSpan(decorator, file) };
    if (info.name === "MapTo") {
      const value = readStringConstant(state, args[0]);
      if (value !== undefined) info.argument = value;
      else if (report) {
        state.diagnostics.push(
          createDiagnostic("mapToNotConstant", {
            message: `The argument of @MapTo must be a string literal (or a constant of a string literal type); found ${args[0] === undefined ? "none" : `\`${args[0].getText(file)}\``}.`,
            span: args[0] === undefined ? info.span : createSourceSpan(args[0], file),
            hint: 'write the persisted name as a literal, e.g. @MapTo("_id")',
          }),
        );
      }
    }
    result.push({ info, arguments: args });
  }
  return result;
}

/**
 * `@realmModel` where the same file declares `const realmModel = RealmModel(ObjectType.…)`: the
 * call the constant holds (realm-dart accepts such a constant annotation; `undefined` otherwise).
 * Only a constant of the same file is followed, so the call's spans stay in the file read.
 */
function readConstantDecoratorCall(state: AnalyzerState, expression: ts.Expression, file: ts.SourceFile): ts.CallExpression | undefined {
  if (!ts.isIdentifier(expression)) return undefined;
  const declaration = state.checker.getSymbolAtLocation(expression)?.valueDeclaration;
  if (declaration === undefined || !ts.isVariableDeclaration(declaration) || declaration.getSourceFile() !== file) return undefined;
  const list = declaration.parent;
  if (!ts.isVariableDeclarationList(list) || (list.flags & ts.NodeFlags.Const) === 0) return undefined;
  const initializer = declaration.initializer;
  return initializer !== undefined && ts.isCallExpression(initializer) ? initializer : undefined;
}

/** The string literal value an expression has by type (`"x"`, or a `const` holding it). */
function readStringConstant(state: AnalyzerState, expression: ts.Expression | undefined): string | undefined {
  if (expression === undefined) return undefined;
  if (ts.isStringLiteralLike(expression)) return expression.text;
  const type = state.checker.getTypeAtLocation(expression);
  return type.isStringLiteral() ? type.value : undefined;
}

/** What `@RealmModel(kind)` declares, read from the argument's enum member symbol. */
export interface ModelHeader {
  kind: ModelKind;
  /** The kind argument as written, when one is given. */
  kindText?: string;
  /** The class-level `@MapTo` value. */
  mapTo?: string;
  /** Set when the argument is given but is not an `ObjectType` member (already reported). */
  kindUnresolved: boolean;
}

const kindsByMember: Record<string, ModelKind> = {
  "ObjectType.asymmetricObject": "asymmetric",
  "ObjectType.embeddedObject": "embedded",
  "ObjectType.realmObject": "realmObject",
};

/** Reads the kind from a `@RealmModel` decorator, reporting an argument that is not a constant kind. */
export function readModelKind(
  state: AnalyzerState,
  decorator: ReadDecorator,
  file: ts.SourceFile,
  report: boolean,
): { kind: ModelKind; kindText?: string; kindUnresolved: boolean } {
  const argument = decorator.arguments[0];
  if (argument === undefined) return { kind: "none", kindUnresolved: false };
  const kindText = argument.getText(file);
  const type = state.checker.getTypeAtLocation(argument);
  // An enum member's literal type carries the member's symbol, so `const K = ObjectType.x` works too.
  const symbol = type.flags & ts.TypeFlags.EnumLiteral ? type.getSymbol() : state.symbols.getSymbol(argument);
  const known = symbol === undefined ? undefined : state.symbols.classify(symbol);
  const kind = known?.origin === "decorators" ? kindsByMember[known.name] : undefined;
  if (kind !== undefined) return { kind, kindText, kindUnresolved: false };
  if (report) {
    state.diagnostics.push(
      createDiagnostic("modelKindNotConstant", {
        message: `The argument of @RealmModel must be an ObjectType member; \`${kindText}\` is not.`,
        span: createSourceSpan(argument, file),
        hint: "write @RealmModel(ObjectType.asymmetricObject) or @RealmModel(ObjectType.embeddedObject)",
      }),
    );
  }
  return { kind: "none", kindText, kindUnresolved: true };
}

/** The span of a class's name (or of its `class` keyword when it has none). */
export function spanOfClassName(node: ts.ClassDeclaration, file: ts.SourceFile): SourceSpan {
  return createSourceSpan(node.name ?? node, file);
}

/** A class's model facts: its asymgen decorators, kind and persisted name; `undefined` if not a model. */
export interface ClassHeader {
  decorators: ReadDecorator[];
  /** The class name (`_Reading`); empty for an anonymous class. */
  className: string;
  /** The generated name: the class name without its `_`/`$` prefix. */
  name: string;
  kind: ModelKind;
  kindText?: string;
  kindUnresolved: boolean;
  mapTo?: string;
}

/** Reads a class's header; `report` is false when the class is only a link's target. */
export function readClassHeader(
  state: AnalyzerState,
  node: ts.ClassDeclaration,
  report: boolean,
): ClassHeader | undefined {
  const file = node.getSourceFile();
  const decorators = readDecorators(state, node, file, report);
  const model = decorators.find((d) => d.info.name === "RealmModel");
  if (model === undefined) return undefined;
  const className = node.name?.text ?? "";
  const { kind, kindText, kindUnresolved } = readModelKind(state, model, file, report);
  const header: ClassHeader = { decorators, className, name: stripModelPrefix(className), kind, kindUnresolved };
  if (kindText !== undefined) header.kindText = kindText;
  const mapTo = decorators.find((d) => d.info.name === "MapTo")?.info.argument;
  if (mapTo !== undefined) header.mapTo = mapTo;
  return header;
}

/** `_Reading` and `$Reading` become `Reading`; a name without the prefix stays as it is. */
export function stripModelPrefix(className: string): string {
  return className.length > 1 && (className.startsWith("_") || className.startsWith("$")) ? className.slice(1) : className;
}
