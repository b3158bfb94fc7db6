/**
 * The one-line summary a generate run ends with
 * (`Generated 3 files (97 unchanged) from 100 files, 1000 models in 1.9 s`).
 */
import type { GenerateResult } from "../config/generate-options.js";

/** Formats the closing line of a run (the check variant lists nothing: stale files print above). */
export function formatSummary(result: GenerateResult, check: boolean): string {
  const from = `from ${plural(result.files, "file")}, ${plural(result.models, "model")} in ${formatDuration(result.timings.total)}`;
  if (!result.ok && result.diagnostics.some((diagnostic) => diagnostic.severity === "error")) {
    const errors = result.diagnostics.filter((diagnostic) => diagnostic.severity === "error").length;
    return `Wrote nothing (${plural(errors, "error")}) ${from}`;
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
