/**
 * `asymgen serve`: its yargs command (flags from serve-settings.ts's `serveFlags`, added to the bin
 * through cli.ts; the `apikey` commands are in apikey-commands.ts) and what it runs. Settings come
 * from flags, then the `serve` section of a config file (`--config asymgen.config.json`), then the
 * environment, then defaults: see serve-settings.ts.
 */
import type { Argv } from "yargs";
import { createIngestServer } from "./create-server.js";
import { createLogger } from "./logger.js";
import { runUserFacing } from "./run-user-facing.js";
import { defaultSecretFile, flagName, resolveServeSettings, ServeConfigError, serveFlags } from "./serve-settings.js";
import type { ServeArgs } from "./serve-settings.js";

/** Adds `asymgen serve` to the bin's parser; the handler reports its exit code through `finish`. */
export function addServeCommand<T>(parser: Argv<T>, finish: (exitCode: number) => void): Argv<T> {
  return parser.command(
    "serve",
    "Run the reference ingest server",
    (command) => {
      for (const [key, flag] of Object.entries(serveFlags)) command.option(flagName(key).slice(2), { type: flag.type, describe: flag.describe });
      return command.option("secret", { type: "string", hidden: true }).check((parsed) => {
        if (parsed["secret"] !== undefined)
          throw new Error("--secret is not accepted: a secret on the command line is visible to every user of the machine; use ASYMGEN_SECRET or --secret-file.");
        return true;
      });
    },
    // Every value is checked by the settings schema (serve-settings.ts), the same one the config
    // file goes through, so a flag and a config key fail with one kind of message.
    async (parsed) => {
      const args: Record<string, unknown> = {};
      // yargs also sets each flag under its camelCased name: the setting's key.
      for (const key of Object.keys(serveFlags)) if (parsed[key] !== undefined) args[key] = parsed[key];
      finish(await runUserFacing(() => runServeCommand(args as ServeArgs)));
    },
  );
}

/** `asymgen serve`: starts the server, prints its URL and store, runs until SIGTERM/SIGINT, then shuts down gracefully. */
export async function runServeCommand(args: ServeArgs): Promise<void> {
  const settings = resolveServeSettings(args);
  const logger = createLogger({ minLevel: settings.logLevel });
  const server = await createIngestServer({
    schema: settings.schema,
    appId: settings.appId,
    host: settings.host,
    port: settings.port,
    tls: settings.tls,
    store: settings.store,
    auth: settings.auth,
    limits: settings.limits,
    authLimits: settings.authLimits,
    authSweepIntervalMs: settings.authSweepIntervalMs,
    corsOrigins: settings.corsOrigins,
    logger,
    quiet: settings.quiet,
  }).catch((error: unknown) => {
    // Startup failures (unreachable store, port in use, a schema the server cannot serve) are the
    // user's to fix: one line, no stack.
    throw new ServeConfigError(`cannot start the ingest server: ${(error as Error).message}`);
  });
  if (settings.auth.secretFile === defaultSecretFile && server.store.kind !== "sqlite" && !settings.quiet)
    // A shared store usually means several servers; each would make its own key file, and a
    // token issued by one would be refused by the others (clients recover, one refresh per switch).
    logger.log("warn", `the access-token secret is this machine's own ${defaultSecretFile}: give every server of this ${server.store.kind} store the same ASYMGEN_SECRET or --secret-file`, {});
  const providers = [...settings.auth.providers].join(", ");
  process.stdout.write(
    `asymgen ingest server listening on ${server.url} (app ${settings.appId}, store ${server.store.location}, auth: ${providers})\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off("SIGTERM", stop);
      process.off("SIGINT", stop);
      process.stdout.write(`asymgen ingest server: ${signal}, finishing in-flight batches\n`);
      server.close().then(resolve, resolve);
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });
}
