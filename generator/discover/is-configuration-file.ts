/** Whether a file is configuration that shapes every output below its folder. */
import path from "node:path";
import { PRETTIER_CONFIG_FILE_NAMES } from "../render/load-prettier.js";

const prettierConfigNames = new Set(PRETTIER_CONFIG_FILE_NAMES);

/**
 * A tsconfig, or a file prettier's config search reads (package.json among them). Not
 * .editorconfig: prettier reads it only when `resolveConfig` is asked to, and the generator never
 * asks, so an edited .editorconfig cannot change an output and must not cost a full run.
 */
export function isConfigurationFile(file: string): boolean {
  const name = path.basename(file);
  return /^tsconfig.*\.json$/.test(name) || prettierConfigNames.has(name);
}

/** The same files as one glob, for an editor's file watcher (LSP `didChangeWatchedFiles`). */
export const CONFIGURATION_FILE_GLOB = `**/{tsconfig*.json,${PRETTIER_CONFIG_FILE_NAMES.join(",")}}`;
