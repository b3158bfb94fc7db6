/**
 * The queue's storage, as the platform-neutral queue sees it: a store of named files (segments,
 * `queue.json`, the `ack` cursor), each opened as a handle with synchronous positioned reads and
 * writes, locked to one owner while open. Per-file operations are synchronous because the
 * queue's commit is: `realm.write` returns once its transaction is on disk.
 *
 * How each method maps to the two hosts:
 * - Node (runtime/node/node-log-store.ts): a directory, `fs.*Sync` calls on descriptors, an
 *   O_EXCL lock file, `fdatasync` on libuv's thread pool for background syncs.
 * - Browsers (the OPFS adapter of the browser issue, not built yet): a directory handle used from
 *   a dedicated worker, one `FileSystemSyncAccessHandle` per file. There, opening a handle,
 *   listing and removing entries are asynchronous: the adapter does them when the store opens
 *   (every file's handle opened, the listing kept in memory) or after the fact (removal), and
 *   keeps a spare file created ahead so that `create` (a segment rollover, inside a synchronous
 *   commit) can be satisfied at once. OPFS has a single `flush()`: `syncData`, `syncAll` and
 *   `syncInBackground` all map to it.
 *
 * A write the storage refuses for lack of room throws an error whose `code` is "ENOSPC", "EFBIG"
 * or "EDQUOT" (Node's errors carry it; an OPFS adapter maps `QuotaExceededError` to "ENOSPC"):
 * the queue turns it into `QueueDiskFullError` (see `diskFullCodeOf`).
 */

/** An open file of the log. */
export interface LogFile {
  /** Bytes in the file. Node: fstat; OPFS: `getSize()`. */
  size(): number;
  /** Reads up to `length` bytes at `position` into `into[offset…]`; returns the count read (0 at the end). OPFS: `read(view, { at })`. */
  read(into: Uint8Array, offset: number, length: number, position: number): number;
  /**
   * Writes `data[offset, offset + length)` and then all of `rest` (when not null) at `position`,
   * wholly or throwing. The two pieces let the queue send a frame and the zeros preallocated
   * after it, or a frame head built apart and the documents, without joining them in a new
   * buffer. Node: one pwrite or pwritev (continued after a short write); OPFS: two `write`s.
   */
  write(data: Uint8Array, offset: number, length: number, rest: Uint8Array | null, position: number): void;
  /** Cuts (or extends with zeros) the file to `size` bytes. OPFS: `truncate(size)`. */
  truncate(size: number): void;
  /** Makes written data durable before returning (Node: fdatasync). OPFS: `flush()`. */
  syncData(): void;
  /** Like `syncData`, and a changed size too, such as after a cut (Node: fsync). OPFS: `flush()`. */
  syncAll(): void;
  /**
   * `syncData` without blocking the caller: settles once the data written before the call is
   * durable, rejecting with the disk's error (never throwing at the call). Node: fdatasync on the
   * thread pool; OPFS: `flush()` in the worker, then a settled promise.
   */
  syncInBackground(): Promise<void>;
  /** Closes the handle. Background syncs still running finish first (Node keeps the descriptor until then: a reused number would be synced instead). */
  close(): void;
}

/** A store of log files, locked to one owner from the moment it opens until `close`. */
export interface LogStore {
  /** Where it is, for messages (Node: the directory's absolute path). */
  readonly location: string;
  /** Where file `name` is, for messages and reports (Node: its absolute path). */
  pathOf(name: string): string;
  /** The names of the files in the store. OPFS: the listing taken when the store opened, kept up to date. */
  list(): string[];
  /**
   * Opens an existing file for reading and writing; throws when it does not exist. A name may be
   * open through several handles at once (the appender's and a reader's), each closed on its own.
   * OPFS: the access handle opened with the store, behind a reference-counted `LogFile`.
   */
  open(name: string): LogFile;
  /**
   * Creates file `name` holding exactly `content`, atomically and durably (a crash leaves either
   * no file or the whole content, and the new name survives it), and opens it. Node: temporary
   * file, fsync, rename, directory fsync. OPFS: the spare file prepared in advance, written,
   * flushed and recorded under its name; a new spare is then prepared in the background.
   */
  create(name: string, content: Uint8Array): LogFile;
  /**
   * Removes files that are closed (missing ones are skipped). Need not be durable at once: a file
   * that comes back after a crash must be harmless (the queue deletes an acknowledged segment
   * again at open). Node: unlink, then one directory fsync; OPFS: `removeEntry` in the background.
   */
  remove(names: readonly string[]): void;
  /** The whole content of a small file (`queue.json`, `ack`), or null when there is none. */
  readFile(name: string): Uint8Array | null;
  /**
   * Replaces small file `name` with `content` atomically and durably: after a crash it holds the
   * old or the new content, never a mix. Node: temporary file, fsync, rename, directory fsync;
   * OPFS: two slots written alternately, the newest valid one read back.
   */
  writeFileAtomically(name: string, content: Uint8Array): void;
  /** Releases the lock; the store's files must be closed first. Idempotent. */
  close(): void;
}

/** Error codes with which storage refuses a write for lack of room (see the module comment). */
const DISK_FULL_CODES: ReadonlySet<string> = new Set(["ENOSPC", "EFBIG", "EDQUOT"]);

/** The disk-full code an error from a `LogFile` or `LogStore` carries, or null when it is another failure. */
export function diskFullCodeOf(error: unknown): string | null {
  const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === "string" && DISK_FULL_CODES.has(code) ? code : null;
}
