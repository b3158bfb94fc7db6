/**
 * Turns the paths a user gave (files, folders, globs) or the tsconfig's file list into the set
 * of input source files, added to the ts-morph project.
 */
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import type { Project } from "ts-morph";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { displayPath, type ProjectSetup } from "../config/resolve-project-setup.js";
import { createDiagnostic } from "../diagnostics/create-diagnostic.js";
import { isGlobPattern, isInputFile } from "./is-input-file.js";

/** The inputs found: absolute paths, sorted so every later step runs in a stable order. */
export interface DiscoveredInputs {
  files: string[];
  diagnostics: Diagnostic[];
}

/** Adds the inputs named by `paths` (or the tsconfig's files) to `project` and lists them. */
export function discoverInputs(project: Project, setup: ProjectSetup, paths: readonly string[] | undefined): DiscoveredInputs {
  const diagnostics: Diagnostic[] = [];
  const files = new Set<string>();
  if (paths === undefined || paths.length === 0) {
    for (const file of setup.configFiles) {
      if (!isInputFile(file)) continue;
      const added = project.addSourceFileAtPathIfExists(file);
      if (added !== undefined) files.add(added.getFilePath());
    }
  } else {
    for (const given of paths) {
      for (const file of expandPath(project, setup.cwd, given, diagnostics)) files.add(file);
    }
  }
  if (files.size === 0 && diagnostics.length === 0) {
    const where = paths !== undefined && paths.length > 0 ? paths.join(", ") : setup.tsConfigFile !== undefined ? displayPath(setup.cwd, setup.tsConfigFile) : undefined;
    diagnostics.push(
      createDiagnostic("noInputFiles", {
        message: where === undefined ? "No input files: there is no tsconfig.json here and no path was given." : `No input files found in ${where}.`,
        hint: "Name the model files, folders or globs to read (asymgen generate src/models.ts), or a tsconfig.json with -p.",
      }),
    );
  }
  // No resolveSourceFileDependencies() here: the program analysis builds reads every imported
  // file anyway, and resolving them up front costs a second pass over the whole graph.
  return { files: [...files].sort(), diagnostics };
}

/** The input files one path stands for, reporting a path that names nothing. */
export function expandPath(project: Project, cwd: string, given: string, diagnostics: Diagnostic[]): string[] {
  const absolute = path.resolve(cwd, given);
  if (existsSync(absolute)) {
    if (statSync(absolute).isDirectory()) {
      return addGlob(project, `${toGlobPath(absolute)}/**/*.{ts,tsx,mts,cts}`);
    }
    // Outputs and declaration files never hold models to generate from, even when named.
    if (!isInputFile(absolute)) return [];
    return [project.addSourceFileAtPath(absolute).getFilePath()];
  }
  if (isGlobPattern(given)) {
    const found = addGlob(project, toGlobPath(absolute));
    if (found.length > 0) return found;
  }
  diagnostics.push(createDiagnostic("inputNotFound", { message: `"${given}" matches no file or folder.` }));
  return [];
}

function addGlob(project: Project, pattern: string): string[] {
  return project
    .addSourceFilesAtPaths([pattern, "!**/node_modules/**", "!**/*.realm.{ts,mts,cts}", "!**/*.d.{ts,mts,cts}"])
    .map((file) => file.getFilePath() as string)
    .filter(isInputFile);
}

/** Globs always use forward slashes, also on Windows. */
function toGlobPath(file: string): string {
  return file.split(path.sep).join("/");
}
