/**
 * The lean compiler environment a run tries first. Left unset, `lib` brings in the DOM (lib.dom
 * is ~2 MB of declarations: measured ~300 ms of a 100-file run, parsing and binding) and `types`
 * every node_modules/@types package. Model analysis needs neither: it reads asymgen's and bson's
 * declarations, which the models import, and TypeScript's ES built-ins (Date, Set, Record…).
 *
 * Why this never changes a successful result: the lean program is the full one minus those
 * declarations. A name that resolves in it resolves to the same declaration in the full one (the
 * extra files come after the ES libs and only add declarations), so every type analysis reads
 * is the same. A name that needs the dropped files (a DOM type, `Buffer`, an `import` of a node:
 * module only @types/node declares) does not resolve: analysis reports it as an error. So the
 * caller runs again in the user's full environment whenever the lean run reports any error, and
 * only a run without errors is ever answered from the lean one.
 */
import type { CompilerOptions } from "ts-morph";
import { ts } from "../ts-morph.cjs";

/** The lean options for `options`, or undefined when there is nothing to leave out. */
export function reduceCompilerEnvironment(options: CompilerOptions): CompilerOptions | undefined {
  // An explicit `lib`/`types`/`noLib` is the user's choice and already as lean as they want it.
  const reduceLib = options.lib === undefined && options.noLib !== true;
  const reduceTypes = options.types === undefined;
  if (!reduceLib && !reduceTypes) return undefined;
  const reduced: CompilerOptions = { ...options };
  if (reduceLib) {
    // The target's default lib without its DOM and script-host parts: lib.es2022.full.d.ts is
    // lib.es2022.d.ts plus those; lib.d.ts is lib.es5.d.ts plus those.
    const full = ts.getDefaultLibFileName(options);
    reduced.lib = [full === "lib.d.ts" ? "lib.es5.d.ts" : full.replace(/\.full\.d\.ts$/, ".d.ts")];
  }
  if (reduceTypes) reduced.types = [];
  return reduced;
}
