/**
 * Turns a TypeScript node into a plain SourceSpan, the only kind of position the IR carries.
 */
import { ts } from "../ts-morph.cjs";
import type { SourceSpan } from "../model/model-info.js";

/** The span of `node` (from its first token, trivia excluded) in `file`. */
export function createSourceSpan(node: ts.Node, file: ts.SourceFile): SourceSpan {
  return createSourceSpanAt(file, node.getStart(file), node.getEnd());
}

/** The span from offset `start` to `end` in `file` (for positions that are not nodes: a syntax error). */
export function createSourceSpanAt(file: ts.SourceFile, start: number, end: number): SourceSpan {
  const from = file.getLineAndCharacterOfPosition(start);
  const to = file.getLineAndCharacterOfPosition(end);
  return {
    file: file.fileName,
    line: from.line + 1,
    column: from.character + 1,
    start,
    end,
    endLine: to.line + 1,
    endColumn: to.character + 1,
  };
}
