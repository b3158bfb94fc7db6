#!/usr/bin/env node
/**
 * The `asymgen` command: parses flags with yargs and hands over to `generate()` (generate) or the
 * server's commands (serve, apikey create|list|revoke). Each command's code is imported only when it runs, so
 * `asymgen generate` never loads the database drivers and `asymgen serve` never loads ts-morph.
 */
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { ExitCode } from "./cli/exit-codes.js";
import { readPackageVersion } from "./cli/read-package-version.js";
import type { GenerateCommandArgs } from "./cli/run-generate-command.js";
import type { ServeArgs } from "../server/serve-settings.js";
import { runApiKeyCreate, runApiKeyList, runApiKeyRevoke, runServe } from "./cli/run-server-commands.js";
import { renderInternalError } from "./cli/render-internal-error.js";

/** A usage error yargs reported: printed without a stack, exit code 2. */
class UsageError extends Error {}

/** Flag values yargs leaves undefined, removed (the commands take exact optional properties). */
type Defined<T> = { [K in keyof T as undefined extends T[K] ? never : K]: T[K] } & { [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined> };

/** Removes undefined members, so an unset flag is absent rather than undefined. */
function dropUndefined<T extends object>(value: T): Defined<T> {
  return Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined)) as Defined<T>;
}

/** Parses `argv` and runs the command; resolves with the exit code. */
async function runCli(argv: readonly string[]): Promise<number> {
  let exitCode: number = ExitCode.ok;
  const parser = yargs([...argv])
    .scriptName("asymgen")
    .usage("$0 <command> [options]")
    .command(
      "generate [paths..]",
      "Generate typed ingest-only wrappers (X.realm.ts) from model classes",
      (command) =>
        command
          .positional("paths", { type: "string", array: true, default: [] as string[], describe: "Model files, folders or globs (default: the tsconfig's files)" })
          .option("project", { alias: "p", type: "string", describe: "The tsconfig.json to use (default: the nearest tsconfig.json in the working folder or above, as tsc finds it)" })
          .option("out-dir", { type: "string", describe: "Write outputs under this folder, keeping relative paths" })
          .option("schema-out", { type: "string", describe: "Write every model's canonical schema to this JSON file" })
          .option("check", { type: "boolean", describe: "Write nothing; exit 1 if any output is missing or out of date" })
          .option("watch", { alias: "w", type: "boolean", describe: "Regenerate what each file change touches until Ctrl+C" })
          .option("format", { choices: ["text", "json"] as const, default: "text" as const, describe: "How to print diagnostics" })
          .option("cache-dir", { type: "string", describe: "Where to keep the format cache and the up-to-date manifest between runs" })
          .option("force", { type: "boolean", describe: "Analyse and render everything, even when the up-to-date manifest shows nothing changed" })
          // No defaults on these two booleans: yargs counts a default as given, and they conflict.
          .conflicts("check", "watch"),
      async (parsed) => {
        const args: GenerateCommandArgs = { paths: parsed.paths, check: parsed.check === true, watch: parsed.watch === true, format: parsed.format };
        if (parsed.project !== undefined) args.project = parsed.project;
        if (parsed["out-dir"] !== undefined) args.outDir = parsed["out-dir"];
        if (parsed["schema-out"] !== undefined) args.schemaOut = parsed["schema-out"];
        if (parsed["cache-dir"] !== undefined) args.cacheDir = parsed["cache-dir"];
        if (parsed.force === true) args.force = true;
        // Loaded on demand: `--help` and `serve` need neither ts-morph nor prettier.
        const { runGenerateCommand } = await import("./cli/run-generate-command.js");
        exitCode = await runGenerateCommand(args);
      },
    )
    .command(
      "serve",
      "Run the reference ingest server",
      (command) =>
        command
          // No yargs defaults here: the server applies its own after the config file, which a
          // default flag value would otherwise override.
          .option("schema", { type: "string", describe: "The schema.json written by generate --schema-out [default: schema.json]" })
          .option("app-id", { type: "string", describe: "The app id clients use (required, here or in the config file)" })
          .option("host", { type: "string", describe: "The address to listen on [default: 127.0.0.1]" })
          .option("port", { type: "number", describe: "The port to listen on, 0 for any free one [default: 8080]" })
          .option("store", { type: "string", describe: "sqlite:PATH, postgres://… or mongodb://… [default: sqlite:./asymgen-data/ingest.sqlite]" })
          .option("config", { type: "string", describe: "A JSON config file (its serve section) [default: ./asymgen.config.json if present]" })
          .option("auth", { type: "string", describe: "Auth providers to switch on, comma-separated: anon,userpass,apikey,jwt" })
          .option("jwt-key", { type: "string", describe: "Custom JWT key: a file (PEM public key or certificate, JWK, or an HMAC secret) or an inline public key; an HMAC secret itself goes in $ASYMGEN_JWT_SECRET" })
          .option("jwt-jwks-url", { type: "string", describe: "Custom JWT keys from a JWK Set URL (rotating keys; https); needs --jwt-audience" })
          .option("jwt-algorithm", { type: "string", describe: "Custom JWT algorithm, within the key's family [default: follows the key: RS256, ES256…, EdDSA or HS256]" })
          .option("jwt-audience", { type: "string", describe: "The aud custom tokens must carry" })
          .option("jwt-issuer", { type: "string", describe: "The iss custom tokens must carry" })
          .option("jwt-clock-tolerance", { type: "string", describe: "Leeway for a custom JWT's exp/nbf/iat [default: 30s]" })
          .option("jwt-max-token-age", { type: "string", describe: "Refuse custom JWTs issued longer ago, or expiring further ahead, than this [default: 1h]" })
          .option("access-token-ttl", { type: "string", describe: "Access token lifetime, e.g. 30m [default: 30m]" })
          .option("refresh-token-ttl", { type: "string", describe: "Refresh token lifetime, e.g. 60d [default: 60d]" })
          .option("secret-file", { type: "string", describe: "File holding the access-token secret, created (0600) when missing [default: $ASYMGEN_SECRET, else ./asymgen-data/access-token.key]" })
          .option("tls-cert", { type: "string", describe: "PEM certificate (chain) file: serve HTTPS (with --tls-key)" })
          .option("tls-key", { type: "string", describe: "PEM private key file of --tls-cert" })
          .option("max-batch-documents", { type: "number", describe: "Documents per ingest batch before 413" })
          .option("max-batch-bytes", { type: "number", describe: "Bytes per ingest batch before 413" })
          .option("max-in-flight", { type: "number", describe: "Batches processed at once before 503 + Retry-After" })
          .option("max-in-flight-bytes", { type: "number", describe: "Request body bytes held at once before 503 + Retry-After [default: 64 MiB]" })
          .option("max-in-flight-per-user", { type: "number", describe: "Batches one user may have in flight before 429 [default: 8]" })
          .option("max-in-flight-bytes-per-user", { type: "number", describe: "Request body bytes one user's batches may hold at once before 429 + Retry-After [default: 16 MiB + 64 KiB]" })
          .option("body-read-timeout", { type: "string", describe: "Time a client has to send a request body before 408, e.g. 30s [default: 30s]" })
          .option("auth-failed-logins-per-account", { type: "string", describe: "Wrong passwords per email/password account before 429, COUNT/WINDOW or off [default: 10/15m]" })
          .option("auth-failed-logins-per-address", { type: "string", describe: "Failed logins per client address, any account [default: 60/1h]" })
          .option("auth-logins-per-address", { type: "string", describe: "Password, API-key and custom-token logins per client address [default: 30/1m]" })
          .option("auth-anonymous-users-per-address", { type: "string", describe: "Anonymous users created per client address [default: 30/3m]" })
          .option("auth-registrations-per-address", { type: "string", describe: "Email/password registrations per client address [default: 10/10m]" })
          .option("trust-proxy", { type: "boolean", describe: "Count the last X-Forwarded-For hop as the client address (only behind a proxy that appends it)" })
          .option("auth-sweep-interval", { type: "string", describe: "How often expired sessions and anonymous users are deleted, 0 for never [default: 10m]" })
          .option("log-level", { type: "string", describe: "Lowest log level printed: debug, info, warn, error [default: info]" })
          .option("quiet", { type: "boolean", describe: "Print no logs" })
          .option("secret", { type: "string", hidden: true })
          .check((parsed) => {
            if (parsed.secret !== undefined)
              throw new Error("--secret is not accepted: a secret on the command line is visible to every user of the machine; use ASYMGEN_SECRET or --secret-file.");
            return true;
          }),
      // Every value is checked by the server's settings schema (server/serve-settings.ts), the same
      // one the config file goes through, so a flag and a config key fail with one kind of message.
      async (parsed) => {
        exitCode = await runServe(
          dropUndefined({
            schema: parsed.schema,
            appId: parsed["app-id"],
            host: parsed.host,
            port: parsed.port,
            store: parsed.store,
            config: parsed.config,
            auth: parsed.auth,
            jwtKey: parsed["jwt-key"],
            jwtAlgorithm: parsed["jwt-algorithm"] as ServeArgs["jwtAlgorithm"],
            jwtAudience: parsed["jwt-audience"],
            jwtIssuer: parsed["jwt-issuer"],
            jwtJwksUrl: parsed["jwt-jwks-url"],
            jwtClockTolerance: parsed["jwt-clock-tolerance"],
            jwtMaxTokenAge: parsed["jwt-max-token-age"],
            accessTokenTtl: parsed["access-token-ttl"],
            refreshTokenTtl: parsed["refresh-token-ttl"],
            secretFile: parsed["secret-file"],
            tlsCert: parsed["tls-cert"],
            tlsKey: parsed["tls-key"],
            maxBatchDocuments: parsed["max-batch-documents"],
            maxBatchBytes: parsed["max-batch-bytes"],
            maxInFlight: parsed["max-in-flight"],
            maxInFlightBytes: parsed["max-in-flight-bytes"],
            maxInFlightPerUser: parsed["max-in-flight-per-user"],
            maxInFlightBytesPerUser: parsed["max-in-flight-bytes-per-user"],
            bodyReadTimeout: parsed["body-read-timeout"],
            authFailedLoginsPerAccount: parsed["auth-failed-logins-per-account"],
            authFailedLoginsPerAddress: parsed["auth-failed-logins-per-address"],
            authLoginsPerAddress: parsed["auth-logins-per-address"],
            authAnonymousUsersPerAddress: parsed["auth-anonymous-users-per-address"],
            authRegistrationsPerAddress: parsed["auth-registrations-per-address"],
            trustProxy: parsed["trust-proxy"],
            authSweepInterval: parsed["auth-sweep-interval"],
            logLevel: parsed["log-level"] as ServeArgs["logLevel"],
            quiet: parsed.quiet,
          }),
        );
      },
    )
    .command("apikey", "Manage API keys", (command) =>
      command
        .command(
          "create",
          "Create an API key and print it",
          (sub) =>
            sub
              .option("app-id", { type: "string", demandOption: true, describe: "The app id the key belongs to" })
              .option("store", { type: "string", describe: "sqlite:PATH, postgres://… or mongodb://… [default: sqlite:./asymgen-data/ingest.sqlite]" })
              .option("name", { type: "string", describe: "A name to remember the key by" }),
          async (parsed) => {
            exitCode = await runApiKeyCreate(dropUndefined({ appId: parsed["app-id"], store: parsed.store, name: parsed.name }));
          },
        )
        .command(
          "list",
          "List the API keys of the store (id, name, created, user id; never the key)",
          (sub) =>
            sub
              .option("app-id", { type: "string", demandOption: true, describe: "The app id the keys belong to" })
              .option("store", { type: "string", describe: "sqlite:PATH, postgres://… or mongodb://… [default: sqlite:./asymgen-data/ingest.sqlite]" })
              .option("json", { type: "boolean", describe: "Print a JSON array instead of a table" }),
          async (parsed) => {
            exitCode = await runApiKeyList(dropUndefined({ appId: parsed["app-id"], store: parsed.store, json: parsed.json }));
          },
        )
        .command(
          "revoke <id>",
          "Delete an API key and end its sessions at once",
          (sub) =>
            sub
              .positional("id", { type: "string", demandOption: true, describe: "The key's id, as apikey list shows it" })
              .option("store", { type: "string", describe: "sqlite:PATH, postgres://… or mongodb://… [default: sqlite:./asymgen-data/ingest.sqlite]" }),
          async (parsed) => {
            exitCode = await runApiKeyRevoke(dropUndefined({ id: parsed.id, store: parsed.store }));
          },
        )
        .demandCommand(1, "Name an apikey command (create, list, revoke)."),
    )
    .demandCommand(1, "Name a command: generate, serve or apikey.")
    .strict()
    .recommendCommands()
    .version(readPackageVersion())
    .help()
    .alias("help", "h")
    .wrap(Math.min(100, process.stdout.columns ?? 100))
    .exitProcess(false)
    .fail((message, error) => {
      // yargs calls this for its own validation (message set) and for a handler that threw
      // (error set, message empty): only the first is a usage error.
      if (error !== undefined && error !== null && !message) throw error;
      throw new UsageError(message ?? String(error));
    });
  try {
    await parser.parseAsync();
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`asymgen: ${error.message}\nRun "asymgen --help" for usage.\n`);
      return ExitCode.usage;
    }
    process.stderr.write(renderInternalError(error));
    return ExitCode.failed;
  }
  return exitCode;
}

process.exitCode = await runCli(hideBin(process.argv));
