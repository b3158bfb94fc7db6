/**
 * An internal failure as a diagnostic (ASYM9001): users see a bug in asymgen the way they see
 * their own mistakes, with a request to report it, not a bare stack trace.
 */
import { createDiagnostic } from "../diagnostics/create-diagnostic.js";
import type { Diagnostic } from "../diagnostics/diagnostic.js";

/** Builds the diagnostic that reports a bug in asymgen itself. */
export function createInternalErrorDiagnostic(error: unknown): Diagnostic {
  const message = error instanceof Error ? error.message : String(error);
  // The stack is what a maintainer needs to fix it; it goes in the hint, under the request.
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return createDiagnostic("internalError", {
    message: `asymgen failed internally: ${message}`,
    hint: `This is a bug in asymgen. Please report it with the model file that triggers it and this detail:\n${detail}`,
  });
}
