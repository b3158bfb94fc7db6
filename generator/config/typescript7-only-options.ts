/**
 * Options a TypeScript 7 user's tsconfig may hold that the TypeScript the generator reads it with
 * (6.0, inside ts-morph) does not know. TypeScript 7 is the native compiler: these are its own
 * knobs for threads, profiling and output, plus `deduplicatePackages` (TypeScript has always
 * unified two copies of one package version; 7 lets a project switch that off). None changes
 * what a model's types mean, so the generator ignores them instead of refusing the tsconfig
 * (ASYM1003 "Unknown compiler option 'checkers'", found by test/generator/typescript7.test.ts).
 */
import type { ts } from "ts-morph";

/** TypeScript 7's compilerOptions unknown to TypeScript 6 (from `tsc --all` of 7.0.2 against 6.0). */
const COMPILER_OPTIONS = new Set(["checkers", "singleThreaded", "quiet", "pprofDir", "deduplicatePackages"]);
/** TypeScript 7's watchOptions unknown to TypeScript 6. */
const WATCH_OPTIONS = new Set(["watchInterval"]);

/** TypeScript 6's codes for an unknown option: compiler (plain, "did you mean"), watch (plain, "did you mean"). */
const UNKNOWN_COMPILER_OPTION = new Set([5023, 5025]);
const UNKNOWN_WATCH_OPTION = new Set([5078, 5079]);

/** Whether `error`, from parsing a tsconfig, only says that it holds a TypeScript 7 option. */
export function isTypeScript7OnlyOptionError(error: ts.Diagnostic): boolean {
  const known = UNKNOWN_COMPILER_OPTION.has(error.code) ? COMPILER_OPTIONS : UNKNOWN_WATCH_OPTION.has(error.code) ? WATCH_OPTIONS : undefined;
  if (known === undefined || error.file === undefined || error.start === undefined || error.length === undefined) return false;
  // The error spans the option's key in the JSON text, quotes included.
  const key = error.file.text.slice(error.start, error.start + error.length).replace(/^"|"$/g, "");
  return known.has(key);
}
