/**
 * The bundler-neutral half of the plugin: one generator per plugin instance. A one-off build runs
 * `generate()` (the same call as `asymgen generate`, up-to-date shortcut included); a dev server or
 * watch build keeps one session open, as watch mode does, and feeds it the changes the bundler's
 * own watcher reports. Each adapter (vite-hooks.ts, rollup-hooks.ts, esbuild-setup.ts,
 * webpack-apply.ts) only maps bundler events onto these calls and the outcome onto its messages.
 */
import path from "node:path";
import { performance } from "node:perf_hooks";
import type { GenerateOptions, GenerateResult } from "../config/generate-options.js";
import { createInternalErrorDiagnostic } from "../config/create-internal-error-diagnostic.js";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { generate } from "../index.js";
import { openGenerator, type GeneratorSession } from "../pipeline/open-generator.js";
import { toGenerateOptions, type AsymgenPluginOptions } from "./plugin-options.js";
import { createWatchScope, isModelChange, type FileChange, type WatchScope } from "./watch-scope.js";

/** What one run left standing: its result (absent after an internal failure) and its problems. */
export interface PluginRun {
  result: GenerateResult | undefined;
  errors: Diagnostic[];
  warnings: Diagnostic[];
  /** Milliseconds the run took. */
  ms: number;
}

/** One plugin instance's generator. */
export interface PluginGenerator {
  /** The folder paths resolve against and diagnostics print relative to. */
  readonly cwd: string;
  /** True once `start()` opened the session (watch and dev modes). */
  readonly started: boolean;
  /** The outcome of the last run, which stands until the next one. */
  readonly last: PluginRun | undefined;
  /** One run as `asymgen generate` does it (a one-off build). */
  build(): Promise<PluginRun>;
  /** Opens the session and runs everything (the first build of a watch or a dev server). */
  start(): Promise<PluginRun>;
  /** Regenerates what `changes` touch; `undefined` (and no run) when none of them is the generator's. */
  update(changes: readonly FileChange[]): Promise<PluginRun | undefined>;
  /** Whether a change is the generator's (a model file, a new input, configuration; never an output). */
  isModelChange(change: FileChange): boolean;
  /** Files the session reads: what a bundler should watch for it. */
  watchedFiles(): string[];
  /** Folders where new inputs may appear. */
  inputFolders(): string[];
  close(): void;
}

/** Creates the generator of one plugin instance; `root` is the bundler's root folder. */
export function createPluginGenerator(options: AsymgenPluginOptions, root: string): PluginGenerator {
  const generateOptions: GenerateOptions = toGenerateOptions(options, root);
  const cwd = generateOptions.cwd!;
  const schemaOut = generateOptions.schemaOut === undefined ? undefined : path.resolve(cwd, generateOptions.schemaOut);
  let session: GeneratorSession | undefined;
  let scope: WatchScope = createWatchScope([], [], schemaOut);
  let last: PluginRun | undefined;

  const execute = async (work: () => Promise<GenerateResult>): Promise<PluginRun> => {
    const started = performance.now();
    let run: PluginRun;
    try {
      const result = await work();
      const errors = result.diagnostics.filter((diagnostic) => diagnostic.severity === "error");
      const warnings = result.diagnostics.filter((diagnostic) => diagnostic.severity !== "error");
      run = { result, errors, warnings, ms: performance.now() - started };
      options.onRun?.(result);
    } catch (error) {
      // A bug in asymgen, not in the user's models: one ASYM9001, and the session stays open,
      // since the next change may avoid whatever failed (as in watch mode).
      run = { result: undefined, errors: [createPluginInternalError(error, options.debug === true)], warnings: [], ms: performance.now() - started };
    }
    if (session !== undefined) scope = createWatchScope(session.listWatchedFiles(), session.listInputFolders(), schemaOut);
    last = run;
    return run;
  };

  return {
    cwd,
    get started() {
      return session !== undefined;
    },
    get last() {
      return last;
    },
    build: () => execute(() => generate(generateOptions)),
    start: () => {
      session ??= openGenerator(generateOptions);
      const opened = session;
      return execute(() => opened.run());
    },
    update: async (changes) => {
      if (session === undefined) return undefined;
      const relevant = changes.filter((change) => isModelChange(change, scope));
      if (relevant.length === 0) return undefined;
      const opened = session;
      return execute(() => opened.update([...new Set(relevant.map((change) => path.resolve(cwd, change.file)))]));
    },
    isModelChange: (change) => isModelChange(change, scope),
    watchedFiles: () => [...scope.files],
    inputFolders: () => [...scope.inputFolders],
    close: () => {
      session?.close();
      session = undefined;
    },
  };
}

/**
 * ASYM9001 as the plugin reports it: the request for a report, and the stack only when asked
 * (`debug: true`): a bundler prints the message of every failed build, and a stack there would
 * bury the one line that matters.
 */
function createPluginInternalError(error: unknown, debug: boolean): Diagnostic {
  const diagnostic = createInternalErrorDiagnostic(error);
  if (!debug) diagnostic.hint = "This is a bug in asymgen. Please report it with the model file that triggers it; the plugin option `debug: true` adds the detail to include.";
  return diagnostic;
}
