// Bundles a test app that imports "asymgen" with a real bundler, in a process of its own (the
// bundlers' native parts reject objects made in Jest's module sandbox, and users run them so),
// for test/browser/bundlers.test.ts. Prints one JSON line: {"event":"built"} (the app's files are
// in <app>/dist), {"event":"listening","port":N} (a Vite dev server, until stdin closes), or
// {"event":"failed","message"}.
//
//   node bundle-app.mjs vite-build | vite-serve | webpack <app-dir>
import path from "node:path";

const [how, dir] = process.argv.slice(2);
const emit = (event) => process.stdout.write(`${JSON.stringify(event)}\n`);

try {
  if (how === "vite-build" || how === "vite-serve") {
    const vite = await import("vite");
    const config = { root: dir, configFile: false, logLevel: "silent", build: { outDir: "dist" } };
    if (how === "vite-build") {
      await vite.build(config);
      emit({ event: "built" });
    } else {
      const server = await vite.createServer({ ...config, server: { host: "127.0.0.1", port: 0 } });
      await server.listen();
      emit({ event: "listening", port: server.httpServer.address().port });
      process.stdin.resume();
      await new Promise((resolve) => process.stdin.once("end", resolve));
      await server.close();
    }
  } else if (how === "webpack") {
    const { default: webpack } = await import("webpack");
    const config = {
      mode: "production",
      context: dir,
      entry: "./src/main.js",
      output: { path: path.join(dir, "dist"), filename: "main.js", clean: true },
      // The app awaits Realm.open at its top level.
      experiments: { topLevelAwait: true },
    };
    const stats = await new Promise((resolve, reject) => webpack(config, (error, result) => (error ? reject(error) : resolve(result))));
    if (stats.hasErrors()) throw new Error(stats.toString({ all: false, errors: true }));
    emit({ event: "built" });
  } else {
    throw new Error(`unknown bundler step "${how}"`);
  }
} catch (error) {
  emit({ event: "failed", message: String(error?.stack ?? error) });
  process.exitCode = 1;
}
