/**
 * Renders the code table as the Markdown table the README's "Diagnostics" section shows between
 * its markers, so the documentation is generated from codes.ts and a test can compare the two.
 */
import { listDiagnosticCodes } from "./codes.js";

/** The README markers the generated table sits between. */
export const codeTableMarkers = { start: "<!-- diagnostics:start -->", end: "<!-- diagnostics:end -->" } as const;

/** Renders every code (retired ones included, marked) as a Markdown table, one row per code, ending with a newline. */
export function renderCodeTable(): string {
  const rows = listDiagnosticCodes().map((info) => {
    const notes = [...(info.severity === "warning" ? ["warning"] : []), ...(info.retired === true ? ["retired: no longer reported"] : [])];
    const meaning = `${info.title}${notes.length > 0 ? ` (${notes.join("; ")})` : ""}`;
    return `| ${info.code} | ${meaning.replace(/\|/g, "\\|")} |`;
  });
  return ["| Code | What it means |", "| --- | --- |", ...rows, ""].join("\n");
}

/** Replaces what lies between the markers in `text` with the table; throws when the markers are missing. */
export function replaceCodeTable(text: string): string {
  const start = text.indexOf(codeTableMarkers.start);
  const end = text.indexOf(codeTableMarkers.end);
  if (start === -1 || end === -1 || end < start) throw new Error(`The markers ${codeTableMarkers.start} and ${codeTableMarkers.end} were not found in order.`);
  return `${text.slice(0, start + codeTableMarkers.start.length)}\n${renderCodeTable()}${text.slice(end)}`;
}
