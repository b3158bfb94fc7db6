/**
 * Prints diagnostics for people (text with a code frame, notes and hints, paths relative to the
 * working folder) or for tools (a stable JSON array). Diagnostics are data; this is the only place
 * that decides how they look.
 */
import fs from "node:fs";
import path from "node:path";
import type { SourceSpan } from "../model/model-info.js";
import type { Diagnostic } from "./diagnostic.js";

/** How to print. */
export interface RenderDiagnosticsOptions {
  format: "text" | "json";
  /** Paths print relative to this folder. */
  cwd: string;
  /** Reads a source file for the code frame; default: the file system. */
  readFile?: (path: string) => string;
  /** ANSI colours in text output (off by default; the CLI turns it on for a terminal). */
  color?: boolean;
}

/** One diagnostic in the JSON output: every key always present, absent values as null. */
export interface DiagnosticJson {
  code: string;
  severity: string;
  message: string;
  file: string | null;
  line: number | null;
  column: number | null;
  endLine: number | null;
  endColumn: number | null;
  label: string | null;
  related: { file: string; line: number; column: number; label: string }[];
  hint: string | null;
  /** The hint as text edits, where it names one (empty otherwise): see Diagnostic.fixes. */
  fixes: { title: string; edits: { file: string; line: number; column: number; endLine: number; endColumn: number; newText: string }[] }[];
}

/** Renders all diagnostics in one string (text ends with a summary line, and is empty for none; JSON is an array). */
export function renderDiagnostics(diagnostics: Diagnostic[], options: RenderDiagnosticsOptions): string {
  if (options.format === "json") return `${JSON.stringify(diagnostics.map((d) => toJson(d, options.cwd)), null, 2)}\n`;
  if (diagnostics.length === 0) return "";
  const sources = createSourceReader(options.readFile);
  const paint = createPainter(options.color === true);
  const blocks = diagnostics.map((d) => renderOne(d, options.cwd, sources, paint));
  return `${[...blocks, summarize(diagnostics)].join("\n\n")}\n`;
}

/** The JSON form of one diagnostic. */
export function toJson(diagnostic: Diagnostic, cwd: string): DiagnosticJson {
  const span = diagnostic.span;
  return {
    code: diagnostic.code,
    severity: diagnostic.severity,
    message: diagnostic.message,
    file: span === undefined ? null : relativePath(cwd, span.file),
    line: span?.line ?? null,
    column: span?.column ?? null,
    endLine: span?.endLine ?? null,
    endColumn: span?.endColumn ?? null,
    label: diagnostic.label ?? null,
    related: diagnostic.related.map((r) => ({ file: relativePath(cwd, r.span.file), line: r.span.line, column: r.span.column, label: r.label })),
    hint: diagnostic.hint ?? null,
    fixes: (diagnostic.fixes ?? []).map((fix) => ({
      title: fix.title,
      edits: fix.edits.map((edit) => ({
        file: relativePath(cwd, edit.span.file),
        line: edit.span.line,
        column: edit.span.column,
        endLine: edit.span.endLine ?? edit.span.line,
        endColumn: edit.span.endColumn ?? edit.span.column,
        newText: edit.newText,
      })),
    })),
  };
}

type Painter = Record<"error" | "warning" | "location" | "gutter" | "marker" | "note", (text: string) => string>;

function createPainter(color: boolean): Painter {
  const wrap = (code: string) => (text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  return { error: wrap("31;1"), warning: wrap("33;1"), location: wrap("36"), gutter: wrap("2"), marker: wrap("31"), note: wrap("1") };
}

function renderOne(diagnostic: Diagnostic, cwd: string, sources: (file: string) => string[] | undefined, paint: Painter): string {
  const severity = diagnostic.severity === "error" ? paint.error("error") : paint.warning("warning");
  const head = `${severity} ${diagnostic.code}: ${diagnostic.message}`;
  const lines: string[] = [];
  const span = diagnostic.span;
  if (span === undefined) lines.push(head);
  else {
    lines.push(`${paint.location(`${relativePath(cwd, span.file)}:${span.line}:${span.column}`)} - ${head}`);
    const frame = renderFrame(span, diagnostic.label, sources(span.file), paint);
    if (frame !== undefined) lines.push("", frame);
  }
  const notes = [
    ...diagnostic.related.map((r) => `  ${paint.note("note:")} ${r.label} (${relativePath(cwd, r.span.file)}:${r.span.line}:${r.span.column})`),
    ...(diagnostic.hint === undefined ? [] : [`  ${paint.note("hint:")} ${diagnostic.hint}`]),
  ];
  if (notes.length > 0) lines.push("", ...notes);
  return lines.join("\n");
}

/** The span's first line with a gutter, and `^^^` under the span (to the line's end if it spans more). */
function renderFrame(span: SourceSpan, label: string | undefined, lines: string[] | undefined, paint: Painter): string | undefined {
  const source = lines?.[span.line - 1];
  if (source === undefined) return undefined;
  const expand = (text: string) => text.replace(/\t/g, "  ");
  const before = expand(source.slice(0, span.column - 1));
  const lastColumn = span.endLine === undefined || span.endLine === span.line ? (span.endColumn ?? span.column + (span.end - span.start)) : source.length + 1;
  const marked = expand(source.slice(span.column - 1, Math.max(span.column, lastColumn) - 1));
  const gutter = String(span.line);
  const pad = " ".repeat(gutter.length);
  const marker = "^".repeat(Math.max(1, marked.length));
  return [
    `  ${paint.gutter(`${gutter} |`)} ${expand(source).trimEnd()}`,
    `  ${paint.gutter(`${pad} |`)} ${" ".repeat(before.length)}${paint.marker(marker)}${label === undefined ? "" : ` ${paint.marker(label)}`}`,
  ].join("\n");
}

function summarize(diagnostics: Diagnostic[]): string {
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  const warnings = diagnostics.length - errors;
  const files = new Set(diagnostics.flatMap((d) => (d.span === undefined ? [] : [d.span.file]))).size;
  const count = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  const parts = [count(errors, "error"), ...(warnings > 0 ? [count(warnings, "warning")] : [])];
  return `Found ${parts.join(" and ")}${files > 0 ? ` in ${count(files, "file")}` : ""}.`;
}

function createSourceReader(readFile: ((path: string) => string) | undefined): (file: string) => string[] | undefined {
  const cache = new Map<string, string[] | undefined>();
  const read = readFile ?? ((file: string) => fs.readFileSync(file, "utf8"));
  return (file) => {
    if (!cache.has(file)) {
      try {
        cache.set(file, read(file).split(/\r?\n/));
      } catch {
        // An unreadable file still gets its diagnostic, only without a code frame.
        cache.set(file, undefined);
      }
    }
    return cache.get(file);
  };
}

/** `file` relative to `cwd`, with forward slashes on every platform (goldens are compared byte for byte). */
function relativePath(cwd: string, file: string): string {
  return path.relative(cwd, file).split(path.sep).join("/");
}
