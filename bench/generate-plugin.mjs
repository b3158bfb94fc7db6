// The bundler plugin's one-change rebuild on bench/generate.mjs's corpus (called at the end of its
// run, on the same folder): one model file modified at a time, median of 20, two ways:
//   vite dev   a Vite dev server with the plugin: from the write until the plugin's run has
//              written the output (the server's file watcher, the plugin's 20 ms settle time and
//              the session update, all included)
//   esbuild    an esbuild context with the plugin: `rebuild()` after the write (the plugin's
//              snapshot comparison, the session update and esbuild's bundle of a tiny entry)
// Target, as for watch mode: ≤ 150 ms. Needs `npm run build` (it loads generator/dist).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SAMPLES = 20;

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function loadPlugin(bundler) {
  return (await import(pathToFileURL(path.join(repo, "generator", "dist", "generator", "bundler", `${bundler}.js`)).href)).default;
}

/** Resolves with the first run (onRun) that wrote `file`; rejects after 30 s. */
function createRunWaiter() {
  const waiting = [];
  const onRun = (result) => {
    for (const waiter of [...waiting]) {
      if (result.written.includes(waiter.file) || !result.ok) {
        waiting.splice(waiting.indexOf(waiter), 1);
        clearTimeout(waiter.timer);
        if (result.ok) waiter.resolve(result);
        else waiter.reject(new Error(`the plugin's run failed: ${result.diagnostics.map((d) => d.code).join(", ")}`));
      }
    }
  };
  const waitFor = (file) =>
    new Promise((resolve, reject) => {
      const waiter = { file, resolve, reject, timer: setTimeout(() => reject(new Error(`no run wrote ${file} within 30 s`)), 30_000) };
      waiting.push(waiter);
    });
  return { onRun, waitFor };
}

async function benchVite(dir, modelFile, files, runTimes) {
  const { createServer } = await import("vite");
  const asymgen = await loadPlugin("vite");
  const runs = createRunWaiter();
  let count = 0;
  const server = await createServer({
    root: dir,
    configFile: false,
    logLevel: "silent",
    server: { host: "127.0.0.1", port: 0 },
    plugins: [asymgen({ project: "tsconfig.json", onRun: (result) => (count++, runTimes.push(result.timings.total), runs.onRun(result)) })],
  });
  const samples = [];
  try {
    await server.listen();
    // The samples are one-change rebuilds: wait for the start run (and the watcher's first scan,
    // during which chokidar reports no change) before the first write.
    while (count === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (let i = 0; i < SAMPLES; i++) {
      const f = (i * 7 + 3) % files;
      const file = path.join(dir, "models", `file${f}.ts`);
      const output = path.join(dir, "models", `file${f}.realm.ts`);
      const written = runs.waitFor(output);
      const started = process.hrtime.bigint();
      fs.writeFileSync(file, modelFile(f, 1000 + i));
      await written;
      samples.push(Number(process.hrtime.bigint() - started) / 1e6);
      // Lets the watcher deliver the events of the plugin's own writes before the next sample.
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await server.close();
  }
  // One start run, then exactly one per change: a second run per change would show here.
  if (count !== SAMPLES + 1) throw new Error(`vite dev: expected ${SAMPLES + 1} runs, saw ${count}`);
  return samples;
}

async function benchEsbuild(dir, modelFile, files, runTimes) {
  const esbuild = await import("esbuild");
  const asymgen = await loadPlugin("esbuild");
  let count = 0;
  fs.writeFileSync(path.join(dir, "bench-entry.js"), "export const entry = 1;\n");
  const context = await esbuild.context({
    absWorkingDir: dir,
    entryPoints: ["bench-entry.js"],
    bundle: true,
    write: false,
    logLevel: "silent",
    plugins: [asymgen({ project: "tsconfig.json", onRun: (result) => (count++, runTimes.push(result.timings.total)) })],
  });
  const samples = [];
  try {
    // The first build runs as the CLI does; the second (a context's) opens the session.
    await context.rebuild();
    await context.rebuild();
    const before = count;
    for (let i = 0; i < SAMPLES; i++) {
      const f = (i * 11 + 5) % files;
      fs.writeFileSync(path.join(dir, "models", `file${f}.ts`), modelFile(f, 2000 + i));
      const started = process.hrtime.bigint();
      await context.rebuild();
      samples.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    if (count - before !== SAMPLES) throw new Error(`esbuild: expected ${SAMPLES} runs, saw ${count - before}`);
  } finally {
    await context.dispose();
    fs.rmSync(path.join(dir, "bench-entry.js"), { force: true });
  }
  return samples;
}

/**
 * Measures the plugin on the corpus in `dir` (bench/generate.mjs's: `files` model files written
 * by `modelFile(f, revision)`) and prints its rows; returns the medians in ms.
 */
export async function benchGeneratePlugin({ dir, modelFile, files }) {
  // The main bench ends with a prettier config the templates do not print for; the plugin's
  // figure is for the common case, as watch mode's is.
  fs.rmSync(path.join(dir, ".prettierrc.json"), { force: true });
  // The session's own time per run (GenerateResult.timings.total), to tell the plugin's overhead
  // (the watcher, the settle time, esbuild's bundle) from the generator's work.
  const viteRuns = [];
  const esbuildRuns = [];
  const vite = await benchVite(dir, modelFile, files, viteRuns);
  const esbuild = await benchEsbuild(dir, modelFile, files, esbuildRuns);
  const rows = [
    [`plugin, vite dev, one file (median of ${SAMPLES})`, median(vite)],
    [`plugin, esbuild rebuild, one file (median of ${SAMPLES})`, median(esbuild)],
  ];
  for (const [label, ms] of rows) console.log(`${label.padEnd(38)} ${`${ms.toFixed(0)} ms`.padEnd(10)} ${"".padEnd(8)} ${"≤ 150 ms".padEnd(10)} ${ms <= 150 ? "PASS" : "MISS"}`);
  console.log(`plugin samples (ms): vite dev ${vite.map((s) => s.toFixed(0)).join(" ")} · esbuild ${esbuild.map((s) => s.toFixed(0)).join(" ")}`);
  // The last SAMPLES runs of each are the one-change updates (before them: the start runs).
  console.log(`of which the generator's update (median, ms): vite dev ${median(viteRuns.slice(-SAMPLES)).toFixed(0)} · esbuild ${median(esbuildRuns.slice(-SAMPLES)).toFixed(0)}`);
  return { viteDev: median(vite), esbuildRebuild: median(esbuild), viteDevUpdate: median(viteRuns.slice(-SAMPLES)), esbuildUpdate: median(esbuildRuns.slice(-SAMPLES)) };
}
