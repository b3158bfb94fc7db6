/**
 * Test support: runs analysis and validation on a fixture case's input/ exactly as the harness
 * does (strict, "asymgen" mapped to the runtime source, decorators in TC39 mode unless the case's
 * options.json says otherwise) and renders the diagnostics relative to the case folder.
 */
import fs from "node:fs";
import path from "node:path";
import { Project, ts, type CompilerOptions } from "ts-morph";
import { analyzeSourceFiles } from "../../../generator/analyze/analyze-source-files.js";
import { sortDiagnostics } from "../../../generator/diagnostics/create-diagnostic.js";
import type { Diagnostic } from "../../../generator/diagnostics/diagnostic.js";
import { renderDiagnostics } from "../../../generator/diagnostics/render-diagnostics.js";
import type { ProjectInfo } from "../../../generator/model/model-info.js";
import { validateProject } from "../../../generator/validate/validate-project.js";
import { createModelCompilerOptions, repoRoot } from "./create-model-project.js";

/** A fixture case's options.json: what the case needs beyond the defaults. */
export interface FixtureOptions {
  /** Laid over the harness's compiler options (e.g. `{ "experimentalDecorators": true }`). */
  compilerOptions?: Record<string, unknown>;
  [key: string]: unknown;
}

/** Reads `<case>/options.json`, or `{}`. */
export function readFixtureOptions(caseDir: string): FixtureOptions {
  const file = path.join(caseDir, "options.json");
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as FixtureOptions) : {};
}

/** The compiler options fixtures are analysed with: a model project's, with the case's overrides. */
export function fixtureCompilerOptions(overrides: Record<string, unknown> = {}): CompilerOptions {
  const converted = ts.convertCompilerOptionsFromJson(overrides, repoRoot);
  return { ...createModelCompilerOptions(), ...converted.options };
}

/** Every `.ts` file under `dir`, sorted, generated files excluded. */
export function listTsFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const found: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith(".ts") && !entry.name.endsWith(".realm.ts") && !entry.name.endsWith(".d.ts")) {
      found.push(path.join(entry.parentPath, entry.name));
    }
  }
  return found.sort();
}

/**
 * One project per distinct compiler options, shared by the cases that use them: every case's
 * files are modules, so they coexist, and the program (lib files included) is built once.
 */
const sharedProjects = new Map<string, Project>();

function getSharedProject(options: FixtureOptions): Project {
  const key = JSON.stringify(options.compilerOptions ?? {});
  let project = sharedProjects.get(key);
  if (project === undefined) {
    project = new Project({ skipAddingFilesFromTsConfig: true, compilerOptions: fixtureCompilerOptions(options.compilerOptions) });
    sharedProjects.set(key, project);
  }
  return project;
}

/** Adds every case's input files up front, so the shared programs are built once, not once per case. */
export function preloadFixtures(caseDirs: readonly string[]): void {
  for (const caseDir of caseDirs) {
    const project = getSharedProject(readFixtureOptions(caseDir));
    for (const file of listTsFiles(path.join(caseDir, "input"))) project.addSourceFileAtPathIfExists(file);
  }
}

/** Analyses and validates a case's input/, returning the IR, diagnostics and their text rendering. */
export function analyzeFixture(caseDir: string): { project: ProjectInfo; diagnostics: Diagnostic[]; text: string } {
  const project = getSharedProject(readFixtureOptions(caseDir));
  const files = listTsFiles(path.join(caseDir, "input")).map((file) => project.getSourceFile(file) ?? project.addSourceFileAtPath(file));
  const analysis = analyzeSourceFiles(files, { project });
  const diagnostics = sortDiagnostics([...analysis.diagnostics, ...validateProject(analysis.project)]);
  return { project: analysis.project, diagnostics, text: renderDiagnostics(diagnostics, { format: "text", cwd: caseDir }) };
}
