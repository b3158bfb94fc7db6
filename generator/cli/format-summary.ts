/**
 * The one-line summary a generate run ends with
 * (`Generated 3 files (97 unchanged) from 100 files, 1000 models in 1.9 s`, or, when the
 * up-to-date manifest answered, `Up to date: 4 files from 3 model files (manifest, 40 ms)`).
 */
import type { GenerateResult } from "../config/generate-options.js";

/** Formats the closing line of a run (the check variant lists nothing: stale files print above). */
export function formatSummary(result: GenerateResult, check: boolean): string {
  const from = `from ${plural(result.files, "file")}, ${plural(result.models, "model")} in ${formatDuration(result.timings.total)}`;
  if (!result.ok && result.diagnostics.some((diagnostic) => diagnostic.severity === "error")) {
    const errors = result.diagnostics.filter((diagnostic) => diagnostic.severity === "error").length;
    return `Wrote nothing (${plural(errors, "error")}) ${from}`;
  }
  if (result.upToDate) {
    // Answered from the up-to-date manifest: say so, since nothing was analysed.
    const how = `manifest, ${formatDuration(result.timings.total)}`;
    if (check) return `Checked ${plural(result.unchanged.length, "file")}: all up to date (${how}).`;
    const modelFiles = new Set(result.outputs.flatMap((output) => (output.source === undefined ? [] : [output.source]))).size;
    return `Up to date: ${plural(result.unchanged.length, "file")} from ${plural(modelFiles, "model file")} (${how})`;
  }
  if (check) {
    return result.stale.length === 0
      ? `Checked ${plural(result.unchanged.length, "file")}: all up to date (${from}).`
      : `${plural(result.stale.length, "file")} out of date (${from}). Run asymgen generate to update.`;
  }
  const removed = result.removed.length > 0 ? `, removed ${result.removed.length}` : "";
  return `Generated ${plural(result.written.length, "file")} (${result.unchanged.length} unchanged${removed}) ${from}`;
}

/** `850 ms` below a second, `1.9 s` above. */
export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
