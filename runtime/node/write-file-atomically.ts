/**
 * The one way asymgen replaces a file on Node (the queue's cursor, meta and segment headers, the
 * app's users.json, the server's key files, the generator's outputs and manifests, the last two
 * with `durable: false`), so that after a crash it holds either the old or the new content: write
 * a temporary file, fsync it, rename it over the target, fsync the directory (the rename itself
 * is only durable once the directory is). A crash between the first two steps leaves the
 * temporary file behind; `removeStaleTempFiles` clears those (the Node log store sweeps the
 * queue's folder when it opens).
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/** How `writeFileAtomically` creates the file. */
export interface AtomicWriteOptions {
  /**
   * The file's exact permission bits, set with fchmod so neither the umask nor a directory's
   * default ACL can widen them (0o600 for a file holding secrets). Default: 0o666 less the umask,
   * as for any new file (`fs.writeFileSync`).
   */
  mode?: number;
  /**
   * False skips the fsyncs (of the copy and of the directory): still atomic for readers (old or
   * new file, never half of one), but a power loss may lose the write. For rebuildable files (the
   * generator's outputs and caches), where an fsync per file would dominate a run. Default: true.
   */
  durable?: boolean;
}

/** Atomically and durably replaces `file` with `data`; on failure the temporary file is removed. */
export function writeFileAtomically(file: string, data: Uint8Array | string, options: AtomicWriteOptions = {}): void {
  const temp = writeTempCopy(file, data, options);
  let renamed = false;
  try {
    fs.renameSync(temp, file);
    renamed = true;
  } finally {
    if (!renamed) fs.rmSync(temp, { force: true });
  }
  if (options.durable !== false) syncDirectory(path.dirname(file));
}

/**
 * Creates `file` with `data` only if no file has that name, atomically: a reader never sees it
 * empty or half written (a hard link of a complete, fsynced copy), and of several processes
 * creating it at once exactly one wins. Returns false, writing nothing, when `file` exists.
 */
export function createFileAtomically(file: string, data: Uint8Array | string, options: AtomicWriteOptions = {}): boolean {
  const temp = writeTempCopy(file, data, options);
  try {
    fs.linkSync(temp, file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return false;
    // Some file systems (SMB/CIFS, some FUSE mounts) have no hard links: create the file
    // exclusively instead, which a reader racing the write may see short.
    if (code === "EPERM" || code === "ENOTSUP" || code === "EOPNOTSUPP" || code === "ENOSYS") return createFileExclusively(file, data, options);
    throw error;
  } finally {
    fs.rmSync(temp, { force: true });
  }
  syncDirectory(path.dirname(file));
  return true;
}

/** `createFileAtomically` where hard links are missing: exclusive create, write, fsync. */
function createFileExclusively(file: string, data: Uint8Array | string, options: AtomicWriteOptions): boolean {
  try {
    writeNewFile(file, data, options);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
  syncDirectory(path.dirname(file));
  return true;
}

/** Creates `file` ("wx": never an existing one, whose mode and owner would survive), writes `data` with its exact mode, fsyncs. */
function writeNewFile(file: string, data: Uint8Array | string, options: AtomicWriteOptions): void {
  const fd = fs.openSync(file, "wx", options.mode ?? 0o666);
  try {
    if (options.mode !== undefined) fs.fchmodSync(fd, options.mode);
    fs.writeFileSync(fd, data);
    if (options.durable !== false) fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Writes `data` to a new temporary file beside `file` and fsyncs it; returns its name (removed on failure). */
function writeTempCopy(file: string, data: Uint8Array | string, options: AtomicWriteOptions): string {
  // A name no other writer (another process, a stale copy from a crash) can hold. The ".tmp"
  // suffix is what queue recovery sweeps.
  const temp = `${file}.${process.pid}.${crypto.randomBytes(6).toString("hex")}.tmp`;
  try {
    writeNewFile(temp, data, options);
  } catch (error) {
    // Not one left by another writer: "wx" failed before creating anything if the name was taken.
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") fs.rmSync(temp, { force: true });
    throw error;
  }
  return temp;
}

/** A temporary copy older than this is stale whatever its pid says: no write takes a minute, and pids are reused. */
const STALE_TEMP_AGE_MS = 60_000;
/**
 * A copy whose pid is not running here is stale once this old: not at once, since the pid may be
 * another machine's or another container's (a shared volume), whose write is still under way.
 */
const DEAD_WRITER_GRACE_MS = 5_000;

/**
 * Removes the temporary copies of `file` that crashed writes left beside it (`<name>.<pid>.<hex>.tmp`,
 * and `<name>.<pid>.tmp` from older versions): those older than a minute, and those older than a few
 * seconds whose process is not running here. A fresh copy is kept: another process of the app (here,
 * or in another container on the same volume) may be mid-write, and deleting it would fail its
 * rename. Best effort: never throws.
 */
export function removeStaleTempFiles(file: string): void {
  const dir = path.dirname(file);
  const prefix = `${path.basename(file)}.`;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return; // No folder yet: nothing to sweep.
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const match = /^(\d{1,10})(?:\.[0-9a-f]+)?\.tmp$/.exec(name.slice(prefix.length));
    if (match === null) continue;
    const temp = path.join(dir, name);
    try {
      // lstat: a symlink planted under this name is judged (and removed) itself, never its target.
      const stat = fs.lstatSync(temp);
      if (!stat.isFile() && !stat.isSymbolicLink()) continue;
      const age = Date.now() - stat.mtimeMs;
      if (age < DEAD_WRITER_GRACE_MS || (age < STALE_TEMP_AGE_MS && isProcessAlive(Number(match[1])))) continue;
      fs.unlinkSync(temp);
    } catch {
      // Gone already (another process swept it, or its writer renamed it): nothing to do.
    }
  }
}

/** Whether a process with this pid runs on this machine (this process included). */
function isProcessAlive(pid: number): boolean {
  // 0 and negative pids address process groups in kill(2); no process holds them.
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid > 0x7fffffff) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the pid exists but belongs to another user, so it is alive.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
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
