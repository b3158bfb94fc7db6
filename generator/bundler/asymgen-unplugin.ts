/**
 * The plugin as one unplugin: a name and, per bundler, the hooks that do the work (Vite's and
 * Rollup's native hooks, esbuild's setup, webpack's compiler taps). unplugin's shared hooks are
 * not used: each bundler reports changes and errors its own way (see each adapter).
 */
import { createUnplugin, type UnpluginInstance } from "unplugin";
import { setupEsbuild } from "./esbuild-setup.js";
import { createPluginGenerator, type PluginGenerator } from "./plugin-generator.js";
import { checkPluginOptions, type AsymgenPluginOptions } from "./plugin-options.js";
import { createRollupHooks } from "./rollup-hooks.js";
import { createViteHooks } from "./vite-hooks.js";
import { applyWebpack } from "./webpack-apply.js";

/** The asymgen plugin for every bundler unplugin adapts to (vite.ts, rollup.ts, esbuild.ts and webpack.ts export one each). */
export const asymgenUnplugin: UnpluginInstance<AsymgenPluginOptions | undefined, false> = createUnplugin<AsymgenPluginOptions | undefined, false>((given) => {
  const options = checkPluginOptions(given);
  let generator: PluginGenerator | undefined;
  // Rollup has no root of its own: paths resolve against the working folder, as the CLI's do.
  const rollup = createRollupHooks(() => (generator ??= createPluginGenerator(options, process.cwd())));
  return {
    name: "asymgen",
    // Before other plugins: the outputs exist before anything resolves an import of them.
    enforce: "pre",
    rollup,
    vite: createViteHooks(options),
    esbuild: { setup: (build) => setupEsbuild(build, options) },
    webpack: (compiler) => applyWebpack(compiler, options),
  };
});
