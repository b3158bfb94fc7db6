/**
 * Quick fixes: the `fixes` a rule attached to a diagnostic (see Diagnostic.fixes), as code
 * actions linked to the published diagnostic, each with a WorkspaceEdit (plus the import of any
 * asymgen name the fix writes and the file lacks: see missing-imports.ts).
 */
import { CodeActionKind, type CodeAction, type Range, type TextEdit } from "vscode-languageserver/node";
import type { DocumentPaths } from "./document-paths.js";
import { importMissingNames } from "./missing-imports.js";
import type { PublishedDiagnostic } from "./publish-diagnostics.js";
import type { SourceTexts } from "./source-positions.js";

/** The quick fixes of the diagnostics that touch `range`. */
export function listCodeActions(published: readonly PublishedDiagnostic[], range: Range, texts: SourceTexts, paths: DocumentPaths): CodeAction[] {
  const actions: CodeAction[] = [];
  for (const diagnostic of published) {
    if (!touches(diagnostic.lsp.range, range)) continue;
    for (const [index, fix] of (diagnostic.source.fixes ?? []).entries()) {
      const changes: Record<string, TextEdit[]> = {};
      for (const edit of fix.edits) {
        const text = texts.textOf(edit.span.file);
        // The rule's edits as they are (the JSON report carries the same); a deletion only takes its blank along.
        const [start, end] = edit.newText === "" && text !== undefined ? widenDeletion(text, edit.span.start, edit.span.end) : [edit.span.start, edit.span.end];
        const uri = paths.toUri(edit.span.file);
        (changes[uri] ??= []).push({ range: texts.rangeOf({ ...edit.span, start, end }), newText: edit.newText });
      }
      for (const file of new Set(fix.edits.map((edit) => edit.span.file))) {
        const text = texts.textOf(file);
        const insertion = text === undefined ? undefined : importMissingNames(text, fix.edits.filter((edit) => edit.span.file === file).map((edit) => edit.newText));
        if (insertion === undefined) continue;
        const at = { file, line: 1, column: 1, start: insertion.offset, end: insertion.offset };
        (changes[paths.toUri(file)] ??= []).push({ range: texts.rangeOf(at), newText: insertion.newText });
      }
      const action: CodeAction = { title: fix.title, kind: CodeActionKind.QuickFix, diagnostics: [diagnostic.lsp], edit: { changes } };
      if (index === 0) action.isPreferred = true;
      actions.push(action);
    }
  }
  return actions;
}

/** Whether two ranges overlap or touch (a cursor at either end of a diagnostic counts). */
function touches(a: Range, b: Range): boolean {
  const before = (x: Range["start"], y: Range["start"]): boolean => x.line < y.line || (x.line === y.line && x.character < y.character);
  return !before(a.end, b.start) && !before(b.end, a.start);
}

/**
 * A deleted decorator takes its trailing blanks along, and its whole line when it stood alone on
 * it, so `@Indexed()` on its own line leaves no empty line and `@Indexed() code` leaves `code`.
 */
export function widenDeletion(text: string, start: number, end: number): [number, number] {
  let after = end;
  while (after < text.length && (text[after] === " " || text[after] === "\t")) after += 1;
  let lineStart = start;
  while (lineStart > 0 && (text[lineStart - 1] === " " || text[lineStart - 1] === "\t")) lineStart -= 1;
  const aloneOnLine = (lineStart === 0 || text[lineStart - 1] === "\n") && (after === text.length || text[after] === "\n" || text[after] === "\r");
  if (aloneOnLine) {
    const lineEnd = text.startsWith("\r\n", after) ? after + 2 : after < text.length ? after + 1 : after;
    return [lineStart, lineEnd];
  }
  return [start, after];
}
