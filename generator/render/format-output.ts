/**
 * Formatting generated files with prettier, designed around its cost.
 *
 * Why not just run prettier on every output: measured on the bench corpus, prettier alone costs
 * about 3.5× `tsc --noEmit`, while a cold generator run must stay within 2×. So:
 * 1. The templates print exactly what prettier prints for its default options (a test checks
 *    `prettier.format(golden) === golden` for every golden and for the whole type table).
 * 2. A file is therefore passed through as is when the user's prettier options are ones the
 *    templates follow (print width, quote style) or equal the defaults, no line exceeds the print
 *    width, and the view model found nothing it prints verbatim (a user's default expression or
 *    comment): no prettier at all.
 * 3. Otherwise prettier formats it (the user's options win), and the result is kept in a
 *    content-addressed cache (hash of prettier's version, the options and the text), so an
 *    unchanged output is never formatted twice, across runs and watch sessions.
 * Either way the bytes are the same: the cache and the pass-through are only shortcuts.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Options } from "prettier";
import { loadPrettier, readPrettierVersion } from "./load-prettier.js";

/** The prettier options the templates print for, and the defaults of every other option that matters. */
export const TEMPLATE_PRETTIER_OPTIONS = {
  printWidth: 80,
  tabWidth: 2,
  useTabs: false,
  semi: true,
  singleQuote: false,
  jsxSingleQuote: false,
  quoteProps: "as-needed",
  trailingComma: "all",
  bracketSpacing: true,
  bracketSameLine: false,
  objectWrap: "preserve",
  arrowParens: "always",
  endOfLine: "lf",
  experimentalTernaries: false,
  experimentalOperatorPosition: "end",
  singleAttributePerLine: false,
  embeddedLanguageFormatting: "auto",
  proseWrap: "preserve",
  insertPragma: false,
  requirePragma: false,
} as const;

// Options the templates print for whatever their value: the view model lays lines out for the
// print width and writes strings in the chosen quote.
const TEMPLATE_FOLLOWS = { printWidth: "number", singleQuote: "boolean" } as const;

// Options that do not change how a .ts file prints.
const IRRELEVANT = new Set(["parser", "filepath", "plugins", "overrides", "$schema", "htmlWhitespaceSensitivity", "vueIndentScriptAndStyle"]);

/** Where formatting goes and how. */
export interface FormatOptions {
  /** The user's resolved prettier options (`null`/absent: prettier's defaults). */
  prettierOptions?: Options | null | undefined;
  /** The content-hash cache folder; absent: no cache. */
  cacheDir?: string | undefined;
  /** The output path (tells prettier the language and lets overrides apply). */
  filepath: string;
}

/** Whether `options` print TypeScript exactly as the templates do. */
export function isTemplateCompatible(options: Options | null | undefined): boolean {
  if (options === null || options === undefined) return true;
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined || IRRELEVANT.has(key)) continue;
    if (key in TEMPLATE_FOLLOWS) {
      if (typeof value !== TEMPLATE_FOLLOWS[key as keyof typeof TEMPLATE_FOLLOWS]) return false;
      continue;
    }
    if (!(key in TEMPLATE_PRETTIER_OPTIONS)) return false;
    if (TEMPLATE_PRETTIER_OPTIONS[key as keyof typeof TEMPLATE_PRETTIER_OPTIONS] !== value) return false;
  }
  return true;
}

/** The quote the templates should print strings with. */
export function quoteOf(options: Options | null | undefined): '"' | "'" {
  return options?.singleQuote === true ? "'" : '"';
}

/** The print width the templates should lay out for (the user's, else 80). */
export function printWidthOf(options: Options | null | undefined): number {
  return typeof options?.printWidth === "number" ? options.printWidth : TEMPLATE_PRETTIER_OPTIONS.printWidth;
}

/** What `formatOutput` did, for tests and timings. */
export type FormatOutcome = "trusted" | "cached" | "formatted";

/** Returns `text` formatted; `untrusted` lists reasons the template output may not be prettier's. */
export async function formatOutput(text: string, untrusted: readonly string[], options: FormatOptions): Promise<{ text: string; outcome: FormatOutcome }> {
  const user = options.prettierOptions ?? null;
  const width = printWidthOf(user);
  if (untrusted.length === 0 && isTemplateCompatible(user) && !hasLongLine(text, width)) return { text, outcome: "trusted" };

  const effective: Options = { ...(user ?? {}), parser: "typescript", filepath: options.filepath };
  delete effective.plugins; // plugin objects are not serialisable into a cache key, nor needed for .ts
  const cacheFile = options.cacheDir === undefined ? undefined : path.join(options.cacheDir, `${cacheKey(text, effective)}.ts`);
  if (cacheFile !== undefined) {
    try {
      return { text: readFileSync(cacheFile, "utf8"), outcome: "cached" };
    } catch {
      // not cached yet
    }
  }
  const formatted = await (await loadPrettier()).format(text, effective);
  if (cacheFile !== undefined) writeCache(cacheFile, formatted);
  return { text: formatted, outcome: "formatted" };
}

function hasLongLine(text: string, width: number): boolean {
  let lineStart = 0;
  for (;;) {
    const end = text.indexOf("\n", lineStart);
    const stop = end === -1 ? text.length : end;
    // Prettier never breaks a comment, so a long comment line is no reason to run it. (Length
    // counts UTF-16 units: for non-ASCII text that errs on the side of running prettier.)
    if (stop - lineStart > width && !isCommentLine(text, lineStart, stop)) return true;
    if (end === -1) return false;
    lineStart = end + 1;
  }
}

function isCommentLine(text: string, start: number, end: number): boolean {
  const line = text.slice(start, end).trimStart();
  return line.startsWith("//") || line.startsWith("* ") || (line.startsWith("/**") && line.endsWith("*/"));
}

function cacheKey(text: string, options: Options): string {
  const { filepath: _ignored, ...rest } = options;
  const sorted = Object.fromEntries(Object.entries(rest).sort(([a], [b]) => (a < b ? -1 : 1)));
  return createHash("sha256").update(`prettier ${readPrettierVersion()}\n${JSON.stringify(sorted)}\n${text}`).digest("hex");
}

function writeCache(file: string, text: string): void {
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    // Write then rename: a concurrent reader never sees half a file.
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, text);
    renameSync(temp, file);
  } catch {
    // A read-only or missing cache folder only costs speed, never correctness.
  }
}
