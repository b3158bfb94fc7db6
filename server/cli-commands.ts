/**
 * `asymgen serve`, wired into yargs by generator/cli.ts (the `apikey` commands are in
 * apikey-commands.ts). Settings come from flags, then the `serve` section of a config file
 * (`--config asymgen.config.json`), then the environment, then defaults: see serve-settings.ts.
 */
import { createIngestServer } from "./create-server.js";
import { createLogger } from "./logger.js";
import { defaultSecretFile, resolveServeSettings, ServeConfigError } from "./serve-settings.js";
import type { ServeArgs } from "./serve-settings.js";

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
