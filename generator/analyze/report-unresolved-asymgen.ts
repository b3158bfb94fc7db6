/**
 * When a class's `@RealmModel` is imported from "asymgen" but the import does not lead to
 * asymgen's declaration (the package is not installed, or the tsconfig's module resolution
 * ignores package `exports`, like node10), no class is a model and a run would find nothing and
 * succeed. This says why instead.
 */
import { ts } from "../ts-morph.cjs";
import { createDiagnostic } from "../diagnostics/create-diagnostic.js";
import type { AnalyzerState } from "./analyze-context.js";
import { createSourceSpan } from "./source-span.js";

const ASYMGEN_SPECIFIER = /^asymgen(\/|$)/;

/** Reports a class decorator named `RealmModel`, imported from "asymgen…", that is not asymgen's; true when reported. */
export function reportUnresolvedAsymgen(state: AnalyzerState, node: ts.ClassDeclaration, file: ts.SourceFile): boolean {
  for (const decorator of ts.getDecorators(node) ?? []) {
    const callee = ts.isCallExpression(decorator.expression) ? decorator.expression.expression : decorator.expression;
    const specifier = readAsymgenImport(state, callee);
    if (specifier === undefined) continue;
    const resolved = state.symbols.getSymbol(callee);
    const declaration = resolved?.declarations?.[0];
    const where = declaration === undefined ? "does not resolve" : `resolves to ${declaration.getSourceFile().fileName}, which is not the asymgen package`;
    const resolution = describeModuleResolution(state.program.getCompilerOptions());
    state.diagnostics.push(
      createDiagnostic("asymgenNotResolved", {
        message: `@RealmModel is imported from "${specifier}", but "${specifier}" ${where} (module resolution: ${resolution}), so "${node.name?.text ?? "this class"}" is not recognised as a model.`,
        span: createSourceSpan(decorator, file),
        hint:
          specifier === "asymgen"
            ? `install asymgen in this project (npm install asymgen) and set "moduleResolution" to "node16", "nodenext" or "bundler" in tsconfig.json: asymgen's entry points are package exports`
            : `import the decorators from "asymgen" (the runtime package's entry points are "asymgen" and "asymgen/codegen")`,
      }),
    );
    return true;
  }
  return false;
}

/** The "asymgen…" specifier `callee` (`RealmModel`, `x.RealmModel`) is imported from, when its imported name is `RealmModel`. */
function readAsymgenImport(state: AnalyzerState, callee: ts.Expression): string | undefined {
  let identifier: ts.Identifier;
  let member: string | undefined;
  if (ts.isIdentifier(callee)) identifier = callee;
  else if (ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression)) {
    identifier = callee.expression;
    member = callee.name.text;
  } else return undefined;
  const symbol = state.checker.getSymbolAtLocation(identifier);
  const declaration = symbol?.declarations?.[0];
  if (declaration === undefined) return undefined;
  let importDeclaration: ts.Node;
  let imported: string | undefined;
  if (ts.isImportSpecifier(declaration) && member === undefined) {
    importDeclaration = declaration.parent.parent.parent;
    imported = (declaration.propertyName ?? declaration.name).text;
  } else if (ts.isNamespaceImport(declaration) && member !== undefined) {
    importDeclaration = declaration.parent.parent;
    imported = member;
  } else return undefined;
  if (imported !== "RealmModel" || !ts.isImportDeclaration(importDeclaration) || !ts.isStringLiteral(importDeclaration.moduleSpecifier)) return undefined;
  const specifier = importDeclaration.moduleSpecifier.text;
  return ASYMGEN_SPECIFIER.test(specifier) ? specifier : undefined;
}

function describeModuleResolution(options: ts.CompilerOptions): string {
  const kind = options.moduleResolution;
  if (kind === undefined) return `the default for module ${options.module === undefined ? "(unset)" : (ts.ModuleKind[options.module] ?? String(options.module)).toLowerCase()}`;
  // ts.ModuleResolutionKind.Node10 is also called NodeJs; print the name tsconfig uses.
  return kind === ts.ModuleResolutionKind.Node10 ? "node10" : (ts.ModuleResolutionKind[kind] ?? String(kind)).toLowerCase();
}
