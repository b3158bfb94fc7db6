/**
 * What analysis needs from its caller, and the per-run state the analyze/ modules share.
 */
import type { Project } from "ts-morph";
import { ts } from "../ts-morph.cjs";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { LinkTargetInfo } from "../model/model-info.js";
import { AsymgenSymbols } from "./asymgen-symbols.js";

/** The caller's side of analysis. */
export interface AnalyzeContext {
  /** The ts-morph project holding the files (its program resolves every symbol). */
  project: Project;
  /**
   * Absolute paths of every input file of the run (models in them get generated). Defaults to the
   * files passed to `analyzeSourceFiles`; a watch-mode update that analyses a few files passes all.
   */
  inputFiles?: Iterable<string>;
}

/** Shared state of one analysis run: the program, its checker, symbol lookups and diagnostics. */
export interface AnalyzerState {
  program: ts.Program;
  checker: ts.TypeChecker;
  symbols: AsymgenSymbols;
  diagnostics: Diagnostic[];
  /** Link targets already read: a class read once however many properties link to it. */
  linkTargets: Map<ts.ClassDeclaration, LinkTargetInfo | null>;
}

/** Creates the run state; building the program is the one full pass analysis makes. */
export function createAnalyzerState(project: Project): AnalyzerState {
  const program = project.getProgram().compilerObject;
  const checker = program.getTypeChecker();
  const fileSystem = project.getFileSystem();
  const readFile = (path: string): string | undefined => {
    try {
      return fileSystem.readFileSync(path);
    } catch {
      return undefined;
    }
  };
  return { program, checker, symbols: new AsymgenSymbols(program, checker, readFile), diagnostics: [], linkTargets: new Map() };
}
