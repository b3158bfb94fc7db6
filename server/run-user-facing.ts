/**
 * How a server command ends for the `asymgen` bin: an exit code, and one line on stderr for an
 * error the user can fix. The codes are the bin's (README "The CLI"): 0 ok, 1 failed, 2 usage.
 */
import { AsymgenError } from "asymgen/errors";

/** The `asymgen` bin's exit codes, as @asymgen/generator's cli/exit-codes.ts defines them. */
export const ServerExitCode = { ok: 0, failed: 1, usage: 2 } as const;

/**
 * Runs a server command. A configuration error, an asymgen error or a system error (a port in
 * use, a refused database connection) is the user's to fix and prints as one line; anything else
 * is rethrown to the bin's internal-error path.
 */
export async function runUserFacing(command: () => Promise<void>): Promise<number> {
  try {
    await command();
    return ServerExitCode.ok;
  } catch (error) {
    // A bad flag value is bad usage, like an unknown flag: exit 2 with the usual hint.
    if (error instanceof Error && error.name === "ServeUsageError") {
      process.stderr.write(`asymgen: ${error.message}\nRun "asymgen --help" for usage.\n`);
      return ServerExitCode.usage;
    }
    if (isUserFacing(error)) {
      process.stderr.write(`asymgen: ${(error as Error).message}\n`);
      return ServerExitCode.failed;
    }
    throw error;
  }
}

function isUserFacing(error: unknown): boolean {
  // ServeConfigError and ApiKeyCommandError are AsymgenErrors.
  if (error instanceof AsymgenError) return true;
  if (!(error instanceof Error)) return false;
  // Also by name: a second copy of the runtime (two installed versions) has its own AsymgenError.
  if (error.name === "ServeConfigError") return true;
  // Node's system errors (EADDRINUSE, ECONNREFUSED, EACCES…) carry a string code.
  return typeof (error as NodeJS.ErrnoException).code === "string" && /^E[A-Z]+$/.test((error as NodeJS.ErrnoException).code ?? "");
}
