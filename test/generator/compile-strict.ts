/**
 * Test support for goldens-compile and misuse: type-checks files with the strictest settings a
 * user may have (strict, exactOptionalPropertyTypes, noUncheckedIndexedAccess, noUnused*,
 * verbatimModuleSyntax), "asymgen" mapped to the runtime source; a file's text may be overridden.
 */
import path from "node:path";
import ts from "typescript";
import { repoRoot } from "./support/create-model-project.js";

const strictOptions: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  strict: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  noImplicitOverride: true,
  noUnusedLocals: true,
  noUnusedParameters: true,
  verbatimModuleSyntax: true,
  isolatedModules: true,
  skipLibCheck: true,
  noEmit: true,
  types: ["node"],
  paths: {
    asymgen: [path.join(repoRoot, "runtime/exports.ts")],
    "asymgen/codegen": [path.join(repoRoot, "runtime/codegen/index.ts")],
  },
};

/** The diagnostics of a program over `files` (`overrides`: absolute path → text to use instead). */
export function compileStrict(files: string[], overrides: Map<string, string> = new Map(), extraOptions: ts.CompilerOptions = {}): readonly ts.Diagnostic[] {
  const options = { ...strictOptions, ...extraOptions };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  host.readFile = (file) => overrides.get(path.resolve(file)) ?? readFile(file);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (file, language, onError, create) => {
    const text = overrides.get(path.resolve(file));
    return text === undefined ? getSourceFile(file, language, onError, create) : ts.createSourceFile(file, text, language);
  };
  return ts.getPreEmitDiagnostics(ts.createProgram(files, options, host));
}

/** Diagnostics as `file:line message` lines, for readable test failures. */
export function showDiagnostics(diagnostics: readonly ts.Diagnostic[]): string[] {
  return diagnostics.map((d) => {
    const where = d.file && d.start !== undefined ? `${path.relative(repoRoot, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}` : "";
    return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
  });
}
