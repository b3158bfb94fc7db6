/**
 * Carries a JSDoc comment over into generated code, re-indented the way prettier re-indents a
 * JSDoc-style block comment, so the output needs no formatter for it.
 */

/** The comment's lines without indentation, and whether prettier would print them the same. */
export function docLines(raw: string | undefined): { lines: string[]; verbatim: boolean } {
  if (raw === undefined || raw.trim() === "") return { lines: [], verbatim: false };
  const lines = raw.trim().split(/\r?\n/);
  if (lines.length === 1) return { lines: [lines[0]!.trimEnd()], verbatim: false };
  const rest = lines.slice(1).map((line) => line.trim());
  // Prettier re-indents a block comment only when every line after the first starts with "*";
  // any other comment it prints verbatim, which a re-indented copy would not match.
  if (!rest.every((line) => line.startsWith("*"))) return { lines, verbatim: true };
  return { lines: [lines[0]!.trim(), ...rest.map((line) => ` ${line}`)], verbatim: false };
}
