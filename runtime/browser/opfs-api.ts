/**
 * The few Origin Private File System interfaces the OPFS log store uses (Web Locks: web-apis.ts), declared
 * here instead of taken from TypeScript's libs: `FileSystemSyncAccessHandle` and
 * `createSyncAccessHandle` are only in the "WebWorker" lib, which cannot be combined with the
 * "DOM" lib the rest of runtime/ compiles against (runtime/tsconfig.json, tsconfig.core.json).
 * They are structural copies of the standard shapes (WHATWG File System), reduced to
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

interface OpfsNavigator {
  storage?: { getDirectory?: () => Promise<OpfsDirectoryHandle> };
}

function hostNavigator(): OpfsNavigator | undefined {
  return (globalThis as unknown as { navigator?: OpfsNavigator }).navigator;
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

/**
 * Whether this context can open OPFS sync access handles (`createSyncAccessHandle`: Chromium 102+,
 * Firefox 111+, Safari 15.2+), only ever in dedicated workers (the spec exposes them nowhere
 * else), and reach the OPFS root.
 */
export function hasSyncAccessHandles(): boolean {
  const handle = (globalThis as { FileSystemFileHandle?: { prototype?: { createSyncAccessHandle?: unknown } } }).FileSystemFileHandle;
  return typeof handle?.prototype?.createSyncAccessHandle === "function" && typeof hostNavigator()?.storage?.getDirectory === "function";
}

/** The standard DOMException name a refused write carries when the origin's quota is used up. */
export function isQuotaExceeded(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { name?: unknown }).name === "QuotaExceededError";
}
