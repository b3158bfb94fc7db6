/**
 * The generator package's version for `asymgen --version`, read from the package.json above this file
 * (yargs cannot find it itself from an ESM module).
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The `version` of the nearest package.json above this module, or "unknown". */
export function readPackageVersion(): string {
  let directory = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(directory, "package.json");
    if (existsSync(candidate)) {
      const manifest = JSON.parse(readFileSync(candidate, "utf8")) as { name?: string; version?: string };
      if (manifest.name === "@asymgen/generator" && manifest.version !== undefined) return manifest.version;
    }
    const parent = path.dirname(directory);
    if (parent === directory) return "unknown";
    directory = parent;
  }
}
