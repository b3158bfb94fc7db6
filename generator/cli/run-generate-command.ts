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
  /** Skip the up-to-date shortcut: analyse everything (GenerateOptions.force). */
  force?: boolean;
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
  if (args.force === true) options.force = true;
  if (args.project !== undefined) options.project = args.project;
  if (args.outDir !== undefined) options.outDir = args.outDir;
  if (args.schemaOut !== undefined) options.schemaOut = args.schemaOut;
  if (args.cacheDir !== undefined) options.cacheDir = path.resolve(io.cwd, args.cacheDir);
  // `--format json` prints one report object everywhere (a run, an internal failure, each watch
  // run), so a consumer parses one shape; diagnostics alone are a report that wrote nothing.
  const printReport = (result: GenerateResult, compact: boolean): void => {
    io.stdout.write(`${JSON.stringify(toJsonReport(result, io.cwd), null, compact ? undefined : 2)}\n`);
  };
  const printDiagnostics = (diagnostics: Diagnostic[]): void => {
    if (args.format === "json") printReport(createFailedResult(diagnostics), args.watch);
    else printDiagnosticList(diagnostics, io);
  };
  if (args.watch) return runWatch(options, printDiagnostics, args.format === "json" ? (result) => printReport(result, true) : undefined, io);

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
    printReport(result, false);
    io.stderr.write(`${formatSummary(result, args.check)}\n`);
  } else {
    if (result.diagnostics.length > 0) printDiagnostics(result.diagnostics);
    for (const file of result.stale) io.stdout.write(`stale: ${displayPath(io.cwd, file)}\n`);
    io.stdout.write(`${formatSummary(result, args.check)}\n`);
  }
  return result.ok ? ExitCode.ok : ExitCode.failed;
}

/**
 * Watch mode: prints per change, never exits on diagnostics, resolves with 0 on SIGINT/SIGTERM.
 * With `printResult` (JSON), stdout carries only one report object per line; the lines meant
 * for a person go to stderr.
 */
async function runWatch(
  options: GenerateOptions,
  printDiagnostics: (diagnostics: Diagnostic[]) => void,
  printResult: ((result: GenerateResult) => void) | undefined,
  io: CommandIo,
): Promise<number> {
  const human = printResult === undefined ? io.stdout : io.stderr;
  const handle = watchGenerator({ ...options, print: (line) => human.write(`${line}\n`), printDiagnostics, ...(printResult === undefined ? {} : { printResult }) });
  const first = await handle.ready;
  if (first !== undefined && first.ok) human.write(`${formatSummary(first, false)}\n`);
  human.write("Watching for changes (Ctrl+C to stop).\n");
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

/** Prints diagnostics as text on stderr. */
function printDiagnosticList(diagnostics: Diagnostic[], io: CommandIo): void {
  const stream = io.stderr;
  // Colour only for a person at a terminal, and never against NO_COLOR (https://no-color.org).
  const color = stream.isTTY === true && process.env["NO_COLOR"] === undefined;
  const rendered = renderDiagnostics(diagnostics, { format: "text", cwd: io.cwd, color });
  stream.write(rendered.endsWith("\n") ? rendered : `${rendered}\n`);
}

/** The result of a run that failed before producing one (an internal error): nothing written. */
function createFailedResult(diagnostics: Diagnostic[]): GenerateResult {
  return {
    ok: false,
    written: [],
    unchanged: [],
    removed: [],
    stale: [],
    outputs: [],
    diagnostics,
    models: 0,
    files: 0,
    analyzed: 0,
    upToDate: false,
    timings: { discover: 0, analyze: 0, validate: 0, render: 0, write: 0, total: 0 },
  };
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
    upToDate: result.upToDate,
    timings: Object.fromEntries(Object.entries(result.timings).map(([phase, ms]) => [phase, Math.round(ms)])),
  };
}
