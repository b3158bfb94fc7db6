#!/usr/bin/env node
/**
 * The `asymgen` command: parses flags with yargs and hands over to `generate()` (generate), to the
 * language server (lsp --stdio) or to @asymgen/server's commands (serve, apikey create|list|revoke),
 * which that package declares and this bin imports only when the command line is not `generate`
 * or `lsp`. Each command's code is imported only when it runs, so `asymgen generate` and
 * `asymgen lsp` never load the server and `asymgen serve` never loads ts-morph.
 */
import type { Argv } from "yargs";
import { enableCompileCache } from "./cli/enable-compile-cache.js";
import { ExitCode } from "./cli/exit-codes.js";
import { parsePlainGenerateArgs } from "./cli/parse-plain-generate-args.js";
import { readPackageVersion } from "./cli/read-package-version.js";
import type { GenerateCommandArgs } from "./cli/run-generate-command.js";
import { renderInternalError } from "./cli/render-internal-error.js";

/** A usage error yargs reported: printed without a stack, exit code 2. */
class UsageError extends Error {}

/** What "@asymgen/server/cli" exports (declared here: the generator does not depend on the server). */
interface ServerCli {
  addServerCommands<T>(parser: Argv<T>, finish: (exitCode: number) => void): Argv<T>;
}

const SERVER_CLI = "@asymgen/server/cli";

/** The server's commands, or null when @asymgen/server is not installed beside this package. */
async function loadServerCli(): Promise<ServerCli | null> {
  try {
    import.meta.resolve(SERVER_CLI);
  } catch {
    return null;
  }
  // Installed: a failure to load it now is a broken install, reported as an internal error.
  return (await import(SERVER_CLI)) as ServerCli;
}

/** Runs `asymgen generate` with parsed flags; resolves with the exit code. */
async function runGenerate(args: GenerateCommandArgs): Promise<number> {
  // Before ts-morph loads: TypeScript's compiled code from the last run (see the module).
  enableCompileCache();
  // Loaded on demand: `--help` and `serve` need neither ts-morph nor prettier.
  const { runGenerateCommand } = await import("./cli/run-generate-command.js");
  const exitCode = await runGenerateCommand(args);
  if (!args.watch) endNow(exitCode);
  return exitCode;
}

/**
 * Ends a one-shot `generate` as tsc ends (`ts.sys.exit`): at once, instead of after Node has torn
 * down the heap the run leaves (TypeScript's program: ~25 ms on the bench corpus). Only when
 * nothing is still queued for stdout or stderr (pipes are asynchronous on Windows); otherwise the
 * process ends on its own once they drain.
 */
function endNow(exitCode: number): void {
  if (process.stdout.writableLength === 0 && process.stderr.writableLength === 0) process.exit(exitCode);
}

/** Parses `argv` and runs the command; resolves with the exit code. */
async function runCli(argv: readonly string[]): Promise<number> {
  // The usual `asymgen generate …` skips yargs altogether (see parse-plain-generate-args.ts).
  const plain = parsePlainGenerateArgs(argv);
  if (plain !== undefined) {
    try {
      return await runGenerate(plain);
    } catch (error) {
      // As below, when yargs ran the handler: a failure is printed as an internal error, no stack.
      process.stderr.write(renderInternalError(error));
      return ExitCode.failed;
    }
  }
  const { default: yargs } = await import("yargs");
  let exitCode: number = ExitCode.ok;
  // The first word that is not a flag names the command (yargs has no global flags taking values).
  const commandName = argv.find((word) => !word.startsWith("-"));
  const server = commandName === "generate" || commandName === "lsp" ? null : await loadServerCli();
  if (server === null && (commandName === "serve" || commandName === "apikey")) {
    process.stderr.write(`asymgen: "asymgen ${commandName}" is part of the ingest server: npm install @asymgen/server\n`);
    return ExitCode.usage;
  }
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
        exitCode = await runGenerate(args);
      },
    )
    .command(
      "lsp",
      "Run the language server (diagnostics as you type, quick fixes, hover, generate on save)",
      (command) =>
        command
          .option("stdio", { type: "boolean", describe: "Speak the protocol over stdin/stdout (the only transport)" })
          // vscode-languageclient passes the editor's process id; the server watches stdin instead.
          .option("clientProcessId", { type: "number", hidden: true })
          .check((parsed) => {
            if (parsed.stdio !== true) throw new Error('Name the transport: "asymgen lsp --stdio" (the only one).');
            return true;
          }),
      async () => {
        // Loaded on demand, like generate: the protocol library, ts-morph and prettier.
        const { runLspCommand } = await import("./lsp/run-lsp-command.js");
        // Returns at once; the open connection keeps the process running, and exits it (0 after
        // shutdown, else 1) when the client sends exit or its input ends.
        runLspCommand();
      },
    );
  if (server !== null) server.addServerCommands(parser, (code) => (exitCode = code));
  // Listed in --help all the same; run without the server, they stop above with the install hint.
  else parser.command("serve", "Run the reference ingest server (npm install @asymgen/server)").command("apikey", "Manage API keys (npm install @asymgen/server)");
  parser
    .demandCommand(1, "Name a command: generate, lsp, serve or apikey.")
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

// What yargs' hideBin() returns for a node script (asymgen never runs as a bundled Electron app).
process.exitCode = await runCli(process.argv.slice(2));
