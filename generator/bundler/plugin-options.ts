/**
 * What the bundler plugin takes: the options of `generate()` that make sense inside a build (the
 * same names and defaults as the CLI's flags), plus two hooks for tooling.
 */
import path from "node:path";
import type { GenerateOptions, GenerateResult } from "../config/generate-options.js";

/** Options of `asymgen()` in a Vite, Rollup, esbuild or webpack configuration. */
export interface AsymgenPluginOptions {
  /** Model files, folders or globs (`asymgen generate [paths..]`); absent: the tsconfig's files. */
  paths?: string[];
  /** The tsconfig.json to read (`-p`); absent: the nearest one in `cwd` or above. */
  project?: string;
  /** Write `X.realm.ts` under this folder (`--out-dir`). */
  outDir?: string;
  /** Write every model's canonical schema to this JSON file (`--schema-out`). */
  schemaOut?: string;
  /** Format cache and up-to-date manifest (`--cache-dir`); default node_modules/.cache/asymgen. */
  cacheDir?: string;
  /**
   * The folder relative paths resolve against and diagnostics print relative to; default the
   * bundler's root (Vite's `root`, webpack's `context`, esbuild's `absWorkingDir`), else the
   * working folder, which is where the CLI resolves them.
   */
  cwd?: string;
  /** Called after every generator run with its result (tooling, tests, the benchmark). */
  onRun?: (result: GenerateResult) => void;
  /** Include the stack of an internal failure (ASYM9001) in its report; default false. */
  debug?: boolean;
}

/** The options and what each must be, for the check below (a bundler config is often plain JavaScript). */
const OPTION_KINDS: Record<keyof AsymgenPluginOptions, "string" | "strings" | "function" | "boolean"> = {
  paths: "strings",
  project: "string",
  outDir: "string",
  schemaOut: "string",
  cacheDir: "string",
  cwd: "string",
  onRun: "function",
  debug: "boolean",
};

/**
 * Checks options given to `asymgen()`; throws a TypeError naming the option and what it must be
 * (an unknown name lists the known ones), so a typo in a config fails where it is written.
 */
export function checkPluginOptions(options: unknown): AsymgenPluginOptions {
  if (options === undefined || options === null) return {};
  if (typeof options !== "object" || Array.isArray(options)) throw new TypeError(`asymgen(): the options must be an object, not ${describe(options)}.`);
  for (const [name, value] of Object.entries(options)) {
    const kind = OPTION_KINDS[name as keyof AsymgenPluginOptions];
    if (kind === undefined) throw new TypeError(`asymgen(): unknown option "${name}"; the options are ${Object.keys(OPTION_KINDS).join(", ")}.`);
    if (value === undefined) continue;
    const fits = kind === "strings" ? Array.isArray(value) && value.every((item) => typeof item === "string") : typeof value === kind;
    const wanted = kind === "strings" ? "an array of strings" : kind === "string" ? "a string" : `a ${kind}`;
    if (!fits) throw new TypeError(`asymgen(): the option "${name}" must be ${wanted}, not ${describe(value)}.`);
  }
  return options as AsymgenPluginOptions;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(describe).join(", ")}]`;
  return typeof value === "string" ? JSON.stringify(value) : typeof value === "function" ? "a function" : String(value);
}

/** The `generate()` options of a plugin run; relative paths resolve against `root` unless `cwd` is given. */
export function toGenerateOptions(options: AsymgenPluginOptions, root: string): GenerateOptions {
  const cwd = path.resolve(root, options.cwd ?? ".");
  const generateOptions: GenerateOptions = { cwd };
  if (options.paths !== undefined && options.paths.length > 0) generateOptions.paths = [...options.paths];
  if (options.project !== undefined) generateOptions.project = options.project;
  if (options.outDir !== undefined) generateOptions.outDir = options.outDir;
  if (options.schemaOut !== undefined) generateOptions.schemaOut = options.schemaOut;
  // The CLI resolves --cache-dir against the working folder; here the same folder is `cwd`.
  if (options.cacheDir !== undefined) generateOptions.cacheDir = path.resolve(cwd, options.cacheDir);
  return generateOptions;
}
