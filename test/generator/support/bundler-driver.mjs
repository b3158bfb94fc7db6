// Runs a real bundler with the asymgen plugin (from the built generator/dist) in its own process
// and reports what happened as JSON lines on stdout, for the bundler-*.test.ts files. A separate
// process because the bundlers' native parts (Rolldown's, esbuild's) reject objects made in
// Jest's module sandbox, and because this is how a user runs them.
//
//   node bundler-driver.mjs <bundler> <mode> <project-dir> [entry]
//   bundler: vite | rollup | esbuild | webpack
//   entry:   (rollup, webpack) plain  src/plain.js, which imports nothing (the default)
//                              app    src/main.ts, which imports a generated X.realm.ts (a
//                                     TypeScript step strips types; "asymgen" stays external)
//   mode:    build   one build, then {"event":"done"} or {"event":"failed",…}
//            serve   (vite) a dev server: {"event":"listening","port":N}, until stdin closes
//            context (esbuild) a context: each stdin line "rebuild" runs ctx.rebuild()
//            watch   (esbuild) ctx.watch(): {"event":"compiled"} (or "failed") per build
//            watch   (rollup, webpack) rollup.watch() / compiler.watch(): {"event":"compiled",…} per
//                    build, {"event":"failed",…} per failed Rollup build; webpack also prints
//                    {"event":"invalid","file"} (what its watcher saw) and {"event":"watchRun","modified"}
// webpack's mode is DRIVER_WEBPACK_MODE (default production), without a devtool (the bundle stays readable).
// Every generator run prints {"event":"run","ok","written","removed","codes"}.
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";

const [bundler, mode, dir, entry = "plain"] = process.argv.slice(2);
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const emit = (event) => process.stdout.write(`${JSON.stringify(event)}\n`);
const relative = (files) => files.map((file) => path.relative(dir, file)).sort();
const { default: asymgen } = await import(pathToFileURL(path.join(repo, "generator/dist/generator/bundler", `${bundler}.js`)).href);
const plugin = asymgen({
  schemaOut: "schema.json",
  onRun: (result) => emit({ event: "run", ok: result.ok, written: relative(result.written), removed: relative(result.removed), codes: result.diagnostics.map((d) => d.code) }),
});
const lines = readline.createInterface({ input: process.stdin });
const stdinClosed = new Promise((resolve) => lines.once("close", resolve));

/** The parts of an error a test looks at; never the whole object (bundlers hang big graphs on them). */
function describeError(error) {
  return { message: String(error?.message ?? error), errors: error?.errors?.map((e) => ({ text: e.text, location: e.location, notes: e.notes, pluginName: e.pluginName })) };
}

if (bundler === "vite") {
  const vite = await import("vite");
  const config = { root: dir, configFile: false, logLevel: "silent", plugins: [plugin], build: { outDir: "dist" } };
  if (mode === "build") {
    try {
      await vite.build(config);
      emit({ event: "done" });
    } catch (error) {
      emit({ event: "failed", ...describeError(error) });
    }
  } else {
    const server = await vite.createServer({ ...config, server: { host: "127.0.0.1", port: 0 } });
    await server.listen();
    emit({ event: "listening", port: server.httpServer.address().port });
    await stdinClosed;
    await server.close();
  }
} else if (bundler === "esbuild") {
  const esbuild = await import("esbuild");
  const options = { absWorkingDir: dir, entryPoints: ["src/main.ts"], bundle: true, outdir: "dist", write: true, logLevel: "silent", plugins: [plugin] };
  if (mode === "build") {
    try {
      const result = await esbuild.build(options);
      emit({ event: "done", warnings: result.warnings.map((w) => w.text) });
    } catch (error) {
      emit({ event: "failed", ...describeError(error) });
    }
  } else if (mode === "watch") {
    // context.watch(): esbuild rebuilds on its own; each build's end is one event.
    const counter = { name: "driver-count", setup: (build) => build.onEnd((result) => emit({ event: result.errors.length === 0 ? "compiled" : "failed", errors: result.errors.map((e) => e.text) })) };
    const context = await esbuild.context({ ...options, plugins: [plugin, counter] });
    await context.watch();
    await stdinClosed;
    await context.dispose();
  } else {
    const context = await esbuild.context(options);
    emit({ event: "ready" });
    for await (const line of lines) {
      if (line !== "rebuild") continue;
      try {
        await context.rebuild();
        emit({ event: "rebuilt" });
      } catch (error) {
        emit({ event: "failed", ...describeError(error) });
      }
    }
    await context.dispose();
  }
} else if (bundler === "rollup") {
  const rollup = await import("rollup");
  const options = {
    input: path.join(dir, entry === "app" ? "src/main.ts" : "src/plain.js"),
    plugins: [plugin, ...(entry === "app" ? [await rollupTypeScript()] : [])],
    external: [/^asymgen(\/|$)/],
    onwarn: (warning) => emit({ event: "warning", plugin: warning.plugin, message: warning.message }),
  };
  if (mode === "build") {
    try {
      const bundle = await rollup.rollup(options);
      await bundle.write({ dir: path.join(dir, "dist") });
      await bundle.close();
      emit({ event: "done" });
    } catch (error) {
      emit({ event: "failed", ...describeError(error) });
    }
  } else {
    const watcher = rollup.watch({ ...options, output: { dir: path.join(dir, "dist") }, watch: { buildDelay: 20 } });
    watcher.on("event", (event) => {
      if (event.code === "BUNDLE_END") emit({ event: "compiled", modules: event.result.watchFiles.filter((file) => file.endsWith(".realm.ts")).map((file) => path.relative(dir, file)).sort() });
      else if (event.code === "ERROR") emit({ event: "failed", ...describeError(event.error) });
      if (event.result) event.result.close();
    });
    await stdinClosed;
    await watcher.close();
  }
} else if (bundler === "webpack") {
  const { default: webpack } = await import("webpack");
  const app = entry === "app";
  const compiler = webpack({
    context: dir,
    mode: process.env.DRIVER_WEBPACK_MODE ?? "production",
    devtool: false,
    entry: app ? "./src/main.ts" : "./src/plain.js",
    output: { path: path.join(dir, "dist") },
    plugins: [plugin],
    infrastructureLogging: { level: "none" },
    externals: [/^asymgen(\/|$)/],
    ...(app ? { resolve: { extensionAlias: { ".js": [".ts", ".js"] } }, module: { rules: [{ test: /\.ts$/, loader: path.join(path.dirname(fileURLToPath(import.meta.url)), "bundler-ts-loader.mjs") }] } } : {}),
  });
  const describeStats = (stats) => ({
    errors: stats.compilation.errors.map((e) => ({ name: e.name, message: e.message, file: e.file, hideStack: e.hideStack })),
    warnings: stats.compilation.warnings.map((e) => ({ name: e.name, message: e.message })),
  });
  if (mode === "build") {
    await new Promise((resolve) =>
      compiler.run((error, stats) => {
        if (error) emit({ event: "failed", ...describeError(error) });
        else emit({ event: "done", hasErrors: stats.hasErrors(), ...describeStats(stats) });
        compiler.close(resolve);
      }),
    );
  } else {
    // What made webpack compile again: the file its watcher saw change.
    compiler.hooks.invalid.tap("driver", (file) => emit({ event: "invalid", file: file && path.relative(dir, file) }));
    compiler.hooks.watchRun.tap("driver", () => emit({ event: "watchRun", modified: relative([...(compiler.modifiedFiles ?? [])]) }));
    const watching = compiler.watch({ aggregateTimeout: 20 }, (error, stats) => {
      if (error) emit({ event: "failed", ...describeError(error) });
      else emit({ event: "compiled", hasErrors: stats.hasErrors(), ...describeStats(stats) });
    });
    await stdinClosed;
    await new Promise((resolve) => watching.close(resolve));
  }
}
process.exit(0);

/** A Rollup plugin for the app entry: `./x.js` imports resolve to `x.ts`, whose types esbuild strips. */
async function rollupTypeScript() {
  const esbuild = await import("esbuild");
  const { existsSync } = await import("node:fs");
  return {
    name: "driver-typescript",
    resolveId(source, importer) {
      if (importer === undefined || !source.startsWith(".") || !source.endsWith(".js")) return null;
      const ts = path.resolve(path.dirname(importer), source.replace(/\.js$/, ".ts"));
      return existsSync(ts) ? ts : null;
    },
    async transform(code, id) {
      if (!id.endsWith(".ts")) return null;
      return { code: (await esbuild.transform(code, { loader: "ts", format: "esm" })).code, map: null };
    },
  };
}
