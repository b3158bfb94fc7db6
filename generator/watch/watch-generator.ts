/**
 * `--watch`: one generator session kept open, fed the files that change. It watches the folders
 * of the files the project reads (not node_modules: a recursive watch there costs thousands of
 * inotify handles), collects events for a short debounce, and prints what each update wrote.
 */
import { existsSync, statSync, watch, type FSWatcher } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import type { GenerateOptions, GenerateResult } from "../config/generate-options.js";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { createInternalErrorDiagnostic } from "../config/create-internal-error-diagnostic.js";
import { walkFolderTree } from "../discover/walk-folder-tree.js";
import { isConfigurationFile } from "../discover/is-configuration-file.js";
import { openGenerator } from "../pipeline/open-generator.js";

/** What watch mode needs beyond a run's options. */
export interface WatchOptions extends GenerateOptions {
  /** Prints one line (what was written, a summary). */
  print: (line: string) => void;
  /** Prints the diagnostics of a run (and an internal failure's); watch mode keeps going after them. */
  printDiagnostics: (diagnostics: Diagnostic[]) => void;
  /**
   * When given, each run's whole result is handed here instead of `printDiagnostics` and the
   * summary lines (`--format json` prints it as one report object per run).
   */
  printResult?: (result: GenerateResult) => void;
  /** Milliseconds to wait for more events before regenerating; default 50. */
  debounceMs?: number;
}

/** A running watch: the first run's result, and a way to stop. */
export interface WatchHandle {
  /** Settles with the first full run. */
  ready: Promise<GenerateResult | undefined>;
  /** Stops watching and closes the session. */
  close(): void;
}

/** Starts watch mode: a full run, then an update for every batch of file changes. */
export function watchGenerator(options: WatchOptions): WatchHandle {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const session = openGenerator({ ...options, cwd, log: options.print });
  const watchers = new Map<string, FSWatcher>();
  const changed = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let closed = false;
  let fullRunNeeded = false;

  const report = (result: GenerateResult, started: number): void => {
    if (options.printResult !== undefined) {
      options.printResult(result);
      return;
    }
    if (result.diagnostics.length > 0) options.printDiagnostics(result.diagnostics);
    const ms = Math.round(performance.now() - started);
    if (!result.ok) options.print(`Wrote nothing (${countErrors(result.diagnostics)}); watching for changes.`);
    else if (result.written.length === 0 && result.removed.length === 0) options.print(`No output changed (${ms} ms).`);
  };

  const runSafely = async (work: () => Promise<GenerateResult>): Promise<GenerateResult | undefined> => {
    const started = performance.now();
    try {
      const result = await work();
      if (!closed) report(result, started);
      return result;
    } catch (error) {
      // An internal failure on one change must not end the watch: the next edit may avoid it.
      if (!closed) options.printDiagnostics([createInternalErrorDiagnostic(error)]);
      return undefined;
    } finally {
      if (!closed) syncWatchers();
    }
  };

  const flush = (): void => {
    timer = undefined;
    const batch = [...changed];
    const full = fullRunNeeded;
    changed.clear();
    fullRunNeeded = false;
    if ((batch.length === 0 && !full) || closed) return;
    running = running.then(() => runSafely(() => (full ? session.run() : session.update(batch))));
  };

  const onEvent = (directory: string, fileName: string | Buffer | null): void => {
    if (closed) return;
    if (fileName === null) {
      // Some platforms drop the name: anything in the folder may have changed, so redo it all.
      fullRunNeeded = true;
    } else {
      const file = path.join(directory, fileName.toString());
      if (isNewFolder(file)) {
        // A folder appeared inside an input folder: it may hold inputs, and it needs a watcher.
        fullRunNeeded = true;
      } else {
        if (!isRelevant(file, options.schemaOut === undefined ? undefined : path.resolve(cwd, options.schemaOut))) return;
        changed.add(file);
      }
    }
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(flush, options.debounceMs ?? 50);
  };

  /** Watches the folders of every file the project reads, plus the folders the user named. */
  const syncWatchers = (): void => {
    const wanted = new Set<string>([cwd]);
    for (const file of session.listWatchedFiles()) wanted.add(path.dirname(file));
    for (const given of options.paths ?? []) {
      const absolute = path.resolve(cwd, given);
      if (existsSync(absolute) && !statSync(absolute).isDirectory()) wanted.add(path.dirname(absolute));
    }
    for (const folder of session.listInputFolders()) for (const directory of walkFolderTree(folder).folders) wanted.add(directory);
    for (const [directory, watcher] of watchers) {
      if (!wanted.has(directory)) {
        watcher.close();
        watchers.delete(directory);
      }
    }
    for (const directory of wanted) {
      if (watchers.has(directory) || !existsSync(directory)) continue;
      try {
        const watcher = watch(directory, { persistent: true }, (_event, fileName) => onEvent(directory, fileName));
        // A folder deleted under the watcher errors; dropping it is right, a later sync re-adds it.
        watcher.on("error", () => {
          watcher.close();
          watchers.delete(directory);
        });
        watchers.set(directory, watcher);
      } catch {
        // The folder vanished between the check and the watch; the next sync retries.
      }
    }
  };

  const isNewFolder = (file: string): boolean => {
    try {
      return !watchers.has(file) && statSync(file).isDirectory() && !/^\.|^node_modules$/.test(path.basename(file));
    } catch {
      return false;
    }
  };

  syncWatchers();
  const ready = runSafely(() => session.run());
  running = ready;
  return {
    ready,
    close: () => {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      for (const watcher of watchers.values()) watcher.close();
      watchers.clear();
      session.close();
    },
  };
}

/** Source files and configuration matter; outputs, temp files and the schema file do not (the bundler plugin filters with it too). */
export function isRelevant(file: string, schemaOut: string | undefined): boolean {
  if (file === schemaOut) return false;
  const name = path.basename(file);
  if (/\.realm\.(ts|mts|cts)$/.test(name) || /\.d\.(ts|mts|cts)$/.test(name)) return false;
  if (/\.(ts|tsx|mts|cts)$/.test(name)) return true;
  return isConfigurationFile(file);
}

function countErrors(diagnostics: readonly Diagnostic[]): string {
  const errors = diagnostics.filter((diagnostic) => diagnostic.severity === "error").length;
  return errors === 1 ? "1 error" : `${errors} errors`;
}
