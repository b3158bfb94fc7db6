/**
 * The plugin's hooks in Rollup's plugin API, which `vite build` (Rolldown) shares: generate at
 * build start, fail the build with the diagnostics, and in watch mode (`rollup -w`,
 * `vite build --watch`) regenerate from the changes `watchChange` reports, before the rebuild.
 */
import type { FileChange } from "./watch-scope.js";
import type { PluginGenerator, PluginRun } from "./plugin-generator.js";
import { locateDiagnostic, renderRunText } from "./render-plugin-messages.js";

/** The part of Rollup's (and Rolldown's) plugin context the hooks use. */
export interface RollupLikeContext {
  meta: { watchMode: boolean };
  addWatchFile(id: string): void;
  warn(warning: RollupLikeMessage): void;
  error(error: RollupLikeMessage): never;
}

/** A Rollup log or error object, as `this.warn` and `this.error` take it. */
export interface RollupLikeMessage {
  message: string;
  id?: string;
  loc?: { file?: string; line: number; column: number };
  stack?: string;
}

/** Rollup's hooks of the plugin, bound to one generator. */
export interface RollupHooks {
  buildStart(this: RollupLikeContext): Promise<void>;
  watchChange(this: unknown, id: string, change: { event: FileChange["event"] }): Promise<void>;
  closeWatcher(): void;
  closeBundle(): void;
}

/**
 * How long `watchChange` waits after a run wrote something, for the watcher to report those
 * writes before the rebuild starts (see createRollupHooks).
 */
const WRITES_SETTLE_MS = 100;

/**
 * Creates the hooks; `getGenerator` makes the generator on first use (Vite knows its root only then).
 *
 * In watch mode the update runs in `watchChange`, which Rollup awaits before it rebuilds, not in
 * `buildStart`: an output the app imports is a watched module, and Rollup answers a watched file
 * changed during a build with another build; changes reported before the build are consumed by
 * it. The hook then waits a little, so the watcher reports the writes while they still count so.
 */
export function createRollupHooks(getGenerator: () => PluginGenerator): RollupHooks {
  const changes: FileChange[] = [];
  let watching = false;
  // watchChange runs once per changed file, in parallel: their updates go one after the other.
  let updating: Promise<void> = Promise.resolve();
  const update = (): Promise<void> =>
    (updating = updating.then(async () => {
      const run = await getGenerator().update(changes.splice(0));
      const wrote = run?.result?.outputs.some((output) => output.outcome === "written" || output.outcome === "removed") ?? false;
      if (wrote) await new Promise((resolve) => setTimeout(resolve, WRITES_SETTLE_MS));
    }));
  return {
    async buildStart() {
      const generator = getGenerator();
      watching = this.meta.watchMode;
      let run: PluginRun | undefined;
      if (!watching) run = await generator.build();
      else if (!generator.started) run = await generator.start();
      else {
        await updating;
        // Changes no watchChange handled (a bundler that does not await it). A rebuild for
        // changes that are not the generator's (an app module) runs nothing, but the last run's
        // errors still stand: the build keeps failing until the models are fixed.
        run = (await generator.update(changes.splice(0))) ?? generator.last;
      }
      if (watching) {
        // Model files the bundle does not import would not be watched otherwise.
        for (const file of generator.watchedFiles()) this.addWatchFile(file);
      }
      if (run !== undefined) reportRun(this, run, generator.cwd);
    },
    async watchChange(id, change) {
      changes.push({ file: id, event: change.event });
      if (watching && getGenerator().started) await update();
    },
    closeWatcher() {
      if (watching) getGenerator().close();
    },
    closeBundle() {
      // A watch build closes its bundle after every rebuild; its session lives until closeWatcher.
      if (!watching) getGenerator().close();
    },
  };
}

/** Warnings through `this.warn`; errors (with the warnings, as the CLI prints them) fail the build. */
export function reportRun(context: Pick<RollupLikeContext, "warn" | "error">, run: PluginRun, cwd: string): void {
  if (run.errors.length === 0) {
    if (run.warnings.length > 0) context.warn(toRollupMessage(run, cwd));
    return;
  }
  context.error(toRollupMessage(run, cwd));
}

/** One message holding every diagnostic of the run, located at the first error (or warning). */
function toRollupMessage(run: PluginRun, cwd: string): RollupLikeMessage {
  // The result's list is in file and position order, as the CLI prints it.
  const diagnostics = run.result?.diagnostics ?? [...run.errors, ...run.warnings];
  const message = renderRunText(diagnostics, cwd);
  const first = diagnostics.map(locateDiagnostic).find((location) => location !== undefined);
  // No stack: Rollup and Rolldown print a plugin error's stack under its message, and this one
  // would only show asymgen's internals; the message says everything a user needs.
  const rollupMessage: RollupLikeMessage = { message, stack: "" };
  if (first !== undefined) {
    rollupMessage.id = first.file;
    rollupMessage.loc = { file: first.file, line: first.line, column: first.column };
  }
  return rollupMessage;
}
