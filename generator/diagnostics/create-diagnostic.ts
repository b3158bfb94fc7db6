/**
 * Builds a diagnostic from a code-table identifier, so rules never spell a code by hand.
 */
import type { SourceSpan } from "../model/model-info.js";
import { diagnosticCodes, type DiagnosticCodeId, type DiagnosticCodeInfo } from "./codes.js";
import type { Diagnostic, DiagnosticFix, RelatedSpan, Severity } from "./diagnostic.js";

/** What a rule says about one problem; the code and default severity come from the table. */
export interface DiagnosticFields {
  message: string;
  span?: SourceSpan | undefined;
  label?: string | undefined;
  related?: RelatedSpan[] | undefined;
  hint?: string | undefined;
  severity?: Severity | undefined;
  /** Text edits that carry out the hint (see Diagnostic.fixes); an empty list is left out. */
  fixes?: DiagnosticFix[] | undefined;
}

/** Creates a diagnostic for the code named `id`, leaving absent fields out (exact optional types). */
export function createDiagnostic(id: DiagnosticCodeId, fields: DiagnosticFields): Diagnostic {
  const diagnostic: Diagnostic = {
    code: diagnosticCodes[id].code,
    severity: fields.severity ?? (diagnosticCodes[id] as DiagnosticCodeInfo).severity ?? "error",
    message: fields.message,
    related: fields.related ?? [],
  };
  if (fields.span !== undefined) diagnostic.span = fields.span;
  if (fields.label !== undefined) diagnostic.label = fields.label;
  if (fields.hint !== undefined) diagnostic.hint = fields.hint;
  if (fields.fixes !== undefined && fields.fixes.length > 0) diagnostic.fixes = fields.fixes;
  return diagnostic;
}

/** Orders diagnostics by file, then position, then code: the order every report uses. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort((a, b) => {
    const fa = a.span?.file ?? "";
    const fb = b.span?.file ?? "";
    if (fa !== fb) return fa < fb ? -1 : 1;
    const sa = a.span?.start ?? -1;
    const sb = b.span?.start ?? -1;
    if (sa !== sb) return sa - sb;
    return a.code < b.code ? -1 : a.code > b.code ? 1 : a.message < b.message ? -1 : a.message > b.message ? 1 : 0;
  });
}
