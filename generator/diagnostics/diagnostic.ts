/**
 * A diagnostic is data: a code, a message stating the rule as a fact, where it is, and what to
 * do. Rendering (text with a code frame, or JSON) is separate: diagnostics/render-diagnostics.ts.
 */
import type { SourceSpan } from "../model/model-info.js";

export type Severity = "error" | "warning";

/** A secondary place that explains the primary one (`in model "WeatherSensor"`). */
export interface RelatedSpan {
  span: SourceSpan;
  label: string;
}

export interface Diagnostic {
  /** `ASYM1234`: stable, grouped by stage, never renumbered or reused (see codes.ts). */
  code: string;
  severity: Severity;
  /** The rule as a fact, quoting the user's identifiers. */
  message: string;
  /** Where it is; absent only for whole-run problems (no input files, an unreadable tsconfig). */
  span?: SourceSpan;
  /** A short label under the primary span. */
  label?: string;
  related: RelatedSpan[];
  /** The fix, where it is obvious. */
  hint?: string;
}
