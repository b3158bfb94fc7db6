/** Whether a file is configuration that shapes every output below its folder. */
import path from "node:path";

/** A tsconfig, package.json, prettier or editorconfig file (prettier reads .editorconfig). */
export function isConfigurationFile(file: string): boolean {
  return /^tsconfig.*\.json$|^package\.json$|^\.prettierrc|^prettier\.config\.|^\.editorconfig$/.test(path.basename(file));
}
