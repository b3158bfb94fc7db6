/**
 * Reads a declaration's JSDoc comment as written, so generated classes show the same docs.
 */
import { ts } from "../ts-morph.cjs";

/**
 * The last `/** … *\/` block before `node`, with continuation lines re-indented to ` *` so the
 * renderer can indent it anywhere; `undefined` when there is none.
 */
export function readDocs(node: ts.Node, file: ts.SourceFile): string | undefined {
  const blocks = ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc);
  const last = blocks[blocks.length - 1];
  if (last === undefined) return undefined;
  const raw = file.text.slice(last.getStart(file), last.getEnd());
  return raw
    .split(/\r?\n/)
    .map((line, index) => {
      if (index === 0) return line.trimEnd();
      const trimmed = line.trim();
      return trimmed.startsWith("*") ? ` ${trimmed}` : ` * ${trimmed}`.trimEnd();
    })
    .join("\n");
}
