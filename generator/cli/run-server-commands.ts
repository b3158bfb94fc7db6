/**
 * `asymgen serve` and `asymgen apikey create|list|revoke`: thin adapters onto the server's own command
 * functions, imported on demand so the generator never loads pg, mongodb or better-sqlite3.
 */
import type { ApiKeyCreateArgs, ApiKeyListArgs, ApiKeyRevokeArgs } from "../../server/apikey-commands.js";
import type { ServeArgs } from "../../server/serve-settings.js";
import { AsymgenError } from "../../runtime/errors.js";
import { ExitCode } from "./exit-codes.js";

/** Starts the ingest server; resolves with the exit code once it has shut down. */
export async function runServe(args: ServeArgs): Promise<number> {
  const commands = await import("../../server/cli-commands.js");
  return runUserFacing(() => commands.runServeCommand(args));
}

/** Creates an API key and prints it; resolves with the exit code. */
export async function runApiKeyCreate(args: ApiKeyCreateArgs): Promise<number> {
  const commands = await import("../../server/apikey-commands.js");
  return runUserFacing(() => commands.runApiKeyCreateCommand(args));
}

/** Lists the store's API keys; resolves with the exit code. */
export async function runApiKeyList(args: ApiKeyListArgs): Promise<number> {
  const commands = await import("../../server/apikey-commands.js");
  return runUserFacing(() => commands.runApiKeyListCommand(args));
}

/** Revokes an API key and ends its sessions; resolves with the exit code (1 for an unknown id). */
export async function runApiKeyRevoke(args: ApiKeyRevokeArgs): Promise<number> {
  const commands = await import("../../server/apikey-commands.js");
  return runUserFacing(() => commands.runApiKeyRevokeCommand(args));
}

/**
 * Runs a server command. A configuration error, an asymgen error or a system error (a port in
 * use, a refused database connection) is the user's to fix and prints as one line; anything else
 * is left to the CLI's internal-error path.
 */
async function runUserFacing(command: () => Promise<void>): Promise<number> {
  try {
    await command();
    return ExitCode.ok;
  } catch (error) {
    // A bad flag value is bad usage, like an unknown flag: exit 2 with the usual hint.
    if (error instanceof Error && error.name === "ServeUsageError") {
      process.stderr.write(`asymgen: ${error.message}\nRun "asymgen --help" for usage.\n`);
      return ExitCode.usage;
    }
    if (isUserFacing(error)) {
      process.stderr.write(`asymgen: ${(error as Error).message}\n`);
      return ExitCode.failed;
    }
    throw error;
  }
}

function isUserFacing(error: unknown): boolean {
  if (error instanceof AsymgenError) return true;
  if (!(error instanceof Error)) return false;
  // The server's ServeConfigError (a bad flag, an unreadable schema or config file).
  if (error.name === "ServeConfigError") return true;
  // Node's system errors (EADDRINUSE, ECONNREFUSED, EACCES…) carry a string code.
  return typeof (error as NodeJS.ErrnoException).code === "string" && /^E[A-Z]+$/.test((error as NodeJS.ErrnoException).code ?? "");
}
