/**
 * "@asymgen/generator": the programmatic API. `generate()` runs the whole pipeline once (discover,
 * analyse, validate, render, write); `openGenerator()` keeps a session open for watch mode.
 */
import type { GenerateOptions, GenerateResult } from "./config/generate-options.js";
import { checkUpToDate } from "./pipeline/check-up-to-date.js";
import { openGenerator } from "./pipeline/open-generator.js";

export type { GenerateOptions, GenerateProgress, GenerateResult, GenerateTimings, OutputReport } from "./config/generate-options.js";
export type { Diagnostic, RelatedSpan, Severity } from "./diagnostics/diagnostic.js";
export type { GeneratorSession } from "./pipeline/open-generator.js";
export { openGenerator } from "./pipeline/open-generator.js";
export { watchGenerator, type WatchHandle, type WatchOptions } from "./watch/watch-generator.js";

/**
 * Generates `X.realm.ts` for every input with models (or, with `check`, lists stale outputs).
 * When the manifest of the last successful run proves that nothing changed, answers from it
 * without building the program (`upToDate: true`; see pipeline/up-to-date-manifest.ts).
 */
export async function generate(options: GenerateOptions = {}): Promise<GenerateResult> {
  if (options.force !== true) {
    const upToDate = await checkUpToDate(options);
    if (upToDate !== undefined) return upToDate;
  }
  const session = openGenerator(options);
  try {
    return await session.run();
  } finally {
    session.close();
  }
}
