/**
 * The one way the client runtime replaces a file (the queue's cursor, meta and segment headers;
 * the app's users.json), so that after a crash it holds either the old or the new content: write
 * a temporary file, fsync it, rename it over the target, fsync the directory (the rename itself
 * is only durable once the directory is).
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/** How `writeFileAtomically` creates the file. */
export interface AtomicWriteOptions {
  /**
   * The file's exact permission bits, set with fchmod so neither the umask nor a directory's
   * default ACL can widen them (0o600 for a file holding secrets). Default: 0o644 less the umask.
   */
  mode?: number;
}

/** Atomically and durably replaces `file` with `data`; on failure the temporary file is removed. */
export function writeFileAtomically(file: string, data: Uint8Array | string, options: AtomicWriteOptions = {}): void {
  // A name no other writer (another process, a stale copy from a crash) can hold: "wx" below
  // then never opens an existing file, whose mode and owner would survive the write. The ".tmp"
  // suffix is what queue recovery sweeps.
  const temp = `${file}.${process.pid}.${crypto.randomBytes(6).toString("hex")}.tmp`;
  const fd = fs.openSync(temp, "wx", options.mode ?? 0o644);
  let renamed = false;
  try {
    try {
      if (options.mode !== undefined) fs.fchmodSync(fd, options.mode);
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, file);
    renamed = true;
  } finally {
    if (!renamed) fs.rmSync(temp, { force: true });
  }
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
