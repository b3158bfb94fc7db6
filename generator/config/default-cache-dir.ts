/**
 * Where the generator keeps its caches (the format cache, the up-to-date manifest) unless told.
 * A cache is read back as trusted output, so it must live where only this user can write: a
 * shared, predictable folder under /tmp would let another local user plant formatted "output".
 */
import { existsSync, lstatSync, mkdirSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * The project's `node_modules/.cache/asymgen` (the convention babel, eslint and others share);
 * in a folder without node_modules, the user's cache folder (`$XDG_CACHE_HOME` or `~/.cache`);
 * with no home either, a per-user folder under the OS temp folder, created with mode 0700 and
 * used only when it is a real folder owned by this user that nobody else can write, else a
 * private folder for this process alone.
 */
export function resolveDefaultCacheDir(cwd: string): string {
  if (existsSync(path.join(cwd, "node_modules"))) return path.join(cwd, "node_modules", ".cache", "asymgen");
  const xdg = process.env["XDG_CACHE_HOME"];
  if (xdg !== undefined && path.isAbsolute(xdg)) return path.join(xdg, "asymgen");
  const home = readHomeDir();
  if (home !== undefined) return path.join(home, ".cache", "asymgen");
  return resolvePrivateTempDir();
}

function readHomeDir(): string | undefined {
  try {
    const home = os.homedir();
    return home !== "" && path.isAbsolute(home) && existsSync(home) ? home : undefined;
  } catch {
    return undefined;
  }
}

/** `<tmp>/asymgen-cache-<uid>` when it is safely ours, else a fresh private folder. */
function resolvePrivateTempDir(): string {
  const uid = typeof process.getuid === "function" ? process.getuid() : undefined;
  if (uid !== undefined) {
    const dir = path.join(os.tmpdir(), `asymgen-cache-${uid}`);
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch {
      // Already there (ours from an earlier run, or planted): checked below either way.
    }
    if (isPrivateDir(dir, uid)) return dir;
  }
  return mkdtempSync(path.join(os.tmpdir(), "asymgen-cache-"));
}

/** A real folder (not a symlink) owned by `uid` that no group or other user can write or read. */
export function isPrivateDir(dir: string, uid: number): boolean {
  try {
    const stats = lstatSync(dir);
    return stats.isDirectory() && !stats.isSymbolicLink() && stats.uid === uid && (stats.mode & 0o077) === 0;
  } catch {
    return false;
  }
}
