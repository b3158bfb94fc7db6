/**
 * The input set of a run as paths only, without reading or parsing a file: the tsconfig's files,
 * or the expansion of the paths a user gave (files, folders, globs). Discovery adds exactly these
 * to the ts-morph project; the up-to-date check compares them with the last run's set, which is
 * why listing and adding are apart.
 */
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import type { FileSystemHost } from "ts-morph";
import { displayPath, type ProjectSetup } from "../config/resolve-project-setup.js";
import { createDiagnostic } from "../diagnostics/create-diagnostic.js";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { isGlobPattern, isInputFile, isTypeScriptSource } from "./is-input-file.js";

/** The inputs found: absolute paths, sorted so every later step runs in a stable order. */
export interface ListedInputs {
  files: string[];
  diagnostics: Diagnostic[];
}

/** Lists the inputs named by `paths` (or, when none, the tsconfig's files). */
export function listInputs(fileSystem: FileSystemHost, setup: ProjectSetup, paths: readonly string[] | undefined): ListedInputs {
  const diagnostics: Diagnostic[] = [];
  const files = new Set<string>();
  if (paths === undefined || paths.length === 0) {
    for (const file of setup.configFiles) if (isInputFile(file) && existsSync(file)) files.add(path.resolve(file));
  } else {
    for (const given of paths) for (const file of expandInputPath(fileSystem, setup.cwd, given, diagnostics)) files.add(file);
  }
  if (files.size === 0 && diagnostics.length === 0) {
    const where = paths !== undefined && paths.length > 0 ? paths.join(", ") : setup.tsConfigFile !== undefined ? displayPath(setup.cwd, setup.tsConfigFile) : undefined;
    diagnostics.push(
      createDiagnostic("noInputFiles", {
        message: where === undefined ? "No input files: there is no tsconfig.json here and no path was given." : `No input files found in ${where}.`,
        hint: describeNoInputs(setup.cwd, paths),
      }),
    );
  }
  return { files: [...files].sort(), diagnostics };
}

/**
 * The fix for an empty input set. Realm JS's babel plugin warns when it skips a JavaScript file
 * with a model class; here a named file that is not TypeScript is said to be the reason.
 */
function describeNoInputs(cwd: string, paths: readonly string[] | undefined): string {
  const notTypeScript = (paths ?? []).filter((given) => {
    const absolute = path.resolve(cwd, given);
    return existsSync(absolute) && statSync(absolute).isFile() && !isTypeScriptSource(absolute);
  });
  if (notTypeScript.length > 0) {
    return `asymgen reads models from TypeScript sources (.ts, .tsx, .mts, .cts), and ${notTypeScript.map((given) => `"${given}"`).join(", ")} is not one: declare the models in a .ts file.`;
  }
  return "Name the model files, folders or globs to read (asymgen generate src/models.ts), or a tsconfig.json with -p.";
}

/** The input files one path stands for (absolute), reporting a path that names nothing. */
export function expandInputPath(fileSystem: FileSystemHost, cwd: string, given: string, diagnostics: Diagnostic[]): string[] {
  const absolute = path.resolve(cwd, given);
  if (existsSync(absolute)) {
    if (statSync(absolute).isDirectory()) return globInputs(fileSystem, `${toGlobPath(absolute)}/**/*.{ts,tsx,mts,cts}`);
    // Outputs and declaration files never hold models to generate from, even when named.
    return isInputFile(absolute) ? [absolute] : [];
  }
  if (isGlobPattern(given)) {
    const found = globInputs(fileSystem, toGlobPath(absolute));
    if (found.length > 0) return found;
  }
  diagnostics.push(createDiagnostic("inputNotFound", { message: `"${given}" matches no file or folder.` }));
  return [];
}

function globInputs(fileSystem: FileSystemHost, pattern: string): string[] {
  // The same glob engine ts-morph's addSourceFilesAtPaths uses, so both see the same set.
  return fileSystem
    .globSync([pattern, "!**/node_modules/**", "!**/*.realm.{ts,mts,cts}", "!**/*.d.{ts,mts,cts}"])
    .map((file) => path.resolve(file))
    .filter(isInputFile)
    .sort();
}

/** Globs always use forward slashes, also on Windows. */
function toGlobPath(file: string): string {
  return file.split(path.sep).join("/");
}
