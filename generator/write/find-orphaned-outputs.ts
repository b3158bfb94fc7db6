/**
 * Generated files whose model file is gone: renaming `m.ts` to `k.ts` leaves `m.realm.ts`
 * behind, still importing `./m.js`. A full run looks for them where outputs go (the folders of
 * the inputs, the folders and glob roots given, the tsconfig's include folders, or --out-dir)
 * and removes only files that carry the generator's header and whose source, named in the header
 * relative to the output, no longer exists. A hand-written `*.realm.ts`, or one generated from a file that still exists but is
 * not an input of this run, is never touched.
 */
import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from "node:fs";
import path from "node:path";
import type { ProjectSetup } from "../config/resolve-project-setup.js";
import { isGlobPattern } from "../discover/is-input-file.js";
import type { OutputLayout } from "./output-path.js";
import { parseGeneratedHeader } from "../render/generated-header.js";

/** A folder to look in, with or without its subfolders. */
export interface OutputRoot {
  dir: string;
  recursive: boolean;
}

const GENERATED_NAME = /\.realm\.(ts|mts|cts)$/;

/** Where a run's outputs can be: --out-dir, else the inputs' folders and the roots they were found under. */
export function listOutputRoots(setup: ProjectSetup, paths: readonly string[] | undefined, inputs: readonly string[], layout: OutputLayout): OutputRoot[] {
  if (layout.outDir !== undefined) return [{ dir: layout.outDir, recursive: true }];
  const roots: OutputRoot[] = [...new Set(inputs.map((file) => path.dirname(file)))].map((dir) => ({ dir, recursive: false }));
  if (paths === undefined || paths.length === 0) {
    for (const dir of setup.includeDirs) roots.push({ dir, recursive: true });
  } else {
    for (const given of paths) {
      const base = isGlobPattern(given) ? globBase(given) : given;
      const dir = path.resolve(setup.cwd, base);
      // A folder (or a glob's fixed prefix) may hold the outputs of inputs deleted since.
      if (isGlobPattern(given) || isDirectory(dir)) roots.push({ dir, recursive: true });
    }
  }
  return roots;
}

/** Generated files under `roots` that no current input claims (`outFiles`) and whose source is gone. */
export function findOrphanedOutputs(roots: readonly OutputRoot[], outFiles: ReadonlySet<string>): string[] {
  const seen = new Set<string>();
  const orphans = new Set<string>();
  const visit = (dir: string, recursive: boolean): void => {
    const key = `${dir}\0${recursive}`;
    if (seen.has(key)) return;
    seen.add(key);
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        // Dependencies and dot-folders (.git, caches) never hold this project's outputs.
        if (recursive && entry.name !== "node_modules" && !entry.name.startsWith(".")) visit(file, true);
      } else if (entry.isFile() && GENERATED_NAME.test(entry.name) && !outFiles.has(file)) {
        const source = readGeneratedSource(file);
        if (source !== undefined && !existsSync(path.resolve(dir, source))) orphans.add(file);
      }
    }
  };
  for (const root of roots) visit(root.dir, root.recursive);
  return [...orphans].sort();
}

/** The source path in a generated file's header (relative to the file's folder), or undefined when it has none. */
function readGeneratedSource(file: string): string | undefined {
  // The header is the first line: read a little, not the whole file.
  const buffer = Buffer.alloc(512);
  let length = 0;
  try {
    const handle = openSync(file, "r");
    try {
      length = readSync(handle, buffer, 0, buffer.length, 0);
    } finally {
      closeSync(handle);
    }
  } catch {
    return undefined;
  }
  const text = buffer.subarray(0, length).toString("utf8");
  return parseGeneratedHeader(text);
}

/** The fixed folder part of a glob (`src/models/**\/*.ts` → `src/models`). */
function globBase(pattern: string): string {
  const parts = pattern.split(/[\\/]/);
  const fixed: string[] = [];
  for (const part of parts) {
    if (isGlobPattern(part)) break;
    fixed.push(part);
  }
  return fixed.length === 0 ? "." : fixed.join("/");
}

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}
