/**
 * Which files a run may read models from: TypeScript sources, never declaration files, never
 * the generator's own outputs, never dependencies.
 */

const SOURCE_EXTENSION = /\.(ts|tsx|mts|cts)$/;
const DECLARATION = /\.d\.(ts|mts|cts)$|\.d\.[^./\\]+\.ts$/;
const GENERATED = /\.realm\.(ts|mts|cts)$/;

/** Whether a path names a file the generator may take as input. */
export function isInputFile(file: string): boolean {
  if (!SOURCE_EXTENSION.test(file)) return false;
  if (DECLARATION.test(file) || GENERATED.test(file)) return false;
  return !/(^|[\\/])node_modules[\\/]/.test(file);
}

/** Whether a path names a TypeScript source by its extension (a `.js` file never holds models here). */
export function isTypeScriptSource(file: string): boolean {
  return SOURCE_EXTENSION.test(file);
}

/** Whether a path looks like a glob rather than a plain file or folder name. */
export function isGlobPattern(text: string): boolean {
  return /[*?[\]{}!]/.test(text);
}
