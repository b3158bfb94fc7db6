/**
 * What `generate()` and `openGenerator()` take and return: the programmatic API's contract,
 * which the CLI maps its flags onto one for one.
 */
import type { CompilerOptions } from "ts-morph";
import type { Diagnostic } from "../diagnostics/diagnostic.js";

/** Options of one generator run (paths resolve against `cwd`). */
export interface GenerateOptions {
  /** Files, folders or globs to read; absent: the tsconfig's files. */
  paths?: string[];
  /** A tsconfig.json (or a folder holding one); absent: the nearest `tsconfig.json` in `cwd` or above, if any (as tsc finds it). */
  project?: string;
  /** Write `X.realm.ts` under this folder, keeping paths relative to the common root. */
  outDir?: string;
  /** Write every model's canonical schema to this JSON file. */
  schemaOut?: string;
  /** Write nothing; report outputs that are missing or would change as `stale`. */
  check?: boolean;
  /** The folder relative paths resolve against; default `process.cwd()`. */
  cwd?: string;
  /** Compiler options laid over the tsconfig's (or over the defaults when there is none). */
  compilerOptions?: CompilerOptions;
  /** Where the format cache and the up-to-date manifest live; default node_modules/.cache/asymgen. */
  cacheDir?: string;
  /**
   * Skip the up-to-date check of `generate()` and always analyse everything (the check answers
   * from a manifest of the last successful run when no recorded file changed).
   */
  force?: boolean;
  /** Receives one human-readable line per notable step (watch mode prints them). */
  log?: (line: string) => void;
  /** Receives progress of long phases, for a progress line on a terminal. */
  onProgress?: (progress: GenerateProgress) => void;
}

/** Where a run is: a phase and how many of its items are done. */
export interface GenerateProgress {
  phase: "discover" | "analyze" | "validate" | "render" | "write";
  done: number;
  total: number;
}

/** What a run did with one output file. */
export interface OutputReport {
  /** Absolute path of the generated file (or of the schema file). */
  file: string;
  /** Absolute path of the model file it comes from; absent for the schema file. */
  source?: string;
  outcome: "written" | "unchanged" | "stale" | "removed";
  /** Milliseconds spent rendering and writing it. */
  ms: number;
}

/** Milliseconds spent per phase of one run. */
export interface GenerateTimings {
  discover: number;
  analyze: number;
  validate: number;
  render: number;
  write: number;
  total: number;
}

/** What a run did: files written or found current, stale outputs under `check`, and diagnostics. */
export interface GenerateResult {
  /** True when no diagnostic is an error (and, under `check`, nothing is stale). */
  ok: boolean;
  /** Absolute paths of files written (or removed, see `removed`) by this run. */
  written: string[];
  /** Absolute paths of outputs whose bytes already matched. */
  unchanged: string[];
  /** Generated files deleted because their source no longer declares models or no longer exists. */
  removed: string[];
  /** Under `check`: outputs that are missing, would change, or would be removed. */
  stale: string[];
  /** One entry per output this run looked at, in path order, with the time it took. */
  outputs: OutputReport[];
  /** Every problem found, errors and warnings, in file then position order. */
  diagnostics: Diagnostic[];
  /** Models analysed (in the whole project, not only the files this run rendered). */
  models: number;
  /** Input files considered. */
  files: number;
  /** Source files this run analysed (all of them on a full run, the touched ones on an update). */
  analyzed: number;
  /** True when the up-to-date manifest proved nothing changed and no program was built. */
  upToDate: boolean;
  timings: GenerateTimings;
}
