/**
 * Diagnostics in the words the CLI uses (diagnostics/render-diagnostics.ts): `file:line:col -
 * error ASYMxxxx: message`, the code frame, notes and the hint. Bundlers show these texts; each
 * adapter only decides where they go (an error it throws, esbuild's messages, compilation.errors).
 */
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { renderDiagnostics } from "../diagnostics/render-diagnostics.js";

/** Where a diagnostic points, for a bundler's `loc` fields (1-based line and column). */
export interface MessageLocation {
  /** Absolute path. */
  file: string;
  line: number;
  column: number;
}

/** All of a run's diagnostics as the CLI prints them, ending with its summary line (no trailing newline). */
export function renderRunText(diagnostics: Diagnostic[], cwd: string): string {
  return renderDiagnostics(diagnostics, { format: "text", cwd }).trimEnd();
}

/** One diagnostic as the CLI prints it, without the summary line (a bundler counts its messages itself). */
export function renderDiagnosticText(diagnostic: Diagnostic, cwd: string): string {
  const text = renderRunText([diagnostic], cwd);
  // The renderer ends every report with one "Found …" paragraph; a message per diagnostic drops it.
  const summary = text.lastIndexOf("\n\nFound ");
  return summary === -1 ? text : text.slice(0, summary);
}

/** The first line of a diagnostic: `ASYM3001: message` (bundlers print the location themselves). */
export function renderHeadline(diagnostic: Diagnostic): string {
  return `${diagnostic.code}: ${diagnostic.message}`;
}

/** The diagnostic's primary location, if it has one. */
export function locateDiagnostic(diagnostic: Diagnostic): MessageLocation | undefined {
  const span = diagnostic.span;
  return span === undefined ? undefined : { file: span.file, line: span.line, column: span.column };
}

/** "wrote 2 files, removed 1 (14 ms)" or "no output changed (9 ms)": the line a dev server logs per run. */
export function describeWrites(written: number, removed: number, ms: number): string {
  const plural = (count: number, word: string): string => `${count} ${word}${count === 1 ? "" : "s"}`;
  const parts = [...(written > 0 ? [`wrote ${plural(written, "file")}`] : []), ...(removed > 0 ? [`removed ${plural(removed, "file")}`] : [])];
  return `${parts.length > 0 ? parts.join(", ") : "no output changed"} (${Math.round(ms)} ms)`;
}
