/**
 * An asymgen diagnostic as an LSP diagnostic: its code (`ASYM3012`), source `asymgen`, severity,
 * range, the related places as relatedInformation and the hint appended to the message (editors
 * show the message; the related list is easy to miss).
 */
import { DiagnosticSeverity, type Diagnostic as LspDiagnostic } from "vscode-languageserver/node";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { DocumentPaths } from "./document-paths.js";
import type { SourceTexts } from "./source-positions.js";

/** The `source` every published diagnostic carries. */
export const DIAGNOSTIC_SOURCE = "asymgen";

/** Converts a diagnostic that has a span (whole-run ones are logged instead: see publish-diagnostics.ts). */
export function toLspDiagnostic(diagnostic: Diagnostic & { span: NonNullable<Diagnostic["span"]> }, texts: SourceTexts, paths: DocumentPaths): LspDiagnostic {
  const lines = [diagnostic.message];
  if (diagnostic.label !== undefined) lines.push(diagnostic.label);
  if (diagnostic.hint !== undefined) lines.push(`hint: ${diagnostic.hint}`);
  const converted: LspDiagnostic = {
    range: texts.rangeOf(diagnostic.span),
    severity: diagnostic.severity === "error" ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
    code: diagnostic.code,
    source: DIAGNOSTIC_SOURCE,
    message: lines.join("\n"),
  };
  if (diagnostic.related.length > 0) {
    converted.relatedInformation = diagnostic.related.map((related) => ({
      location: { uri: paths.toUri(related.span.file), range: texts.rangeOf(related.span) },
      message: related.label,
    }));
  }
  return converted;
}
