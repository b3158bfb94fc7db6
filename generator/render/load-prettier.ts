/**
 * prettier, loaded only when a run needs it.
 *
 * Why: most runs never format anything (format-output.ts: the templates print what prettier
 * would), yet finding out whether a user's prettier config applies used to load prettier
 * (~50 ms of a cold `asymgen generate`, ~2 s on the bench corpus). So the config search is
 * answered here first, from the file system: prettier 3 looks, from the output's folder up to
 * the root, for the files in PRETTIER_CONFIG_FILE_NAMES (a package.json or package.yaml only
 * counting with a "prettier" key). When none of them is there, `resolveConfig` would return
 * null and prettier stays unloaded; whenever one is, prettier itself resolves the config, so the
 * answer is always prettier's. prettier is pinned exactly (its output is part of the goldens);
 * test/generator/load-prettier.test.ts checks this list against the installed prettier's own.
 */
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type { Options } from "prettier";

/** The names prettier 3.8's config searcher looks for in each folder (src/config/prettier-config/config-searcher.js). */
export const PRETTIER_CONFIG_FILE_NAMES: readonly string[] = [
  "package.json",
  "package.yaml",
  ".prettierrc",
  ".prettierrc.json",
  ".prettierrc.yml",
  ".prettierrc.yaml",
  ".prettierrc.json5",
  ".prettierrc.js",
  "prettier.config.js",
  ".prettierrc.ts",
  "prettier.config.ts",
  ".prettierrc.mjs",
  "prettier.config.mjs",
  ".prettierrc.mts",
  "prettier.config.mts",
  ".prettierrc.cjs",
  "prettier.config.cjs",
  ".prettierrc.cts",
  "prettier.config.cts",
  ".prettierrc.toml",
];

const configNames = new Set(PRETTIER_CONFIG_FILE_NAMES);

type Prettier = typeof import("prettier");

let loading: Promise<Prettier> | undefined;
/** Per folder: whether it may hold a prettier config (dropped with prettier's own config cache). */
const folderVerdicts = new Map<string, boolean>();

/** prettier's module, imported on first use. */
export function loadPrettier(): Promise<Prettier> {
  loading ??= import("prettier");
  return loading;
}

let version: string | undefined;

/** prettier's version, read from its package.json (without loading prettier). */
export function readPrettierVersion(): string {
  version ??= (createRequire(import.meta.url)("prettier/package.json") as { version: string }).version;
  return version;
}

/** prettier's `clearConfigCache()`, and this module's folder verdicts: the next lookups read the disk again. */
export async function clearPrettierConfigCache(): Promise<void> {
  folderVerdicts.clear();
  if (loading !== undefined) await (await loading).clearConfigCache();
}

/** What prettier's `resolveConfig(file)` returns, loading prettier only when a config file may apply. */
export async function resolvePrettierConfig(file: string): Promise<Options | null> {
  if (!mayHaveConfig(path.dirname(path.resolve(file)))) return null;
  return (await loadPrettier()).resolveConfig(file);
}

/** Whether `folder` or a folder above it holds something prettier's config search would consider. */
function mayHaveConfig(folder: string): boolean {
  const known = folderVerdicts.get(folder);
  if (known !== undefined) return known;
  const parent = path.dirname(folder);
  const verdict = folderMayHoldConfig(folder) || (parent !== folder && mayHaveConfig(parent));
  folderVerdicts.set(folder, verdict);
  return verdict;
}

function folderMayHoldConfig(folder: string): boolean {
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch (error) {
    // A folder that does not exist yet (an --out-dir to be made) holds nothing; one that cannot be read is left to prettier.
    const code = (error as NodeJS.ErrnoException).code;
    return code !== "ENOENT" && code !== "ENOTDIR";
  }
  for (const name of names) {
    if (!configNames.has(name)) continue;
    if (name !== "package.json") return true;
    // Most projects have a package.json; only one with a "prettier" key (or one that does not parse) is prettier's business.
    try {
      const manifest = JSON.parse(readFileSync(path.join(folder, name), "utf8")) as unknown;
      if (typeof manifest !== "object" || manifest === null || Object.hasOwn(manifest, "prettier")) return true;
    } catch {
      return true;
    }
  }
  return false;
}
