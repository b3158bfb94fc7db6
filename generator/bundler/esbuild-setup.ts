/**
 * The plugin in esbuild. esbuild does not say whether a build is one-off or the first of a
 * context, nor what changed before a rebuild: the first build runs as `asymgen generate` does (up-to-date
 * shortcut included); a second build means a context, which opens a session (a full run once),
 * and from then on each rebuild compares file snapshots and updates what changed. Diagnostics
 * become esbuild messages with their location, so `build()` and `rebuild()` fail with them.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Location, PartialMessage, PluginBuild } from "esbuild";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { compareFileSnapshots, takeFileSnapshot, type FileSnapshot } from "./file-snapshot.js";
import { createPluginGenerator, type PluginRun } from "./plugin-generator.js";
import type { AsymgenPluginOptions } from "./plugin-options.js";
import { renderDiagnosticText, renderHeadline } from "./render-plugin-messages.js";

/** Registers the plugin's callbacks on one esbuild build (or context). */
export function setupEsbuild(build: PluginBuild, options: AsymgenPluginOptions): void {
  const generator = createPluginGenerator(options, build.initialOptions.absWorkingDir ?? process.cwd());
  let builds = 0;
  let snapshot: FileSnapshot = new Map();
  let runStartedAt = 0;

  const takeSnapshot = (): FileSnapshot => takeFileSnapshot(generator.watchedFiles(), generator.inputFolders());

  build.onStart(async () => {
    builds++;
    let run: PluginRun | undefined;
    const startedAt = Date.now();
    if (builds === 1) run = await generator.build();
    else if (!generator.started) run = await generator.start();
    else {
      const changes = compareFileSnapshots(snapshot, takeSnapshot(), runStartedAt);
      // Nothing of the generator's changed: no run, but the last run's errors still stand.
      run = (await generator.update(changes)) ?? generator.last;
    }
    if (generator.started) {
      snapshot = takeSnapshot();
      runStartedAt = startedAt;
    }
    return run === undefined ? {} : { errors: run.errors.map((diagnostic) => toEsbuildMessage(diagnostic, generator.cwd)), warnings: run.warnings.map((diagnostic) => toEsbuildMessage(diagnostic, generator.cwd)) };
  });
  // esbuild's watch mode (`context.watch()`) watches only what the build read, and the app reads
  // the outputs, not the model files: loading an output names what the generator reads (before
  // the session opens, the last run's model files and their folders) for esbuild to watch too.
  // Returning no contents leaves the loading itself to esbuild.
  build.onLoad({ filter: /\.realm\.(ts|mts|cts)$/ }, () => {
    const sources = (generator.last?.result?.outputs ?? []).flatMap((output) => (output.source === undefined ? [] : [output.source]));
    const watchFiles = [...new Set([...generator.watchedFiles(), ...sources])];
    return { watchFiles, watchDirs: [...new Set([...generator.inputFolders(), ...watchFiles.map((file) => path.dirname(file))])] };
  });
  build.onDispose(() => generator.close());
}

/** One diagnostic as an esbuild message: located (esbuild prints file:line:col and the line), notes for the rest. */
function toEsbuildMessage(diagnostic: Diagnostic, cwd: string): PartialMessage {
  const message: PartialMessage = { text: renderHeadline(diagnostic), pluginName: "asymgen", detail: renderDiagnosticText(diagnostic, cwd) };
  const span = diagnostic.span;
  const notes: PartialMessage["notes"] = diagnostic.related.map((related) => ({ text: related.label, location: toLocation(related.span.file, related.span.line, related.span.column, undefined, cwd) }));
  if (diagnostic.hint !== undefined) notes.push({ text: `hint: ${diagnostic.hint}` });
  message.notes = notes;
  if (span !== undefined) {
    const length = span.endLine === undefined || span.endLine === span.line ? Math.max(1, (span.endColumn ?? span.column + 1) - span.column) : undefined;
    message.location = toLocation(span.file, span.line, span.column, length, cwd);
  }
  return message;
}

/** An esbuild location: the path as the CLI prints it, esbuild's 0-based column, the line's text for its frame. */
function toLocation(file: string, line: number, column: number, length: number | undefined, cwd: string): Partial<Location> {
  const location: Partial<Location> = { file: path.relative(cwd, file).split(path.sep).join("/"), line, column: column - 1 };
  const lineText = readLine(file, line);
  if (lineText !== undefined) location.lineText = lineText;
  if (length !== undefined) location.length = length;
  return location;
}

function readLine(file: string, line: number): string | undefined {
  try {
    return readFileSync(file, "utf8").split(/\r?\n/)[line - 1];
  } catch {
    return undefined;
  }
}
