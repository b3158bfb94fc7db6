/**
 * SourceSpan → LSP Range. A span's offsets are UTF-16 code unit offsets into the text TypeScript
 * read, which is what LSP positions count too (its default position encoding, utf-16), so the
 * offsets are converted against that very text; TypeScript's own line numbers are not used,
 * because it also breaks lines at U+2028/U+2029 and LSP does not.
 */
import { readFileSync } from "node:fs";
import type { Position, Range } from "vscode-languageserver/node";
import { TextDocument } from "vscode-languageserver-textdocument";
import type { SourceSpan } from "../model/model-info.js";

/** The texts spans point into, for one analysis: open documents first, else the file on disk (each read once). */
export class SourceTexts {
  private readonly read = new Map<string, TextDocument | null>();

  constructor(private readonly openText: (file: string) => string | undefined) {}

  /** The range of `span`, from its offsets in the file's text, else from its line and column. */
  rangeOf(span: SourceSpan): Range {
    const document = this.documentOf(span.file);
    if (document !== undefined) return { start: document.positionAt(span.start), end: document.positionAt(span.end) };
    const start: Position = { line: span.line - 1, character: span.column - 1 };
    const end: Position = span.endLine !== undefined && span.endColumn !== undefined ? { line: span.endLine - 1, character: span.endColumn - 1 } : start;
    return { start, end };
  }

  /** The text of `file` that spans point into (the open document's, else the disk's). */
  textOf(file: string): string | undefined {
    return this.documentOf(file)?.getText();
  }

  private documentOf(file: string): TextDocument | undefined {
    let document = this.read.get(file);
    if (document === undefined) {
      // Cached per file: a TextDocument computes its line offsets once, a file may have many spans.
      const open = this.openText(file);
      if (open !== undefined) document = TextDocument.create(file, "typescript", 0, open);
      else {
        try {
          // TypeScript drops a byte order mark before it counts offsets.
          document = TextDocument.create(file, "typescript", 0, readFileSync(file, "utf8").replace(/^\uFEFF/, ""));
        } catch {
          document = null;
        }
      }
      this.read.set(file, document);
    }
    return document ?? undefined;
  }
}
