/**
 * The plugin in webpack: `run` generates as `asymgen generate` does; `watch` opens a session at
 * its first `watchRun` and updates it from `compiler.modifiedFiles` / `removedFiles` at the next
 * ones. Each compilation carries the standing diagnostics in `compilation.errors` (which fails
 * the build and shows in the dev server's overlay) and `compilation.warnings`.
 */
import type { Compiler, WebpackError } from "webpack";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { createPluginGenerator } from "./plugin-generator.js";
import type { AsymgenPluginOptions } from "./plugin-options.js";
import { renderDiagnosticText } from "./render-plugin-messages.js";
import type { FileChange } from "./watch-scope.js";

const NAME = "asymgen";

/** Taps the plugin into one webpack compiler. */
export function applyWebpack(compiler: Compiler, options: AsymgenPluginOptions): void {
  const generator = createPluginGenerator(options, compiler.context);
  let watching = false;

  compiler.hooks.run.tapPromise(NAME, async () => {
    await generator.build();
  });
  compiler.hooks.watchRun.tapPromise(NAME, async (watched) => {
    watching = true;
    if (!generator.started) {
      await generator.start();
      return;
    }
    // webpack does not tell an added file from an edited one; "create" lets a new model file in
    // a watched folder count, and an unrelated file there costs at most a run that writes nothing.
    const changes: FileChange[] = [
      ...[...(watched.modifiedFiles ?? [])].map((file): FileChange => ({ file, event: "create" })),
      ...[...(watched.removedFiles ?? [])].map((file): FileChange => ({ file, event: "delete" })),
    ];
    await generator.update(changes);
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

/** One diagnostic as a webpack error: the CLI's text, the model file named, no stack. */
function toWebpackError(compiler: Compiler, diagnostic: Diagnostic, cwd: string): WebpackError {
  // The compiler's own class, so the error is the webpack instance's that runs this build.
  const error = new compiler.webpack.WebpackError(renderDiagnosticText(diagnostic, cwd));
  error.name = diagnostic.severity === "error" ? "AsymgenError" : "AsymgenWarning";
  error.hideStack = true;
  if (diagnostic.span !== undefined) error.file = diagnostic.span.file;
  return error;
}
