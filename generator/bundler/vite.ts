/**
 * `@asymgen/generator/vite`: the asymgen plugin for Vite. Generates X.realm.ts (and the schema
 * file) at build start and on model changes; the build fails with the diagnostics.
 */
import { asymgenUnplugin } from "./asymgen-unplugin.js";

export type { AsymgenPluginOptions } from "./plugin-options.js";

/** Creates the asymgen plugin for Vite (the same options as `asymgen generate`'s flags). */
export const asymgen = asymgenUnplugin.vite;

// A default export, against the house style: it is how Vite plugins are imported
// (`import asymgen from "@asymgen/generator/vite"`).
export default asymgen;
