/**
 * Finds the `asymgen` bin the language server runs from: the `asymgen.path` setting when given,
 * else the project's own node_modules/.bin/asymgen (installed by @asymgen/generator), so the
 * server that checks the models is the same version that generates them. No `vscode` import:
 * this is plain path logic.
 */
import { existsSync, statSync } from "node:fs";
import path from "node:path";

/** Where the bin was found, or why it was not. */
export type AsymgenBinLookup =
  | { found: true; bin: string }
  | { found: false; reason: "setting-missing"; bin: string }
  | { found: false; reason: "not-installed"; searched: string[] };

/** The bin's file name in node_modules/.bin: npm writes a .cmd shim on Windows, a symlink elsewhere. */
export function asymgenBinName(platform: NodeJS.Platform = process.platform): string {
  return platform === "win32" ? "asymgen.cmd" : "asymgen";
}

/**
 * Looks for the bin: `configuredPath` (relative to `folder` when not absolute) when non-empty,
 * else node_modules/.bin/asymgen in `folder` and each folder above it, as Node resolves packages
 * (a workspace opened on one package of a monorepo finds the root's hoisted install).
 */
export function findAsymgenBin(folder: string, configuredPath: string | undefined, platform: NodeJS.Platform = process.platform): AsymgenBinLookup {
  if (configuredPath !== undefined && configuredPath.trim() !== "") {
    const bin = path.resolve(folder, configuredPath.trim());
    return isFile(bin) ? { found: true, bin } : { found: false, reason: "setting-missing", bin };
  }
  const searched: string[] = [];
  for (let current = path.resolve(folder); ; current = path.dirname(current)) {
    const bin = path.join(current, "node_modules", ".bin", asymgenBinName(platform));
    searched.push(bin);
    if (isFile(bin)) return { found: true, bin };
    if (path.dirname(current) === current) return { found: false, reason: "not-installed", searched };
  }
}

function isFile(file: string): boolean {
  // statSync follows the symlink npm makes: a dangling link (a removed package) is not a bin.
  return existsSync(file) && statSync(file).isFile();
}
