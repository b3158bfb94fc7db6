/**
 * Which file changes a bundler reports are the generator's business. A bundler's watcher sees the
 * whole app (Vite watches its root): only the files the generator session reads, new files where
 * inputs may appear, and configuration above them may change an output. The generator's own
 * outputs (X.realm.ts, the schema file) never count, so writing them cannot start another run.
 */
import path from "node:path";
import { isConfigurationFile } from "../discover/is-configuration-file.js";
import { isRelevant } from "../watch/watch-generator.js";

/** A change as bundlers report it (Rollup's `watchChange` names). */
export interface FileChange {
  file: string;
  event: "create" | "update" | "delete";
}

/** What the session reads after its last run: the scope a change must fall in. */
export interface WatchScope {
  /** Absolute paths of every file the session reads (and its tsconfig). */
  files: ReadonlySet<string>;
  /** Folders holding those files: where a new input may appear beside them. */
  folders: ReadonlySet<string>;
  /** Folders given as paths or searched by the tsconfig's include patterns. */
  inputFolders: readonly string[];
  /** The schema file, an output. */
  schemaOut: string | undefined;
}

/** Builds the scope from the session's file list. */
export function createWatchScope(files: readonly string[], inputFolders: readonly string[], schemaOut: string | undefined): WatchScope {
  const resolved = files.map((file) => path.resolve(file));
  return { files: new Set(resolved), folders: new Set(resolved.map((file) => path.dirname(file))), inputFolders, schemaOut };
}

/** True when `change` may alter what the generator writes. */
export function isModelChange(change: FileChange, scope: WatchScope): boolean {
  const file = path.resolve(change.file);
  if (!isRelevant(file, scope.schemaOut)) return false;
  if (scope.files.has(file)) return true;
  if (isConfigurationFile(file)) return [...scope.folders].some((folder) => isInside(folder, path.dirname(file)));
  // A file the session does not read matters only when it appears: it may be a new input. An
  // edit to an app module beside the models is the bundler's business, not a generator run.
  return change.event === "create" && (scope.folders.has(path.dirname(file)) || scope.inputFolders.some((folder) => isInside(file, folder)));
}

/** Whether `inner` is `outer` or below it. */
function isInside(inner: string, outer: string): boolean {
  const relative = path.relative(outer, inner);
  return relative === "" || (!relative.startsWith("..") && !path.isAbsolute(relative));
}
