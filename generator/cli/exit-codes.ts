/**
 * The CLI's exit codes, documented in the README: scripts and CI tell "fix your models" from
 * "fix your command line".
 */
export const ExitCode = {
  /** Everything generated (or, with --check, everything current). */
  ok: 0,
  /** Diagnostics with errors, a stale output under --check, or an internal failure (ASYM9001). */
  failed: 1,
  /** Bad usage: an unknown command or option, a missing or invalid argument. */
  usage: 2,
} as const;
