/**
 * The generator as a long-lived session: one ts-morph project, per-file analysis results kept
 * between runs, and `update()` that re-reads only the changed files and regenerates only what
 * they touch. `generate()` is one `run()` of a session; watch mode and the benchmark keep one open.
 * `diagnose()` (the language server's) analyses with editor texts laid over the disk and writes
 * nothing: see document-overlay.ts.
 */
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { FileSystemRefreshResult, Project } from "../ts-morph.cjs";
import { analyzeSourceFiles } from "../analyze/analyze-source-files.js";
import { resolveDefaultCacheDir } from "../config/default-cache-dir.js";
import { reduceCompilerEnvironment } from "../config/reduce-compiler-environment.js";
import { pickSetupOptions, resolveProjectSetup, type ProjectSetup, type ProjectSetupOptions } from "../config/resolve-project-setup.js";
import type { GenerateOptions, GenerateResult, GenerateTimings } from "../config/generate-options.js";
import { sortDiagnostics } from "../diagnostics/create-diagnostic.js";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { discoverInputs, expandPath } from "../discover/discover-inputs.js";
import { isConfigurationFile } from "../discover/is-configuration-file.js";
import { isInputFile } from "../discover/is-input-file.js";
import { mayDeclareModels } from "../discover/may-declare-models.js";
import { clearPrettierConfigCache } from "../render/load-prettier.js";
import type { ProjectInfo, SourceFileInfo } from "../model/model-info.js";
import { validateProject } from "../validate/validate-project.js";
import { findOutputCollisions } from "../write/find-output-collisions.js";
import { findOrphanedOutputs, listOutputRoots } from "../write/find-orphaned-outputs.js";
import { createOutputLayout, resolveOutputPath, type OutputLayout } from "../write/output-path.js";
import { computeRunIdentity } from "./compute-run-identity.js";
import { refreshSourceFile, type DiagnoseResult, type DocumentText } from "./document-overlay.js";
import { emitOutputs } from "./emit-outputs.js";
import { findImporters, findLinkingFiles } from "./find-affected-files.js";
import { recordUpToDate, type EmittedOutput } from "./record-up-to-date.js";
import { resolveManifestPath } from "./up-to-date-manifest.js";

/** A generator kept open between runs (watch mode, the benchmark, editor integrations). */
export interface GeneratorSession {
  /** Reads everything afresh and regenerates every output. */
  run(): Promise<GenerateResult>;
  /** Re-reads `changedPaths` (changed, added or deleted files) and regenerates what they touch. */
  update(changedPaths: readonly string[]): Promise<GenerateResult>;
  /**
   * Lays editor texts over the disk (`text` undefined: back to the disk), re-analyses what they
   * touch and reports the project's diagnostics; writes nothing. `run()` and `update()` read
   * the disk only (they drop the texts), so call this again after them for documents still open.
   */
  diagnose(documents: readonly DocumentText[]): Promise<DiagnoseResult>;
  /** Every file the loaded project reads outside node_modules, and its tsconfig: what to watch. */
  listWatchedFiles(): string[];
  /** Folders where new inputs may appear (folders given as paths, the tsconfig's include roots). */
  listInputFolders(): string[];
  /** Releases the project; later calls fail. */
  close(): void;
}

/** One input's analysis, kept until the file or something it depends on changes. */
interface FileAnalysis {
  /** Absent when the file declares no model. */
  info?: SourceFileInfo;
  diagnostics: Diagnostic[];
}

/** The state of an open project: everything `update()` reuses. */
interface LoadedProject {
  project: Project;
  setup: ProjectSetup;
  inputs: Set<string>;
  layout: OutputLayout;
  analyses: Map<string, FileAnalysis>;
  /** Whole-run diagnostics of discovery (a path that matched nothing). */
  runDiagnostics: Diagnostic[];
  /** Inputs whose outputs still have to be brought up to date (kept across failing runs). */
  pending: Set<string>;
  /** Deleted inputs whose outputs still have to be removed (kept across failing runs). */
  pendingRemovals: Set<string>;
  /** Generated files whose source is gone, found by the last full run (see find-orphaned-outputs.ts). */
  orphanedOutputs: Set<string>;
  /** What the last successful emit left on disk (for the up-to-date manifest). */
  lastEmitted?: EmittedOutput[];
  /** Whether the project runs in the lean compiler environment (see reduce-compiler-environment.ts). */
  lean: boolean;
}

/** Opens a generator session over `options` (nothing is read until `run()` or `update()`). */
export function openGenerator(options: GenerateOptions = {}): GeneratorSession {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  let loaded: LoadedProject | undefined;
  let closed = false;
  // Runs start in the lean environment (no DOM lib, no automatic @types) and switch to the
  // user's full one, for the rest of the session, the first time a run reports an error: see
  // config/reduce-compiler-environment.ts for why a run without errors is the same either way.
  let fullEnvironment = false;
  // Runs never overlap: a watcher may ask for an update while the previous one is rendering.
  let queue: Promise<unknown> = Promise.resolve();
  // Editor texts of diagnose(), by absolute path: laid over the disk by diagnosing runs only.
  const overlays = new Map<string, string>();

  const setupOptions = (): ProjectSetupOptions => pickSetupOptions(cwd, options);

  function enqueue<T>(work: () => Promise<T>): Promise<T> {
    if (closed) return Promise.reject(new Error("The generator session is closed."));
    const next = queue.then(work, work);
    queue = next.catch(() => undefined);
    return next;
  }

  /**
   * A full run; `carriedRemovals`: outputs of deleted inputs an earlier state still had to remove.
   * `emit` false (diagnose): editor texts laid over the disk, validation only, nothing written.
   */
  async function runAll(carriedRemovals: ReadonlySet<string> = new Set(), emit = true): Promise<GenerateResult> {
    if (emit) overlays.clear();
    const timings = createTimings();
    const started = performance.now();
    // Wall clock before any file is read: the manifest's reference for "changed since".
    const startedAt = Date.now();
    loaded = undefined;
    // Prettier caches the configs it found per folder; a full run must see an edited .prettierrc.
    await clearPrettierConfigCache();
    const setupResult = resolveProjectSetup(setupOptions());
    if (setupResult.setup === undefined) {
      timings.discover = performance.now() - started;
      return failedResult(setupResult.diagnostics, timings, started);
    }
    options.onProgress?.({ phase: "discover", done: 0, total: 1 });
    const lean = fullEnvironment ? undefined : reduceCompilerEnvironment(setupResult.setup.compilerOptions);
    const project = new Project({ compilerOptions: lean ?? setupResult.setup.compilerOptions, skipAddingFilesFromTsConfig: true });
    const discovered = discoverInputs(project, setupResult.setup, options.paths);
    timings.discover = performance.now() - started;
    if (discovered.diagnostics.some((diagnostic) => diagnostic.severity === "error") && discovered.files.length === 0) {
      return failedResult(discovered.diagnostics, timings, started);
    }
    const layout = createOutputLayout(cwd, setupResult.setup.rootDir, discovered.files, options.outDir);
    const state: LoadedProject = {
      project,
      setup: setupResult.setup,
      inputs: new Set(discovered.files),
      layout,
      analyses: new Map(),
      runDiagnostics: discovered.diagnostics,
      pending: new Set(discovered.files),
      pendingRemovals: new Set([...carriedRemovals].filter((file) => !discovered.files.includes(file))),
      orphanedOutputs: new Set(findOrphanedOutputs(listOutputRoots(setupResult.setup, options.paths, discovered.files, layout), new Set(discovered.files.map((file) => resolveOutputPath(file, layout))))),
      lean: lean !== undefined,
    };
    for (const [file, text] of overlays) {
      const sourceFile = project.getSourceFile(file);
      if (sourceFile !== undefined) refreshSourceFile(sourceFile, text);
    }
    analyzeInto(state, discovered.files, timings);
    loaded = state;
    const result = await finish(state, new Set(discovered.files), timings, started, emit);
    if (lean !== undefined && hasErrors(result)) {
      fullEnvironment = true;
      return runAll(state.pendingRemovals, emit);
    }
    if (emit && result.ok && options.check !== true && state.lastEmitted !== undefined && discovered.diagnostics.length === 0) {
      const recordStarted = performance.now();
      const { location, identity } = computeRunIdentity(cwd, options, state.setup, discovered.files);
      recordUpToDate({
        manifestFile: resolveManifestPath(options.cacheDir ?? resolveDefaultCacheDir(cwd), location),
        identity,
        startedAt,
        program: project.getProgram().compilerObject,
        outputs: state.lastEmitted,
        guardedOutputs: discovered.files.filter((file) => state.analyses.get(file)?.info === undefined).map((file) => resolveOutputPath(file, layout)),
        diagnostics: result.diagnostics,
        models: result.models,
        inputs: result.files,
      });
      timings.write += performance.now() - recordStarted;
      timings.total = performance.now() - started;
    }
    return result;
  }

  /** `emit` false (diagnose): editor texts laid over the disk, validation only, nothing written. */
  async function updateSome(changedPaths: readonly string[], emit = true): Promise<GenerateResult> {
    const state = loaded;
    // A writing update reads the disk: files that held editor texts go back to it too.
    const changed = [...new Set([...changedPaths.map((file) => path.resolve(cwd, file)), ...(emit ? overlays.keys() : [])])];
    if (emit) overlays.clear();
    // Without a loaded project, when the configuration itself changed, or while a whole-run
    // problem stands (a path that matched nothing may match now), only a full run is right.
    if (state === undefined || changed.some(isConfigurationFile) || state.runDiagnostics.length > 0) return runAll(state?.pendingRemovals, emit);
    const timings = createTimings();
    const started = performance.now();
    const touched = new Set<string>();
    const isModelFile = (file: string): boolean => state.analyses.get(file)?.info !== undefined;
    // Importers of the changed files are looked up before the refresh: a deleted file is still in
    // the project now, and afterwards nothing would lead to the files that imported it.
    for (const file of findImporters(state.project, changed, isModelFile)) touched.add(file);
    const added: string[] = [];
    for (const file of changed) {
      const sourceFile = state.project.getSourceFile(file);
      if (sourceFile !== undefined) {
        touched.add(file);
        if (refreshSourceFile(sourceFile, overlays.get(file)) === FileSystemRefreshResult.Deleted) {
          // ts-morph forgets a deleted file; make sure it is gone even when it was never read.
          if (!sourceFile.wasForgotten()) state.project.removeSourceFile(sourceFile);
          if (state.inputs.delete(file)) state.pendingRemovals.add(file);
          state.analyses.delete(file);
          state.pending.delete(file);
        }
      } else if (existsSync(file) && isInputFile(file) && isNewInput(state, file)) {
        const sourceFile = state.project.addSourceFileAtPath(file);
        const overlay = overlays.get(file);
        if (overlay !== undefined) refreshSourceFile(sourceFile, overlay);
        state.inputs.add(file);
        state.pendingRemovals.delete(file);
        touched.add(file);
        added.push(file);
      }
    }
    // A file new to the project had no importers to find before it was added: files whose
    // import of it failed to resolve until now.
    if (added.length > 0) for (const file of findImporters(state.project, added, isModelFile)) touched.add(file);
    const analysed = [...state.analyses.values()].flatMap((analysis) => (analysis.info === undefined ? [] : [analysis.info]));
    for (const file of findLinkingFiles(analysed, new Set(changed))) touched.add(file);
    const affected = [...touched].filter((file) => state.inputs.has(file)).sort();
    timings.discover = performance.now() - started;
    analyzeInto(state, affected, timings);
    for (const file of affected) state.pending.add(file);
    const result = await finish(state, new Set(affected), timings, started, emit);
    if (state.lean && hasErrors(result)) {
      fullEnvironment = true;
      return runAll(state.pendingRemovals, emit);
    }
    return result;
  }

  /** Lays `documents` over the disk and validates the project as they stand; writes nothing. */
  async function diagnoseSome(documents: readonly DocumentText[]): Promise<DiagnoseResult> {
    const changed: string[] = [];
    for (const document of documents) {
      const file = path.resolve(cwd, document.file);
      if (document.text === undefined) overlays.delete(file);
      else overlays.set(file, document.text);
      changed.push(file);
    }
    // An editor shows errors most of the time, which would send a lean session back to a full
    // reload on the first keystroke: a diagnosing session starts in the user's full environment.
    let result: GenerateResult;
    if (loaded === undefined || loaded.lean) {
      fullEnvironment = true;
      result = await runAll(loaded?.pendingRemovals, false);
    } else result = await updateSome(changed, false);
    return { diagnostics: result.diagnostics, projectInfo: loaded === undefined ? { files: [] } : buildProjectInfo(loaded), timings: result.timings, analyzed: result.analyzed };
  }

  /** Analyses `files` and replaces their cached results. */
  function analyzeInto(state: LoadedProject, files: readonly string[], timings: GenerateTimings): void {
    const started = performance.now();
    options.onProgress?.({ phase: "analyze", done: 0, total: files.length });
    const candidates = files.flatMap((file) => {
      const sourceFile = state.project.getSourceFile(file);
      return sourceFile !== undefined && mayDeclareModels(sourceFile) ? [sourceFile] : [];
    });
    const result = candidates.length === 0 ? { project: { files: [] }, diagnostics: [] } : analyzeSourceFiles(candidates, { project: state.project, inputFiles: state.inputs });
    const fresh = new Map<string, FileAnalysis>(files.map((file) => [file, { diagnostics: [] }]));
    for (const info of result.project.files) {
      const analysis = fresh.get(info.file);
      if (analysis !== undefined && info.models.length > 0) analysis.info = info;
    }
    for (const diagnostic of result.diagnostics) {
      // A diagnostic belongs to the file it points into; one pointing elsewhere (or nowhere)
      // stays with the first analysed file so it is dropped exactly when that batch is redone.
      const owner = (diagnostic.span !== undefined ? fresh.get(diagnostic.span.file) : undefined) ?? fresh.get(files[0] ?? "");
      owner?.diagnostics.push(diagnostic);
    }
    for (const [file, analysis] of fresh) state.analyses.set(file, analysis);
    options.onProgress?.({ phase: "analyze", done: files.length, total: files.length });
    timings.analyze = performance.now() - started;
  }

  /** Validates the whole project, then renders and writes the pending outputs if all is well. */
  async function finish(state: LoadedProject, analysedNow: Set<string>, timings: GenerateTimings, started: number, emit = true): Promise<GenerateResult> {
    const validateStarted = performance.now();
    const projectInfo = buildProjectInfo(state);
    const planned = projectInfo.files.map((info) => ({ info, outFile: resolveOutputPath(info.file, state.layout) }));
    const diagnostics = sortDiagnostics([
      ...state.runDiagnostics,
      ...[...state.analyses.values()].flatMap((analysis) => analysis.diagnostics),
      ...validateProject(projectInfo),
      ...findOutputCollisions(planned, cwd),
    ]);
    timings.validate = performance.now() - validateStarted;
    const models = projectInfo.files.reduce((count, file) => count + file.models.length, 0);
    const base = { diagnostics, models, files: state.inputs.size, analyzed: analysedNow.size };
    if (!emit || diagnostics.some((diagnostic) => diagnostic.severity === "error")) {
      timings.total = performance.now() - started;
      return { ok: !diagnostics.some((diagnostic) => diagnostic.severity === "error"), written: [], unchanged: [], removed: [], stale: [], outputs: [], ...base, upToDate: false, timings };
    }
    // An output a model file claims is never removed on behalf of another input that maps onto
    // the same path (`a.tsx` without models beside `a.ts` with them).
    const claimed = new Set(planned.map((entry) => entry.outFile));
    const pending = [...state.pending]
      .sort()
      .map((file) => ({ file, outFile: resolveOutputPath(file, state.layout), info: state.analyses.get(file)?.info }))
      .filter((entry) => entry.info !== undefined || !claimed.has(entry.outFile));
    const removedFiles = [...state.pendingRemovals].map((file) => resolveOutputPath(file, state.layout));
    const emitted = await emitOutputs({
      projectInfo,
      files: pending,
      removedFiles: [...new Set([...removedFiles, ...state.orphanedOutputs])].filter((file) => !claimed.has(file)).sort(),
      schemaOut: options.schemaOut === undefined ? undefined : path.resolve(cwd, options.schemaOut),
      check: options.check === true,
      cacheDir: options.cacheDir ?? resolveDefaultCacheDir(cwd),
      timings,
      onProgress: options.onProgress,
      log: options.log,
      cwd,
    });
    if (emitted.diagnostics.length > 0) {
      timings.total = performance.now() - started;
      return { ok: false, ...emitted.result, ...base, diagnostics: sortDiagnostics([...diagnostics, ...emitted.diagnostics]), upToDate: false, timings };
    }
    state.lastEmitted = emitted.emitted;
    if (options.check !== true) {
      state.pending.clear();
      state.pendingRemovals.clear();
      state.orphanedOutputs.clear();
    }
    timings.total = performance.now() - started;
    return { ok: emitted.result.stale.length === 0, ...emitted.result, ...base, upToDate: false, timings };
  }

  function isNewInput(state: LoadedProject, file: string): boolean {
    if (options.paths === undefined || options.paths.length === 0) {
      // The tsconfig's include patterns decide; re-reading them is cheap next to a regeneration.
      const setup = resolveProjectSetup(setupOptions()).setup;
      return setup?.configFiles.includes(file) ?? false;
    }
    // Globs and folders are re-expanded against the project, which already holds every other match.
    const scratch: Diagnostic[] = [];
    return options.paths.some((given) => expandPath(state.project, cwd, given, scratch).includes(file));
  }

  function failedResult(diagnostics: Diagnostic[], timings: GenerateTimings, started: number): GenerateResult {
    timings.total = performance.now() - started;
    return { ok: false, written: [], unchanged: [], removed: [], stale: [], outputs: [], diagnostics: sortDiagnostics(diagnostics), models: 0, files: 0, analyzed: 0, upToDate: false, timings };
  }

  return {
    run: () => enqueue(() => runAll()),
    update: (changedPaths) => enqueue(() => updateSome(changedPaths)),
    diagnose: (documents) => enqueue(() => diagnoseSome(documents)),
    listWatchedFiles: () => {
      if (loaded === undefined) return [];
      // The program's files, not the project's: imported files (a shared types.ts) matter too.
      const program = loaded.project.getProgram().compilerObject;
      const files = program
        .getSourceFiles()
        .filter((sourceFile) => !program.isSourceFileDefaultLibrary(sourceFile))
        .map((sourceFile) => sourceFile.fileName)
        .filter((file) => !/[\\/]node_modules[\\/]/.test(file));
      if (loaded.setup.tsConfigFile !== undefined) files.push(loaded.setup.tsConfigFile);
      return files;
    },
    listInputFolders: () => {
      const folders = (options.paths ?? []).map((given) => path.resolve(cwd, given)).filter((folder) => existsSync(folder) && statSync(folder).isDirectory());
      if (loaded !== undefined && (options.paths === undefined || options.paths.length === 0)) folders.push(...loaded.setup.includeDirs);
      return folders;
    },
    close: () => {
      closed = true;
      loaded = undefined;
    },
  };
}

/** The merged IR: every input's cached analysis, in path order. */
function buildProjectInfo(state: LoadedProject): ProjectInfo {
  const files = [...state.inputs]
    .sort()
    .flatMap((file) => {
      const info = state.analyses.get(file)?.info;
      return info === undefined ? [] : [info];
    });
  return { files };
}

function hasErrors(result: GenerateResult): boolean {
  return result.diagnostics.some((diagnostic) => diagnostic.severity === "error");
}

function createTimings(): GenerateTimings {
  return { discover: 0, analyze: 0, validate: 0, render: 0, write: 0, total: 0 };
}
