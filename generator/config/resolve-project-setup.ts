/**
 * Decides which compiler options and which default input files a run uses: `-p tsconfig.json`,
 * else a tsconfig.json in the working folder, else strict NodeNext defaults.
 */
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { ts, type CompilerOptions } from "ts-morph";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { createDefaultCompilerOptions } from "./default-compiler-options.js";
import { createDiagnostic } from "../diagnostics/create-diagnostic.js";

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
    const candidate = path.join(cwd, "tsconfig.json");
    if (existsSync(candidate)) tsConfigFile = candidate;
  }
  if (tsConfigFile === undefined) {
    return { setup: { cwd, compilerOptions: { ...createDefaultCompilerOptions(), ...options.compilerOptions }, configFiles: [], includeDirs: [] }, diagnostics: [] };
  }
  return readTsConfig(tsConfigFile, options);
}

function readTsConfig(tsConfigFile: string, options: ProjectSetupOptions): { setup?: ProjectSetup; diagnostics: Diagnostic[] } {
  const read = ts.readConfigFile(tsConfigFile, (file) => ts.sys.readFile(file));
  if (read.error !== undefined) {
    return { diagnostics: [tsconfigDiagnostic(options.cwd, tsConfigFile, read.error)] };
  }
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, path.dirname(tsConfigFile), undefined, tsConfigFile);
  // TS18003 "No inputs were found" only matters when the tsconfig's files are the inputs; the
  // caller reports an empty input set itself, with paths given it does not matter at all.
  const errors = parsed.errors.filter((error) => error.code !== 18003);
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

function tsconfigDiagnostic(cwd: string, tsConfigFile: string, error: ts.Diagnostic): Diagnostic {
  const text = ts.flattenDiagnosticMessageText(error.messageText, "\n");
  return createDiagnostic("tsconfigUnreadable", { message: `Cannot use the project file "${displayPath(cwd, tsConfigFile)}": ${text}` });
}

/** A path as the user would type it: relative to the working folder when inside it. */
export function displayPath(cwd: string, file: string): string {
  const relative = path.relative(cwd, file);
  return relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative) ? relative : file;
}
