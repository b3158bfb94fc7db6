/**
 * Decides which compiler options and which default input files a run uses: `-p tsconfig.json`,
 * else the nearest tsconfig.json in the working folder or above (found as tsc finds it, up to the
 * file system's root), else strict NodeNext defaults.
 */
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import type { CompilerOptions } from "ts-morph";
import { ts } from "../ts-morph.cjs";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { SourceSpan } from "../model/model-info.js";
import { createDefaultCompilerOptions } from "./default-compiler-options.js";
import { createDiagnostic } from "../diagnostics/create-diagnostic.js";
import { isTypeScript7OnlyOptionError } from "./typescript7-only-options.js";

/** The compiler setup of a run, before any file is read. */
export interface ProjectSetup {
  cwd: string;
  /** Absolute path of the tsconfig in use, if any. */
  tsConfigFile?: string;
  compilerOptions: CompilerOptions;
  /** The tsconfig's own files (absolute), the inputs when no paths are given. */
  configFiles: string[];
  /** The tsconfig's `rootDir` (absolute), which `--out-dir` keeps paths relative to. */
  rootDir?: string;
  /** Folders the tsconfig's include patterns search (absolute): where new input files appear. */
  includeDirs: string[];
}

/** Options that shape the setup (a subset of GenerateOptions). */
export interface ProjectSetupOptions {
  cwd: string;
  project?: string;
  compilerOptions?: CompilerOptions;
}

/** The setup-shaping part of a run's options (`project`, `compilerOptions`), with `cwd` resolved. */
export function pickSetupOptions(cwd: string, options: { project?: string; compilerOptions?: CompilerOptions }): ProjectSetupOptions {
  const picked: ProjectSetupOptions = { cwd };
  if (options.project !== undefined) picked.project = options.project;
  if (options.compilerOptions !== undefined) picked.compilerOptions = options.compilerOptions;
  return picked;
}

/** Resolves the setup, or explains with diagnostics why the tsconfig cannot be used. */
export function resolveProjectSetup(options: ProjectSetupOptions): { setup?: ProjectSetup; diagnostics: Diagnostic[] } {
  const { cwd } = options;
  let tsConfigFile: string | undefined;
  if (options.project !== undefined) {
    tsConfigFile = path.resolve(cwd, options.project);
    if (existsSync(tsConfigFile) && statSync(tsConfigFile).isDirectory()) tsConfigFile = path.join(tsConfigFile, "tsconfig.json");
    if (!existsSync(tsConfigFile)) {
      return {
        diagnostics: [createDiagnostic("tsconfigUnreadable", {
            message: `Cannot find the project file "${displayPath(cwd, tsConfigFile)}".`,
            hint: "Pass the path of a tsconfig.json (or of a folder holding one) to -p/--project.",
          })],
      };
    }
  } else {
    // Like tsc without -p: a command run in a subfolder of a project uses the project's config.
    const found = ts.findConfigFile(cwd, (file) => ts.sys.fileExists(file));
    if (found !== undefined) tsConfigFile = path.resolve(found);
  }
  if (tsConfigFile === undefined) {
    return { setup: { cwd, compilerOptions: { ...createDefaultCompilerOptions(), ...options.compilerOptions }, configFiles: [], includeDirs: [] }, diagnostics: [] };
  }
  return readTsConfig(tsConfigFile, options);
}

function readTsConfig(tsConfigFile: string, options: ProjectSetupOptions): { setup?: ProjectSetup; diagnostics: Diagnostic[] } {
  // Read as a source file (not ts.readConfigFile's plain object) so that every problem, a JSON
  // syntax error or an invalid option, comes with its position in the file.
  const text = ts.sys.readFile(tsConfigFile);
  if (text === undefined) {
    return { diagnostics: [createDiagnostic("tsconfigUnreadable", { message: `Cannot read the project file "${displayPath(options.cwd, tsConfigFile)}".` })] };
  }
  const sourceFile = ts.parseJsonText(tsConfigFile, text);
  const syntaxErrors = (sourceFile as unknown as { parseDiagnostics?: ts.Diagnostic[] }).parseDiagnostics ?? [];
  // The first syntax error only, as tsc reports it: the ones after it mostly follow from it.
  const firstSyntaxError = syntaxErrors[0];
  if (firstSyntaxError !== undefined) return { diagnostics: [tsconfigDiagnostic(options.cwd, tsConfigFile, firstSyntaxError)] };
  const parsed = ts.parseJsonSourceFileConfigFileContent(sourceFile, ts.sys, path.dirname(tsConfigFile), undefined, tsConfigFile);
  // TS18003 "No inputs were found" only matters when the tsconfig's files are the inputs; the
  // caller reports an empty input set itself, with paths given it does not matter at all.
  // A TypeScript 7 option (`checkers`, …) is unknown to the TypeScript reading it here but
  // valid for the user's compiler, and changes no type: not a reason to refuse the tsconfig.
  const errors = parsed.errors.filter((error) => error.code !== 18003 && !isTypeScript7OnlyOptionError(error));
  if (errors.length > 0) {
    return { diagnostics: errors.map((error) => tsconfigDiagnostic(options.cwd, tsConfigFile, error)) };
  }
  const compilerOptions: CompilerOptions = { ...parsed.options, ...options.compilerOptions };
  const setup: ProjectSetup = { cwd: options.cwd, tsConfigFile, compilerOptions, configFiles: parsed.fileNames.map((file) => path.resolve(file)),
    includeDirs: Object.keys(parsed.wildcardDirectories ?? {}).map((directory) => path.resolve(directory)),
  };
  if (compilerOptions.rootDir !== undefined) setup.rootDir = path.resolve(path.dirname(tsConfigFile), compilerOptions.rootDir);
  return { setup, diagnostics: [] };
}

/** ASYM1003 for one TypeScript config diagnostic, at its position when TypeScript gives one. */
function tsconfigDiagnostic(cwd: string, tsConfigFile: string, error: ts.Diagnostic): Diagnostic {
  const text = ts.flattenDiagnosticMessageText(error.messageText, "\n");
  // An error in an extended config points into that file: name the file it is in.
  const file = error.file?.fileName === undefined ? tsConfigFile : path.resolve(error.file.fileName);
  return createDiagnostic("tsconfigUnreadable", {
    message: `Cannot use the project file "${displayPath(cwd, file)}": ${text}`,
    span: error.file !== undefined && error.start !== undefined ? spanOf(error.file, error.start, error.length ?? 0) : undefined,
  });
}

/** A diagnostic span (1-based lines and columns) for `length` characters at `start` of `file`. */
function spanOf(file: ts.SourceFile, start: number, length: number): SourceSpan {
  const from = file.getLineAndCharacterOfPosition(start);
  const to = file.getLineAndCharacterOfPosition(start + length);
  return { file: path.resolve(file.fileName), line: from.line + 1, column: from.character + 1, start, end: start + length, endLine: to.line + 1, endColumn: to.character + 1 };
}

/** A path as the user would type it: relative to the working folder when inside it. */
export function displayPath(cwd: string, file: string): string {
  const relative = path.relative(cwd, file);
  return relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative) ? relative : file;
}
