/**
 * A cheap text test run before analysis: a file without a decorated class cannot declare a
 * model, so the type checker never has to look at it.
 */
import type { SourceFile } from "ts-morph";

/**
 * Whether the file may declare a model. Deliberately loose (any `@` and any `class`): the
 * decorator may be imported under another name, so only the analyser can say for sure.
 */
export function mayDeclareModels(file: SourceFile): boolean {
  const text = file.getFullText();
  return text.includes("@") && /\bclass\b/.test(text);
}
