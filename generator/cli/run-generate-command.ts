/**
 * `asymgen generate`: maps the flags onto `generate()` (or watch mode), prints diagnostics and the
 * summary, and turns the result into an exit code. No decisions about models live here.
 */
import path from "node:path";
import type { GenerateOptions, GenerateResult } from "../config/generate-options.js";
import { displayPath } from "../config/resolve-project-setup.js";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { renderDiagnostics } from "../diagnostics/render-diagnostics.js";
import { generate } from "../index.js";
import { createInternalErrorDiagnostic } from "../config/create-internal-error-diagnostic.js";
import { watchGenerator } from "../watch/watch-generator.js";
import { ExitCode } from "./exit-codes.js";
import { formatSummary } from "./format-summary.js";
import { createProgressLine } from "./progress-line.js";

/** The parsed flags of `asymgen generate`. */
export interface GenerateCommandArgs {
  paths: string[];
  project?: string;
  outDir?: string;
  schemaOut?: string;
  cacheDir?: string;
  check: boolean;
  watch: boolean;
  format: "text" | "json";
}

/** Where the command reads and prints; the real process by default, a capture in tests. */
export interface CommandIo {
  cwd: string;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

/** Runs one generate (or starts watch mode, resolving on SIGINT) and returns the exit code. */
export async function runGenerateCommand(args: GenerateCommandArgs, io: CommandIo = { cwd: process.cwd(), stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const options: GenerateOptions = { cwd: io.cwd, check: args.check };
  if (args.paths.length > 0) options.paths = args.paths;
  if (args.project !== undefined) options.project = args.project;
  if (args.outDir !== undefined) options.outDir = args.outDir;
  if (args.schemaOut !== undefined) options.schemaOut = args.schemaOut;
  if (args.cacheDir !== undefined) options.cacheDir = path.resolve(io.cwd, args.cacheDir);
  const printDiagnostics = (diagnostics: Diagnostic[]): void => printDiagnosticList(diagnostics, args.format, io);
  if (args.watch) return runWatch(options, printDiagnostics, io);

  const progress = createProgressLine(io.stderr);
  options.onProgress = (event) => progress.update(event);
  let result: GenerateResult;
  try {
    result = await generate(options);
  } catch (error) {
    progress.stop();
    printDiagnostics([createInternalErrorDiagnostic(error)]);
    return ExitCode.failed;
  }
  progress.stop();
  if (args.format === "json") {
    io.stdout.write(`${JSON.stringify(toJsonReport(result, io.cwd), null, 2)}\n`);
    io.stderr.write(`${formatSummary(result, args.check)}\n`);
  } else {
    if (result.diagnostics.length > 0) printDiagnostics(result.diagnostics);
    for (const file of result.stale) io.stdout.write(`stale: ${displayPath(io.cwd, file)}\n`);
    io.stdout.write(`${formatSummary(result, args.check)}\n`);
  }
  return result.ok ? ExitCode.ok : ExitCode.failed;
}

/** Watch mode: prints per change, never exits on diagnostics, resolves with 0 on SIGINT/SIGTERM. */
async function runWatch(options: GenerateOptions, printDiagnostics: (diagnostics: Diagnostic[]) => void, io: CommandIo): Promise<number> {
  const handle = watchGenerator({ ...options, print: (line) => io.stdout.write(`${line}\n`), printDiagnostics });
  const first = await handle.ready;
  if (first !== undefined && first.ok) io.stdout.write(`${formatSummary(first, false)}\n`);
  io.stdout.write("Watching for changes (Ctrl+C to stop).\n");
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      handle.close();
      resolve(ExitCode.ok);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

/** Prints diagnostics in the chosen format: text on stderr, JSON on stdout. */
function printDiagnosticList(diagnostics: Diagnostic[], format: "text" | "json", io: CommandIo): void {
  const stream = format === "json" ? io.stdout : io.stderr;
  // Colour only for a person at a terminal, and never against NO_COLOR (https://no-color.org).
  const color = format === "text" && stream.isTTY === true && process.env["NO_COLOR"] === undefined;
  const rendered = renderDiagnostics(diagnostics, { format, cwd: io.cwd, color });
  stream.write(rendered.endsWith("\n") ? rendered : `${rendered}\n`);
}

/** The machine-readable report of `--format json`: the diagnostics and what happened to each file. */
function toJsonReport(result: GenerateResult, cwd: string): Record<string, unknown> {
  const relative = (files: string[]): string[] => files.map((file) => displayPath(cwd, file));
  return {
    ok: result.ok,
    diagnostics: JSON.parse(renderDiagnostics(result.diagnostics, { format: "json", cwd })) as unknown,
    written: relative(result.written),
    unchanged: relative(result.unchanged),
    removed: relative(result.removed),
    stale: relative(result.stale),
    files: result.files,
    models: result.models,
    timings: Object.fromEntries(Object.entries(result.timings).map(([phase, ms]) => [phase, Math.round(ms)])),
  };
}
