/**
 * render/: from the IR to the final text of `X.realm.ts`, and the canonical schemas for
 * `--schema-out`. The view model decides, templates/ prints, format-output.ts formats.
 */
import type { Options as PrettierOptions } from "prettier";
import type { CanonicalObjectSchema } from "asymgen/schema";
import type { ProjectInfo, SourceFileInfo } from "../model/model-info.js";
import { printModelFile } from "../../templates/model-file.js";
import { resolveDefaultCacheDir } from "../config/default-cache-dir.js";
import { buildCanonicalSchema } from "./build-canonical-schema.js";
import { buildFileView } from "./build-file-view.js";
import { formatOutput, printWidthOf, quoteOf, type FormatOutcome } from "./format-output.js";

/** Where a generated file comes from and goes, and how to format it. */
export interface RenderFileOptions {
  /** Absolute path of the model file `X.ts`. */
  sourceFile: string;
  /** Absolute path of the generated `X.realm.ts`. */
  outFile: string;
  /** The user's resolved prettier options; they win over the defaults. */
  prettierOptions?: PrettierOptions | null;
  /** The format cache folder (default: `resolveDefaultCacheDir` of the working directory). */
  cacheDir?: string;
}

/** The final, formatted text of the generated file for `file`. */
export async function renderModelFile(file: SourceFileInfo, project: ProjectInfo, options: RenderFileOptions): Promise<string> {
  return (await renderModelFileDetailed(file, project, options)).text;
}

/** `renderModelFile`, also saying whether prettier ran, came from the cache or was not needed. */
export async function renderModelFileDetailed(file: SourceFileInfo, project: ProjectInfo, options: RenderFileOptions): Promise<{ text: string; outcome: FormatOutcome; untrusted: string[] }> {
  const view = buildFileView(file, project, { sourceFile: options.sourceFile, outFile: options.outFile, printWidth: printWidthOf(options.prettierOptions), quote: quoteOf(options.prettierOptions) });
  const text = printModelFile(view);
  const cacheDir = options.cacheDir ?? resolveDefaultCacheDir(process.cwd());
  const formatted = await formatOutput(text, view.untrusted, { prettierOptions: options.prettierOptions, cacheDir, filepath: options.outFile });
  return { text: formatted.text, outcome: formatted.outcome, untrusted: view.untrusted };
}

/** Every model's canonical schema (dynamic defaults left out), in file and source order. */
export function buildCanonicalSchemas(project: ProjectInfo): CanonicalObjectSchema[] {
  return project.files.flatMap((file) => file.models.map((model) => buildCanonicalSchema(model, project)));
}

export { buildFileView } from "./build-file-view.js";
export { formatOutput, isTemplateCompatible } from "./format-output.js";
