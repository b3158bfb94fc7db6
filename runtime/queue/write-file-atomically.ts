/**
 * Replaces a small file so that after a crash it holds either the old or the new content:
 * write a temporary file, fsync it, rename it over the target, fsync the directory (the rename
 * itself is only durable once the directory is).
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** Atomically and durably replaces `file` with `data`. */
export function writeFileAtomically(file: string, data: Uint8Array | string): void {
  const temp = `${file}.tmp`;
  const fd = fs.openSync(temp, "w", 0o644);
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temp, file);
  syncDirectory(path.dirname(file));
}

/** Makes the directory's entries (created, renamed, deleted files) durable. */
export function syncDirectory(dir: string): void {
  // Windows cannot open or fsync a directory; NTFS makes renames durable through its journal.
  if (process.platform === "win32") return;
  const fd = fs.openSync(dir, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
