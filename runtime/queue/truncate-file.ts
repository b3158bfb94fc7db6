/**
 * Cuts a file to `size` bytes and makes the cut durable before returning: recovery and repair
 * both shorten segments they do not hold open, and a cut that a crash could undo would bring
 * the damaged bytes back.
 */
import * as fs from "node:fs";

/** Truncates `file` to `size` bytes and fsyncs it. */
export function truncateFileDurably(file: string, size: number): void {
  const fd = fs.openSync(file, "r+");
  try {
    fs.ftruncateSync(fd, size);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
