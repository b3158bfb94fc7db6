/**
 * Where the generated file of an input goes: `X.realm.ts` beside `X.ts`, or under `--out-dir`
 * at the same path relative to the common root.
 */
import path from "node:path";

/** The place outputs go and the root their relative paths are kept from. */
export interface OutputLayout {
  /** Absolute; absent: outputs go beside their inputs. */
  outDir?: string;
  /** Absolute; the folder input paths are taken relative to under `outDir`. */
  rootDir: string;
}

/** The layout of a run: `outDir` resolved against `cwd`, the tsconfig's rootDir or else the inputs' common folder. */
export function createOutputLayout(cwd: string, rootDir: string | undefined, inputs: readonly string[], outDir: string | undefined): OutputLayout {
  const layout: OutputLayout = { rootDir: rootDir ?? findCommonDir(inputs) };
  if (outDir !== undefined) layout.outDir = path.resolve(cwd, outDir);
  return layout;
}

/** The absolute path of the generated file for the absolute input path `sourceFile`. */
export function resolveOutputPath(sourceFile: string, layout: OutputLayout): string {
  const parsed = path.parse(sourceFile);
  const name = path.basename(generatedFileName(sourceFile));
  if (layout.outDir === undefined) return path.join(parsed.dir, name);
  const relativeDir = path.relative(layout.rootDir, parsed.dir);
  // An input outside the root would climb out of outDir; flatten the climb so it stays inside.
  const safeDir = relativeDir.split(path.sep).filter((part) => part !== "..").join(path.sep);
  return path.join(layout.outDir, safeDir, name);
}

/** The deepest folder holding every one of `files` (absolute paths). */
export function findCommonDir(files: readonly string[]): string {
  if (files.length === 0) return process.cwd();
  let common = path.dirname(files[0]!).split(path.sep);
  for (const file of files.slice(1)) {
    const parts = path.dirname(file).split(path.sep);
    let length = 0;
    while (length < common.length && length < parts.length && common[length] === parts[length]) length++;
    common = common.slice(0, length);
  }
  return common.join(path.sep) || path.sep;
}

/** The generated file beside a model file: `X.ts` → `X.realm.ts`, `X.mts` → `X.realm.mts`, `X.cts` → `X.realm.cts`. */
export function generatedFileName(sourceFile: string): string {
  const parsed = path.parse(sourceFile);
  // `.mts`/`.cts` keep their module flavour; `.tsx` models produce plain `.ts` (no JSX inside).
  const extension = parsed.ext === ".mts" || parsed.ext === ".cts" ? parsed.ext : ".ts";
  return path.join(parsed.dir, `${parsed.name}.realm${extension}`);
}

/**
 * The path an import names for a TypeScript file: the JavaScript file it compiles to
 * (`.ts`/`.tsx` → `.js`, `.mts` → `.mjs`, `.cts` → `.cjs`), which node16/nodenext resolution
 * requires spelled out. The one place this mapping lives.
 */
export function importPathOf(tsFile: string): string {
  return tsFile.replace(/\.(m|c)?tsx?$/, (_match, flavour: string | undefined) => `.${flavour ?? ""}js`);
}
