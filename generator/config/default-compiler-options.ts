/**
 * The compiler options a run uses when there is no tsconfig: what a new strict ESM project on
 * Node would choose, so models type-check the way they will in the user's build.
 */
import type { CompilerOptions } from "ts-morph";
import { ModuleKind, ModuleResolutionKind, ScriptTarget } from "../ts-morph.cjs";

/** Returns the defaults for a run without tsconfig (a fresh object: callers may extend it). */
export function createDefaultCompilerOptions(): CompilerOptions {
  return {
    strict: true,
    target: ScriptTarget.ES2022,
    module: ModuleKind.NodeNext,
    moduleResolution: ModuleResolutionKind.NodeNext,
    // The generator reads the models' own types; errors inside dependencies' .d.ts files are
    // not its business and checking them would only cost time.
    skipLibCheck: true,
    noEmit: true,
  };
}
