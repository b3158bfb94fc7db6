/**
 * The plugin in webpack: `run` generates as `asymgen generate` does; `watch` opens a session at
 * its first `watchRun` and updates it from `compiler.modifiedFiles` / `removedFiles` at the next
 * ones. Each compilation carries the standing diagnostics in `compilation.errors` (which fails
 * the build and shows in the dev server's overlay) and `compilation.warnings`.
 *
 * The outputs are written in `watchRun`, after webpack noted the compile's start time; a watched
 * file newer than that start makes webpack compile again at once, so one model change would build
 * the bundle twice. The outputs are therefore left out of the files handed to webpack's watcher
 * (each compile re-reads them: the plugin purges them from webpack's file cache when it writes).
 */
import path from "node:path";
import type { Compiler, WebpackError } from "webpack";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { takeFileSnapshot } from "./file-snapshot.js";
import { createPluginGenerator, type PluginGenerator, type PluginRun } from "./plugin-generator.js";
import type { AsymgenPluginOptions } from "./plugin-options.js";
import { renderDiagnosticText } from "./render-plugin-messages.js";
import type { FileChange } from "./watch-scope.js";

const NAME = "asymgen";

/** webpack does not export the type of its watch options. */
type WatchOptions = Parameters<NonNullable<Compiler["watchFileSystem"]>["watch"]>[4];

/** Taps the plugin into one webpack compiler. */
export function applyWebpack(compiler: Compiler, options: AsymgenPluginOptions): void {
  const generator = createPluginGenerator(options, compiler.context);
  let watching = false;
  // Files the plugin writes (kept out of webpack's watcher) and files that existed where inputs
  // may appear after the last run (to tell a new file from an edited one).
  const outputs = new Set<string>();
  let known: ReadonlySet<string> = new Set();

  const afterRun = (run: PluginRun | undefined): void => {
    const written: string[] = [];
    for (const output of run?.result?.outputs ?? []) {
      outputs.add(output.file);
      if (output.outcome === "written" || output.outcome === "removed") written.push(output.file);
    }
    // webpack caches stats and contents; a file it no longer watches must be dropped by hand.
    if (written.length > 0) compiler.inputFileSystem?.purge?.(written);
    known = listKnownFiles(generator);
  };

  compiler.hooks.run.tapPromise(NAME, async () => {
    await generator.build();
  });
  compiler.hooks.watchRun.tapPromise(NAME, async (watched) => {
    watching = true;
    keepOutputsUnwatched(watched, outputs);
    if (!generator.started) {
      afterRun(await generator.start());
      return;
    }
    // webpack does not tell an added file from an edited one, and a file that appears in an input
    // folder (a context dependency) comes as the folder's path: the folders' listing, compared
    // with the one after the last run, says which files are new or gone.
    const listing = listKnownFiles(generator);
    const changes: FileChange[] = [
      ...[...listing].filter((file) => !known.has(file)).map((file): FileChange => ({ file, event: "create" })),
      ...[...known].filter((file) => !listing.has(file)).map((file): FileChange => ({ file, event: "delete" })),
      ...[...(watched.modifiedFiles ?? [])].map((file): FileChange => ({ file, event: known.has(path.resolve(file)) ? "update" : "create" })),
      ...[...(watched.removedFiles ?? [])].map((file): FileChange => ({ file, event: "delete" })),
    ];
    afterRun(await generator.update(changes));
  });
  compiler.hooks.thisCompilation.tap(NAME, (compilation) => {
    // The last run's problems stand until a run fixes them, whatever this compilation rebuilds.
    const run = generator.last;
    if (run !== undefined) {
      for (const diagnostic of run.errors) compilation.errors.push(toWebpackError(compiler, diagnostic, generator.cwd));
      for (const diagnostic of run.warnings) compilation.warnings.push(toWebpackError(compiler, diagnostic, generator.cwd));
    }
    if (watching) {
      // Model files the bundle does not import would not be watched otherwise.
      for (const file of generator.watchedFiles()) compilation.fileDependencies.add(file);
      for (const folder of generator.inputFolders()) compilation.contextDependencies.add(folder);
    }
  });
  compiler.hooks.watchClose.tap(NAME, () => generator.close());
}

/** The files in the folders where inputs may appear (those the generator reads included). */
function listKnownFiles(generator: PluginGenerator): ReadonlySet<string> {
  return new Set(takeFileSnapshot(generator.watchedFiles(), generator.inputFolders()).keys());
}

const wrapped = new WeakSet<object>();

/**
 * Wraps the compiler's watch file system (once) so webpack's watcher never sees the files in
 * `outputs`: the plugin writes them during the compile, and a write seen there (as a watched file,
 * or inside an input folder, which is a context dependency) would start a second compile. A model
 * change still rebuilds, since the model files are watched.
 */
function keepOutputsUnwatched(compiler: Compiler, outputs: ReadonlySet<string>): void {
  const system = compiler.watchFileSystem;
  if (system === null || system === undefined || wrapped.has(system)) return;
  wrapped.add(system);
  const watch = system.watch.bind(system);
  // watchpack compares paths with forward slashes.
  const isOutput = (file: string): boolean => outputs.has(path.resolve(file)) || outputs.has(path.resolve(file.split("/").join(path.sep)));
  system.watch = (files, directories, missing, startTime, options, ...callbacks) =>
    watch([...files].filter((file) => !isOutput(file)), directories, missing, startTime, withOutputsIgnored(options, isOutput), ...callbacks);
}

/**
 * The watch options with the outputs ignored too. A glob `ignored` (a string or an array) has no
 * function form to join without watchpack's own conversion: then only the outputs' own watchers
 * are dropped, and a write inside a watched input folder may still start a second compile.
 */
function withOutputsIgnored(options: WatchOptions, isOutput: (file: string) => boolean): WatchOptions {
  const ignored: unknown = options.ignored;
  // watchpack (webpack's watcher) takes a function too, which webpack's own types leave out.
  const ignoring = (test: (file: string) => boolean): WatchOptions => ({ ...options, ignored: test as unknown as string });
  if (ignored === undefined || ignored === null) return ignoring(isOutput);
  if (ignored instanceof RegExp) return ignoring((file) => ignored.test(file) || isOutput(file));
  if (typeof ignored === "function") return ignoring((file) => (ignored as (file: string) => boolean)(file) || isOutput(file));
  return options;
}

/** One diagnostic as a webpack error: the CLI's text, the model file named, no stack. */
function toWebpackError(compiler: Compiler, diagnostic: Diagnostic, cwd: string): WebpackError {
  // The compiler's own class, so the error is the webpack instance's that runs this build.
  const error = new compiler.webpack.WebpackError(renderDiagnosticText(diagnostic, cwd));
  error.name = diagnostic.severity === "error" ? "AsymgenError" : "AsymgenWarning";
  error.hideStack = true;
  if (diagnostic.span !== undefined) error.file = diagnostic.span.file;
  return error;
}
