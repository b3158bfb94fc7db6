/**
 * Prints an internal failure the way users see every other problem: as an ASYM9001 diagnostic
 * asking for a report, never as a bare stack trace.
 */
import { renderDiagnostics } from "../diagnostics/render-diagnostics.js";
import { createInternalErrorDiagnostic } from "../config/create-internal-error-diagnostic.js";

/** The text to print for an unexpected error, ending with a newline. */
export function renderInternalError(error: unknown): string {
  const diagnostic = createInternalErrorDiagnostic(error);
  try {
    const text = renderDiagnostics([diagnostic], { format: "text", cwd: process.cwd() });
    return text.endsWith("\n") ? text : `${text}\n`;
  } catch {
    // The renderer itself failed: fall back to the plainest form that still names the code.
    return `error ${diagnostic.code}: ${diagnostic.message}\n${diagnostic.hint ?? ""}\n`;
  }
}
