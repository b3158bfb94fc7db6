/**
 * Two inputs whose outputs land on one path (`a.ts` and `a.tsx` both give `a.realm.ts`; under
 * --out-dir, inputs outside the root meet once their `..` segments are flattened): writing both
 * would leave whichever came last, silently. Found before anything is written.
 */
import path from "node:path";
import { displayPath } from "../config/resolve-project-setup.js";
import { createDiagnostic } from "../diagnostics/create-diagnostic.js";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { SourceFileInfo } from "../model/model-info.js";

/** One model file and where its output goes. */
export interface PlannedOutput {
  info: SourceFileInfo;
  outFile: string;
}

/** One error per output path claimed by more than one model file, naming every source. */
export function findOutputCollisions(planned: readonly PlannedOutput[], cwd: string): Diagnostic[] {
  const byOutFile = new Map<string, PlannedOutput[]>();
  for (const entry of planned) {
    const claims = byOutFile.get(entry.outFile);
    if (claims === undefined) byOutFile.set(entry.outFile, [entry]);
    else claims.push(entry);
  }
  const diagnostics: Diagnostic[] = [];
  for (const [outFile, claims] of byOutFile) {
    if (claims.length < 2) continue;
    const sorted = [...claims].sort((a, b) => (a.info.file < b.info.file ? -1 : 1));
    const [first, ...others] = sorted as [PlannedOutput, ...PlannedOutput[]];
    const names = sorted.map((claim) => `"${displayPath(cwd, claim.info.file)}"`);
    const firstModel = first.info.models[0];
    diagnostics.push(
      createDiagnostic("outputCollision", {
        message: `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]} would both generate "${path.basename(outFile)}"${layoutNote(outFile, sorted)}.`,
        span: firstModel?.span,
        label: "its output",
        related: others.flatMap((other) => {
          const model = other.info.models[0];
          return model === undefined ? [] : [{ span: model.span, label: `"${displayPath(cwd, other.info.file)}" generates the same file` }];
        }),
        hint: layoutNote(outFile, sorted) === ""
          ? "Rename one of them: outputs drop the difference between .ts and .tsx."
          : "Rename one of them, or set rootDir to a folder that holds every input, so --out-dir keeps their paths apart.",
      }),
    );
  }
  return diagnostics;
}

/** Beside the inputs the output's folder is plain; elsewhere (--out-dir) the message says so. */
function layoutNote(outFile: string, claims: readonly PlannedOutput[]): string {
  return claims.every((claim) => path.dirname(claim.info.file) === path.dirname(outFile)) ? "" : " under --out-dir";
}
