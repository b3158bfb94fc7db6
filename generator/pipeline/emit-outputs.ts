/**
 * The last stage of a run: render every pending model file, then write the ones whose bytes
 * changed (or, under `check`, list them as stale), remove outputs of inputs that lost their
 * models, and keep the schema file current. Everything renders before anything is written, so
 * a failing render leaves the disk as it was.
 */
import path from "node:path";
import { performance } from "node:perf_hooks";
import type { Options as PrettierOptions } from "prettier";
import type { GenerateProgress, GenerateTimings, OutputReport } from "../config/generate-options.js";
import { displayPath } from "../config/resolve-project-setup.js";
import { createDiagnostic } from "../diagnostics/create-diagnostic.js";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { ProjectInfo, SourceFileInfo } from "../model/model-info.js";
import { buildCanonicalSchemas, renderModelFile, type RenderFileOptions } from "../render/index.js";
import { resolvePrettierConfig } from "../render/load-prettier.js";
import { removeStaleOutput, writeOutput } from "../write/write-output.js";
import type { EmittedOutput } from "./record-up-to-date.js";

/** One input whose output is to be brought up to date. */
export interface PendingOutput {
  file: string;
  outFile: string;
  /** Absent when the input declares no model (its old output, if generated, is removed). */
  info: SourceFileInfo | undefined;
}

/** Everything the emit stage needs from the session. */
export interface EmitRequest {
  projectInfo: ProjectInfo;
  files: PendingOutput[];
  /** Outputs of inputs that were deleted. */
  removedFiles: string[];
  schemaOut: string | undefined;
  check: boolean;
  cacheDir: string | undefined;
  timings: GenerateTimings;
  onProgress: ((progress: GenerateProgress) => void) | undefined;
  log: ((line: string) => void) | undefined;
  cwd: string;
}

/** What the emit stage did, in the shape of GenerateResult's file lists. */
export interface EmitResult {
  result: { written: string[]; unchanged: string[]; removed: string[]; stale: string[]; outputs: OutputReport[] };
  /** Files that could not be written (permissions, a folder in the way). */
  diagnostics: Diagnostic[];
  /** Every generated file and the schema file with the text the run wants on disk (for the up-to-date manifest). */
  emitted: EmittedOutput[];
}

/** Renders and writes the pending outputs, the removals and the schema file. */
export async function emitOutputs(request: EmitRequest): Promise<EmitResult> {
  const renderStarted = performance.now();
  const rendered: { pending: PendingOutput & { info: SourceFileInfo }; text: string; ms: number; prettierOptions: PrettierOptions | null }[] = [];
  const withModels = request.files.filter((pending): pending is PendingOutput & { info: SourceFileInfo } => pending.info !== undefined);
  for (const [index, pending] of withModels.entries()) {
    const started = performance.now();
    request.onProgress?.({ phase: "render", done: index, total: withModels.length });
    const prettierOptions = await loadPrettierOptions(pending.outFile);
    const options: RenderFileOptions = { sourceFile: pending.file, outFile: pending.outFile, prettierOptions };
    if (request.cacheDir !== undefined) options.cacheDir = request.cacheDir;
    const text = await renderModelFile(pending.info, request.projectInfo, options);
    rendered.push({ pending, text, ms: performance.now() - started, prettierOptions });
  }
  const schemaText = request.schemaOut === undefined ? undefined : `${JSON.stringify(buildCanonicalSchemas(request.projectInfo), null, 2)}\n`;
  request.timings.render = performance.now() - renderStarted;

  const writeStarted = performance.now();
  const result: EmitResult["result"] = { written: [], unchanged: [], removed: [], stale: [], outputs: [] };
  const diagnostics: Diagnostic[] = [];
  const record = (report: OutputReport): void => {
    result.outputs.push(report);
    const list = report.outcome === "written" ? result.written : report.outcome === "unchanged" ? result.unchanged : report.outcome === "removed" ? result.removed : result.stale;
    list.push(report.file);
    if (report.outcome === "written" || report.outcome === "removed") {
      request.log?.(`${report.outcome === "written" ? "wrote" : "removed"} ${displayPath(request.cwd, report.file)} (${Math.round(report.ms)} ms)`);
    }
  };
  const attempt = (file: string, write: () => void): void => {
    try {
      write();
    } catch (error) {
      diagnostics.push(
        createDiagnostic("outputNotWritable", {
          message: `Cannot write "${displayPath(request.cwd, file)}": ${(error as Error).message}`,
          hint: "Check that the folder exists or can be created and is writable (see --out-dir).",
        }),
      );
    }
  };
  for (const { pending, text, ms } of rendered) {
    attempt(pending.outFile, () => {
      const started = performance.now();
      const outcome = writeOutput(pending.outFile, text, request.check);
      record({ file: pending.outFile, source: pending.file, outcome, ms: ms + performance.now() - started });
    });
  }
  const orphans = [
    ...request.files.filter((pending) => pending.info === undefined).map((pending) => ({ outFile: pending.outFile, source: pending.file as string | undefined })),
    ...request.removedFiles.map((outFile) => ({ outFile, source: undefined })),
  ];
  for (const orphan of orphans) {
    attempt(orphan.outFile, () => {
      const started = performance.now();
      const outcome = removeStaleOutput(orphan.outFile, request.check);
      if (outcome === "absent") return;
      const report: OutputReport = { file: orphan.outFile, outcome, ms: performance.now() - started };
      if (orphan.source !== undefined) report.source = orphan.source;
      record(report);
    });
  }
  if (request.schemaOut !== undefined && schemaText !== undefined) {
    const schemaOut = request.schemaOut;
    attempt(schemaOut, () => {
      const started = performance.now();
      record({ file: schemaOut, outcome: writeOutput(schemaOut, schemaText, request.check), ms: performance.now() - started });
    });
  }
  request.onProgress?.({ phase: "write", done: rendered.length, total: rendered.length });
  request.timings.write = performance.now() - writeStarted;
  result.outputs.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  for (const list of [result.written, result.unchanged, result.removed, result.stale]) list.sort();
  const emitted: EmittedOutput[] = rendered.map(({ pending, text, prettierOptions }) => ({ file: pending.outFile, source: pending.file, text, prettierOptions }));
  if (request.schemaOut !== undefined && schemaText !== undefined) emitted.push({ file: request.schemaOut, text: schemaText });
  return { result, diagnostics, emitted };
}

/** The user's prettier configuration for `outFile`, or null (the renderer's defaults) when none. */
async function loadPrettierOptions(outFile: string): Promise<PrettierOptions | null> {
  // Prettier looks for its config from the file's folder upwards; the folder need not exist yet.
  return resolvePrettierConfig(path.resolve(outFile));
}
