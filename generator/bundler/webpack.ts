/**
 * `@asymgen/generator/webpack`: the asymgen plugin for webpack. Generates X.realm.ts (and the schema
 * file) at build start and on model changes; the build fails with the diagnostics.
 */
import { asymgenUnplugin } from "./asymgen-unplugin.js";

export type { AsymgenPluginOptions } from "./plugin-options.js";

/** Creates the asymgen plugin for webpack (the same options as `asymgen generate`'s flags). */
export const asymgen = asymgenUnplugin.webpack;

// A default export, against the house style: it is how webpack plugins are imported
// (`import asymgen from "@asymgen/generator/webpack"`).
export default asymgen;
