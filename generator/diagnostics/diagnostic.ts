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
  /**
   * The hint as text edits, where it names one (add `@PrimaryKey()`, remove a decorator, make a
   * property optional): the editor's quick fixes and the JSON report's `fixes`. Each fix is whole
   * on its own; a diagnostic may offer several alternatives.
   */
  fixes?: DiagnosticFix[];
}

/** One way to fix a diagnostic: a title for a menu and the edits that make it. */
export interface DiagnosticFix {
  /** What the fix does, as an editor lists it (`Add @PrimaryKey() to "id"`). */
  title: string;
  /** Non-overlapping edits, in any order; an empty span inserts. */
  edits: FixEdit[];
}

/** Replaces the text of `span` (possibly empty: an insertion) with `newText`. */
export interface FixEdit {
  span: SourceSpan;
  newText: string;
}
