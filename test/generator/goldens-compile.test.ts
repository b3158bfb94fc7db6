/**
 * Generated code compiles under the strictest settings a user may have (strict,
 * exactOptionalPropertyTypes, noUncheckedIndexedAccess, noUnusedLocals/Parameters,
 * verbatimModuleSyntax) against the real runtime; and misuse of it does not compile.
 */
import { describe, expect, test } from "@jest/globals";
import fs from "node:fs";
import path from "node:path";
import ts from "typescript";
import { repoRoot } from "./support/create-model-project.js";

const options: ts.CompilerOptions = {
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
    asymgen: [path.join(repoRoot, "runtime/index.ts")],
    "asymgen/codegen": [path.join(repoRoot, "runtime/codegen/index.ts")],
  },
};

function diagnosticsOf(files: string[], overrides: Map<string, string> = new Map()): ts.Diagnostic[] {
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  host.readFile = (file) => overrides.get(path.resolve(file)) ?? readFile(file);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (file, language, onError, create) => {
    const text = overrides.get(path.resolve(file));
    return text === undefined ? getSourceFile(file, language, onError, create) : ts.createSourceFile(file, text, language);
  };
  const program = ts.createProgram(files, options, host);
  return ts.getPreEmitDiagnostics(program);
}

function show(diagnostics: readonly ts.Diagnostic[]): string[] {
  return diagnostics.map((d) => {
    const where = d.file && d.start !== undefined ? `${path.relative(repoRoot, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}` : "";
    return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
  });
}

describe("goldens compile", () => {
  test("every fixtures/type-*/expected file and the weather example, strict, against the runtime source", () => {
    const fixtures = path.join(repoRoot, "fixtures");
    const files = fs
      .readdirSync(fixtures, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile() && entry.name.endsWith(".realm.ts") && path.relative(fixtures, entry.parentPath).match(/^type-[^/]+\/expected/))
      .map((entry) => path.join(entry.parentPath, entry.name));
    files.push(path.join(repoRoot, "examples/weather/models.realm.ts"));
    expect(files.length).toBeGreaterThanOrEqual(14);
    expect(show(diagnosticsOf(files))).toEqual([]);
  });
});

describe("misuse fails to compile", () => {
  const file = path.join(repoRoot, "test/generator/misuse/weather-misuse.ts");
  const text = fs.readFileSync(file, "utf8");
  const lines = text.split("\n");
  const markers = lines.flatMap((line, index) => (line.trim().startsWith("// @ts-expect-error") ? [index] : []));

  test("the misuse file has its expected errors and no others", () => {
    expect(markers.length).toBeGreaterThanOrEqual(10);
    expect(show(diagnosticsOf([file]))).toEqual([]);
  });

  test("without the markers, every marked line fails on its own", () => {
    const stripped = lines.map((line, index) => (markers.includes(index) ? "" : line)).join("\n");
    const failingLines = new Set(
      diagnosticsOf([file], new Map([[file, stripped]]))
        .filter((d) => d.file !== undefined && path.resolve(d.file.fileName) === file && d.start !== undefined)
        .map((d) => d.file!.getLineAndCharacterOfPosition(d.start!).line),
    );
    // A marker covers the line after it.
    expect(markers.map((index) => index + 1).filter((line) => !failingLines.has(line))).toEqual([]);
  });
});
