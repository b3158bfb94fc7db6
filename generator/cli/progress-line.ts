/**
 * A progress line on stderr for long runs: only on a terminal (a log file or CI output would fill
 * with carriage returns) and only after a second (short runs should not flicker).
 */
import type { GenerateProgress } from "../config/generate-options.js";

/** A progress reporter; `stop()` clears the line before the summary prints. */
export interface ProgressLine {
  update(progress: GenerateProgress): void;
  stop(): void;
}

/** Creates the reporter for `stream` (disabled when it is not a TTY). */
export function createProgressLine(stream: NodeJS.WriteStream, delayMs = 1000): ProgressLine {
  if (!stream.isTTY) return { update: () => undefined, stop: () => undefined };
  const started = Date.now();
  let shown = false;
  return {
    update(progress) {
      if (Date.now() - started < delayMs) return;
      shown = true;
      const count = progress.total > 1 ? ` ${progress.done}/${progress.total}` : "";
      stream.write(`\r\x1b[K${progress.phase}${count}…`);
    },
    stop() {
      if (shown) stream.write("\r\x1b[K");
      shown = false;
    },
  };
}
