/**
 * The queue's storage, as the platform-neutral queue sees it: a directory of named files, each
 * opened as a handle with synchronous positioned reads and writes. Synchronous because the
 * queue's commit is (Node's fs calls; in browsers `FileSystemSyncAccessHandle` in a worker).
 * DRAFT (package-split issue): the queue helper owns and refines this interface.
 */

/** An open file of the log. */
export interface LogFile {
  /** Bytes in the file. */
  size(): number;
  /** Reads up to `length` bytes at `position` into `into[offset…]`; returns the count read. */
  read(into: Uint8Array, offset: number, length: number, position: number): number;
  /** Writes `from[offset…offset+length)` at `position`. */
  write(from: Uint8Array, offset: number, length: number, position: number): void;
  /** Cuts (or extends with zeros) the file to `size` bytes. */
  truncate(size: number): void;
  /** Makes written data durable before returning. */
  sync(): void;
  close(): void;
}

/** A directory of log files, locked to one owner while open. */
export interface LogStore {
  /** Where it is, for messages (a directory path on Node). */
  readonly location: string;
  /** File names in the store. */
  list(): string[];
  open(name: string, options: { create: boolean }): LogFile;
  remove(name: string): void;
  close(): void;
}
