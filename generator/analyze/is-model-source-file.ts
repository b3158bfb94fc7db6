/**
 * A cheap pre-filter for discovery and watch mode: does a file declare any model class?
 */
import type { SourceFile } from "ts-morph";
import { ts } from "../ts-morph.cjs";
import { createAnalyzerState } from "./analyze-context.js";
import { readClassHeader } from "./read-decorators.js";

/**
 * True when a top-level class in `file` has a decorator resolving to asymgen's `RealmModel`.
 * Files without a decorated class are answered from the syntax alone, without the checker.
 */
export function isModelSourceFile(file: SourceFile): boolean {
  const node = file.compilerNode;
  const candidates = node.statements.filter((s): s is ts.ClassDeclaration => ts.isClassDeclaration(s) && ts.getDecorators(s) !== undefined);
  if (candidates.length === 0) return false;
  const state = createAnalyzerState(file.getProject());
  const programFile = state.program.getSourceFile(file.getFilePath());
  const classes = programFile === undefined ? candidates : programFile.statements.filter((s): s is ts.ClassDeclaration => ts.isClassDeclaration(s) && ts.getDecorators(s) !== undefined);
  return classes.some((c) => readClassHeader(state, c, false) !== undefined);
}
