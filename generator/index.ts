/**
 * "asymgen/generator": the programmatic API. `generate()` runs the whole pipeline once (discover,
 * analyse, validate, render, write); `openGenerator()` keeps a session open for watch mode.
 */
import type { GenerateOptions, GenerateResult } from "./config/generate-options.js";
import { openGenerator } from "./pipeline/open-generator.js";

export type { GenerateOptions, GenerateProgress, GenerateResult, GenerateTimings, OutputReport } from "./config/generate-options.js";
export type { Diagnostic, RelatedSpan, Severity } from "./diagnostics/diagnostic.js";
export type { GeneratorSession } from "./pipeline/open-generator.js";
export { openGenerator } from "./pipeline/open-generator.js";
export { watchGenerator, type WatchHandle, type WatchOptions } from "./watch/watch-generator.js";

/** Generates `X.realm.ts` for every input with models (or, with `check`, lists stale outputs). */
export async function generate(options: GenerateOptions = {}): Promise<GenerateResult> {
  const session = openGenerator(options);
  try {
    return await session.run();
  } finally {
    session.close();
  }
}
