/**
 * The few Origin Private File System and Web Locks interfaces the OPFS log store uses, declared
 * here instead of taken from TypeScript's libs: `FileSystemSyncAccessHandle` and
 * `createSyncAccessHandle` are only in the "WebWorker" lib, which cannot be combined with the
 * "DOM" lib the rest of runtime/ compiles against (runtime/tsconfig.json, tsconfig.core.json).
 * They are structural copies of the standard shapes (WHATWG File System, Web Locks), reduced to
 * what is called, and reached through `globalThis` so no DOM global is needed either.
 */
import { QueueUnsupportedError } from "../errors.js";

/** `FileSystemSyncAccessHandle`: synchronous positioned I/O on one OPFS file (dedicated workers only). */
export interface OpfsSyncAccessHandle {
  read(buffer: Uint8Array, options: { at: number }): number;
  write(buffer: Uint8Array, options: { at: number }): number;
  truncate(size: number): void;
  getSize(): number;
  flush(): void;
  close(): void;
}

/** `FileSystemFileHandle`. */
export interface OpfsFileHandle {
  readonly kind: "file";
  readonly name: string;
  createSyncAccessHandle(): Promise<OpfsSyncAccessHandle>;
}

/** `FileSystemDirectoryHandle`. */
export interface OpfsDirectoryHandle {
  readonly kind: "directory";
  readonly name: string;
  getDirectoryHandle(name: string, options?: { create?: boolean }): Promise<OpfsDirectoryHandle>;
  getFileHandle(name: string, options?: { create?: boolean }): Promise<OpfsFileHandle>;
  removeEntry(name: string, options?: { recursive?: boolean }): Promise<void>;
  entries(): AsyncIterable<[string, OpfsFileHandle | OpfsDirectoryHandle]>;
}

/** `Lock`, as a granted request sees it. */
export interface WebLock {
  readonly name: string;
}

/** `LockManager` (`navigator.locks`). */
export interface WebLockManager {
  request(name: string, options: { mode?: "exclusive" | "shared"; ifAvailable?: boolean; signal?: AbortSignal }, callback: (lock: WebLock | null) => unknown): Promise<unknown>;
}

interface OpfsNavigator {
  storage?: { getDirectory?: () => Promise<OpfsDirectoryHandle> };
  locks?: WebLockManager;
}

function hostNavigator(): OpfsNavigator | undefined {
  return (globalThis as unknown as { navigator?: OpfsNavigator }).navigator;
}

/** `navigator.locks`; `QueueUnsupportedError` where it is missing (an insecure context: not https, not localhost). */
export function getWebLockManager(): WebLockManager {
  const locks = hostNavigator()?.locks;
  if (locks === undefined || typeof locks.request !== "function") {
    throw new QueueUnsupportedError(
      "asymgen: navigator.locks is missing: the queue needs Web Locks, which browsers give only to secure contexts (https:, or http://localhost / 127.0.0.1)",
    );
  }
  return locks;
}

/** The origin's OPFS root directory; `QueueUnsupportedError` where OPFS is missing. */
export async function getOpfsRoot(): Promise<OpfsDirectoryHandle> {
  const storage = hostNavigator()?.storage;
  if (storage === undefined || typeof storage.getDirectory !== "function") {
    throw new QueueUnsupportedError(
      "asymgen: navigator.storage.getDirectory is missing: the OPFS queue needs the Origin Private File System (a secure context in a current browser)",
    );
  }
  return storage.getDirectory();
}

/** Whether sync access handles exist here: only in dedicated workers (the spec exposes them nowhere else). */
export function hasSyncAccessHandles(): boolean {
  const ctor = (globalThis as { FileSystemSyncAccessHandle?: unknown }).FileSystemSyncAccessHandle;
  return typeof ctor === "function";
}

/** The standard DOMException name a refused write carries when the origin's quota is used up. */
export function isQuotaExceeded(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { name?: unknown }).name === "QuotaExceededError";
}
