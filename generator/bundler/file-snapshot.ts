/**
 * For bundlers that rebuild without telling what changed (an esbuild context's `rebuild()`): the
 * size and mtime of every file the generator reads, and of the files in the folders where new
 * inputs may appear, compared between two builds. A stat per file: ~1 ms for 100 model files.
 */
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { walkFolderTree } from "../discover/walk-folder-tree.js";
import type { FileChange } from "./watch-scope.js";

/** Absolute path → size and mtime when the snapshot was taken. */
export type FileSnapshot = Map<string, { size: number; mtimeMs: number }>;

/** Stats `files`, every other file in their folders, and every file below `trees`. */
export function takeFileSnapshot(files: readonly string[], trees: Iterable<string>): FileSnapshot {
  const snapshot: FileSnapshot = new Map();
  const add = (file: string): void => {
    if (snapshot.has(file)) return;
    try {
      const stats = statSync(file);
      if (stats.isFile()) snapshot.set(file, { size: stats.size, mtimeMs: stats.mtimeMs });
    } catch {
      // Gone: absent from the snapshot, so the next comparison reports it deleted.
    }
  };
  for (const file of files) add(path.resolve(file));
  for (const folder of new Set(files.map((file) => path.dirname(path.resolve(file))))) for (const name of listNames(folder)) add(path.join(folder, name));
  for (const tree of trees) for (const file of walkFolderTree(tree).files) add(file);
  return snapshot;
}

/**
 * What changed from `before` to `after`; files already in `before` that were modified at or
 * after `runStartedAt` count as changed too (edited while the run that took `before` was reading).
 */
export function compareFileSnapshots(before: FileSnapshot, after: FileSnapshot, runStartedAt: number): FileChange[] {
  const changes: FileChange[] = [];
  for (const [file, now] of after) {
    const was = before.get(file);
    if (was === undefined) changes.push({ file, event: "create" });
    else if (was.size !== now.size || was.mtimeMs !== now.mtimeMs || was.mtimeMs >= runStartedAt) changes.push({ file, event: "update" });
  }
  for (const file of before.keys()) if (!after.has(file)) changes.push({ file, event: "delete" });
  return changes;
}

function listNames(folder: string): string[] {
  try {
    return readdirSync(folder);
  } catch {
    return [];
  }
}
