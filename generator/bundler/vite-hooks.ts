/**
 * The plugin in Vite. `vite build` goes through Rollup's hooks (rollup-hooks.ts). The dev server
 * generates once at start, then listens to the server's own file watcher: a model change (a
 * burst of events for one save counts once) becomes one session update, whose diagnostics go to
 * the terminal and to the browser's error overlay, cleared by the run that fixes them.
 */
import path from "node:path";
import type { ErrorPayload, Plugin, ResolvedConfig, ViteDevServer } from "vite";
import { createPluginGenerator, type PluginGenerator, type PluginRun } from "./plugin-generator.js";
import type { AsymgenPluginOptions } from "./plugin-options.js";
import { describeWrites, locateDiagnostic, renderRunText } from "./render-plugin-messages.js";
import { createRollupHooks, type RollupLikeContext } from "./rollup-hooks.js";
import type { FileChange } from "./watch-scope.js";

/** How long the dev server waits for more events of one save (editors write in steps). */
const SETTLE_MS = 20;

/** Vite's hooks of the plugin (unplugin lays them over the shared ones). */
export function createViteHooks(options: AsymgenPluginOptions): Partial<Plugin> {
  let config: ResolvedConfig | undefined;
  let generator: PluginGenerator | undefined;
  const getGenerator = (): PluginGenerator => (generator ??= createPluginGenerator(options, config?.root ?? process.cwd()));
  const rollup = createRollupHooks(getGenerator);
  const serving = (): boolean => config?.command === "serve";
  const dev = createDevWatch(getGenerator, () => config);

  return {
    configResolved(resolved) {
      config = resolved;
    },
    configureServer(server) {
      dev.attach(server);
    },
    async buildStart() {
      if (!serving()) return rollup.buildStart.call(this as unknown as RollupLikeContext);
      // The server waits for the first run, so the app's first request finds every output.
      if (!getGenerator().started) dev.show(await getGenerator().start());
    },
    watchChange(id, change) {
      // The dev server reports changes through its watcher (createDevWatch), not this hook.
      if (!serving()) return rollup.watchChange(id, change);
    },
    closeWatcher() {
      if (!serving()) rollup.closeWatcher();
    },
    closeBundle() {
      if (serving()) getGenerator().close();
      else rollup.closeBundle();
    },
  };
}

/** The dev server's side: its watcher's events in, the terminal and the error overlay out. */
function createDevWatch(getGenerator: () => PluginGenerator, getConfig: () => ResolvedConfig | undefined) {
  let server: ViteDevServer | undefined;
  let standing: ErrorPayload | undefined;
  const pending: FileChange[] = [];
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  const flush = (): void => {
    timer = undefined;
    const batch = pending.splice(0);
    running = running.then(async () => {
      const run = await getGenerator().update(batch);
      if (run !== undefined) show(run);
    });
  };

  const onEvent = (event: FileChange["event"], file: string): void => {
    const generator = getGenerator();
    if (!generator.started) return;
    if (generator.last === undefined) {
      // The first run is still reading: what the change touches is known only after it, so the
      // event waits for it (settle() below) instead of being judged against an empty scope.
      pending.push({ file, event });
      return;
    }
    // Filtered here too, so an app edit never arms the timer or reaches the queue.
    if (!generator.isModelChange({ file, event })) return;
    pending.push({ file, event });
    settle();
  };

  const settle = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    if (pending.length > 0) timer = setTimeout(flush, SETTLE_MS);
  };

  const show = (run: PluginRun): void => {
    report(run);
    // Changes made while the first run was reading (update() drops those that are not the generator's).
    settle();
    // Model files outside Vite's root are not in its watcher until added.
    const root = getConfig()?.root;
    const outside = getGenerator().watchedFiles().filter((file) => root === undefined || path.relative(root, file).startsWith(".."));
    if (outside.length > 0) server?.watcher.add(outside);
  };

  const report = (run: PluginRun): void => {
    const config = getConfig();
    const cwd = getGenerator().cwd;
    const logger = config?.logger;
    const diagnostics = run.result?.diagnostics ?? run.errors;
    if (run.errors.length > 0) {
      const text = renderRunText(diagnostics, cwd);
      logger?.error(`[asymgen] ${text}`, { timestamp: true });
      const first = run.errors.map(locateDiagnostic).find((location) => location !== undefined);
      // The overlay shows message, file:line:col and the plugin; the message is the CLI's text.
      const err: ErrorPayload["err"] = { message: text, stack: "", plugin: "asymgen" };
      if (first !== undefined) {
        err.id = first.file;
        err.loc = { file: first.file, line: first.line, column: first.column };
      }
      standing = { type: "error", err };
      server?.ws.send(standing);
      return;
    }
    if (run.warnings.length > 0) logger?.warn(`[asymgen] ${renderRunText(run.warnings, cwd)}`, { timestamp: true });
    const outputs = run.result?.outputs ?? [];
    const written = outputs.filter((output) => output.outcome === "written").length;
    const removed = outputs.filter((output) => output.outcome === "removed").length;
    logger?.info(`[asymgen] ${describeWrites(written, removed, run.ms)}`, { timestamp: true });
    if (standing !== undefined) {
      standing = undefined;
      // An update with nothing in it is what closes Vite's overlay (its client has no other
      // message for it); the outputs this run wrote arrive as Vite's own HMR updates.
      server?.ws.send({ type: "update", updates: [] });
    }
  };

  const attach = (devServer: ViteDevServer): void => {
    server = devServer;
    devServer.watcher.on("add", (file: string) => onEvent("create", file));
    devServer.watcher.on("change", (file: string) => onEvent("update", file));
    devServer.watcher.on("unlink", (file: string) => onEvent("delete", file));
    // A page opened (or reloaded) while the models are broken sees the error too.
    devServer.ws.on("connection", () => {
      if (standing !== undefined) devServer.ws.send(standing);
    });
  };

  return { attach, show };
}
