/**
 * Small builders for the text edits rules attach to diagnostics (Diagnostic.fixes). Rules read
 * only the IR, so an edit is computed from the spans it holds: a decorator's span, a property
 * name's span, a type annotation's span. Where the IR cannot say what text sits between two spans
 * (an initializer, a `| null`), the rule offers no fix rather than a guess.
 */
import type { DiagnosticFix, FixEdit } from "../diagnostics/diagnostic.js";
import type { PropertyInfo, SourceSpan } from "../model/model-info.js";

/**
 * The span from the end of `from` to the start of `to` (the `?: ` between a property name and its
 * type), or undefined when `from` has no end position or `to` does not follow it.
 */
export function spanBetween(from: SourceSpan, to: SourceSpan): SourceSpan | undefined {
  if (from.endLine === undefined || from.endColumn === undefined || to.start < from.end || from.file !== to.file) return undefined;
  return { file: from.file, line: from.endLine, column: from.endColumn, start: from.end, end: to.start, endLine: to.line, endColumn: to.column };
}

/** The span from the end of `from` through the end of `to` (` = value` after a type), or undefined as for spanBetween. */
export function spanThrough(from: SourceSpan, to: SourceSpan): SourceSpan | undefined {
  const between = spanBetween(from, to);
  if (between === undefined || to.endLine === undefined || to.endColumn === undefined) return undefined;
  return { ...between, end: to.end, endLine: to.endLine, endColumn: to.endColumn };
}

/** A fix of one edit. */
export function fixOf(title: string, span: SourceSpan, newText: string): DiagnosticFix {
  return { title, edits: [{ span, newText }] };
}

/** Deletes `span` (a decorator; an editor may widen it over the blank it leaves). */
export function deletion(span: SourceSpan): FixEdit {
  return { span, newText: "" };
}

/**
 * Adds `decorators` (`@PrimaryKey()`) to `property` where its declaration begins, before its
 * decorators and modifiers (`@PrimaryKey() readonly id`): a decorator after a modifier does not parse.
 */
export function addDecoratorFix(title: string, property: PropertyInfo, decorators: string): DiagnosticFix {
  return fixOf(title, property.declarationStart, `${decorators} `);
}

/** The fix of the hints ending "or mark … with @Ignored()". */
export function ignoreFix(property: PropertyInfo): DiagnosticFix {
  return addDecoratorFix(`Mark "${property.name}" with @Ignored()`, property, "@Ignored()");
}

/**
 * Whether the property's type comes from a written annotation and its optionality only from
 * `?` (no `| null`/`| undefined` in the text): then the text between the name and the type is
 * exactly `?: `, `!: ` or `: ` and can be replaced whole. A property with an initializer may have
 * its type inferred from it, so it is left alone.
 */
export function hasPlainAnnotation(property: PropertyInfo): boolean {
  return property.default === undefined && property.type.kind !== "unsupported" && !/\b(null|undefined)\b/.test(property.type.text);
}

/** Replaces the `?: `/`!: `/`: ` between `property`'s name and type with `separator`. */
export function annotationSeparatorFix(title: string, property: PropertyInfo, separator: "?: " | "!: "): DiagnosticFix | undefined {
  if (!hasPlainAnnotation(property)) return undefined;
  const between = spanBetween(property.span, property.type.span);
  return between === undefined ? undefined : fixOf(title, between, separator);
}

/** The fixes that exist, for `createDiagnostic`'s `fixes` field. */
export function listFixes(...fixes: (DiagnosticFix | undefined)[]): DiagnosticFix[] {
  return fixes.filter((fix): fix is DiagnosticFix => fix !== undefined);
}
