/**
 * The queue's single-owner lock: a `lock` file created with O_EXCL holding the owner's pid,
 * hostname and process start time.
 *
 * Why this design: Node has no flock/fcntl locking and asymgen ships no native addon, so the
 * lock is a file whose *creation* is atomic (O_CREAT|O_EXCL). Its weakness, a lock left behind
 * by a crashed process (the queue is built to survive `kill -9`), is handled by checking the
 * owner: `process.kill(pid, 0)` says whether the pid lives, /proc says whether it is a zombie
 * and whether it is still the same process (its start time; pids are reused). A dead owner's
 * lock is moved aside with an atomic rename and re-created; re-reading the moved file tells a
 * racing opener that it moved a fresh lock, which it puts back with link() (which cannot
 * overwrite). A lock from another host cannot be checked, so it counts as held.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { randomUUID } from "node:crypto";
import { QueueLockedError } from "../errors.js";

/** The locks this process holds, so a second open in the same process fails just as clearly. */
const heldInThisProcess = new Set<string>();

interface LockOwner {
  pid: number;
  host: string;
  /** The owner's start time in clock ticks since boot (Linux), or null where unknown. */
  start: string | null;
  token: string;
}

/** Holds a queue directory's lock until `release`. */
export class QueueLock {
  private released = false;

  private constructor(
    private readonly file: string,
    private readonly token: string,
  ) {}

  /** Takes the lock of queue directory `dir` or throws `QueueLockedError`. */
  static acquire(dir: string): QueueLock {
    const file = path.join(fs.realpathSync(dir), "lock");
    if (heldInThisProcess.has(file)) throw new QueueLockedError(dir, process.pid);
    const me: LockOwner = { pid: process.pid, host: os.hostname(), start: readProcessStart(process.pid), token: randomUUID() };
    const text = JSON.stringify(me);
    for (let attempt = 0; attempt < 8; attempt++) {
      let fd: number;
      try {
        fd = fs.openSync(file, "wx", 0o644);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
        takeOverStaleLock(dir, file);
        continue;
      }
      try {
        fs.writeSync(fd, text);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      heldInThisProcess.add(file);
      return new QueueLock(file, me.token);
    }
    throw new QueueLockedError(dir, null);
  }

  /** Releases the lock (deletes the file if it is still ours). Idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    heldInThisProcess.delete(this.file);
    try {
      const owner = parseOwner(fs.readFileSync(this.file, "utf8"));
      if (owner?.token === this.token) fs.unlinkSync(this.file);
    } catch {
      // Already gone: nothing to release.
    }
  }
}

/** Moves a dead owner's lock aside so the caller can retry; throws when the owner lives. */
function takeOverStaleLock(dir: string, file: string): void {
  let text: string;
  let mtimeMs: number;
  try {
    text = fs.readFileSync(file, "utf8");
    mtimeMs = fs.statSync(file).mtimeMs;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  const owner = parseOwner(text);
  if (owner === null) {
    // An empty or half-written lock: its owner is between open and write, or died there.
    // Only a lock that stayed that way for a while is taken as stale.
    if (Date.now() - mtimeMs < 2000) throw new QueueLockedError(dir, null);
  } else if (isOwnerAlive(owner)) {
    throw new QueueLockedError(dir, owner.pid);
  }
  const aside = `${file}.stale-${process.pid}-${randomUUID()}`;
  try {
    fs.renameSync(file, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return; // someone else moved it
    throw error;
  }
  const moved = fs.readFileSync(aside, "utf8");
  if (moved !== text) {
    // Between our read and our rename another opener replaced the stale lock with its own
    // fresh one: give it back (link fails rather than overwrite a newer lock) and give up.
    try {
      fs.linkSync(aside, file);
    } catch {
      // A newer lock already stands; the owner we displaced will find its lock gone.
    }
    fs.unlinkSync(aside);
    throw new QueueLockedError(dir, parseOwner(moved)?.pid ?? null);
  }
  fs.unlinkSync(aside);
}

function parseOwner(text: string): LockOwner | null {
  try {
    const value = JSON.parse(text) as Partial<LockOwner>;
    if (typeof value.pid !== "number" || typeof value.host !== "string" || typeof value.token !== "string") return null;
    return { pid: value.pid, host: value.host, start: typeof value.start === "string" ? value.start : null, token: value.token };
  } catch {
    return null;
  }
}

function isOwnerAlive(owner: LockOwner): boolean {
  if (owner.host !== os.hostname()) return true;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    // EPERM: the pid exists but belongs to another user, so it is alive.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  const stat = readProcStat(owner.pid);
  if (stat === null) return true; // no /proc: the pid lives, that is all we know
  if (stat.state === "Z" || stat.state === "X") return false; // killed, not yet reaped
  return owner.start === null || owner.start === stat.start;
}

function readProcessStart(pid: number): string | null {
  return readProcStat(pid)?.start ?? null;
}

function readProcStat(pid: number): { state: string; start: string } | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // Fields after the command name (which may hold spaces and parentheses): state is field 3,
  // starttime field 22 (proc(5)).
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const state = rest[0];
  const start = rest[19];
  return state !== undefined && start !== undefined ? { state, start } : null;
}
