/**
 * The few web platform APIs the browser Realm and its queue worker use, typed here by their
 * shape: the runtime compiles both against Node's types (no DOM, no WebWorker lib) and against
 * the DOM lib (runtime/tsconfig.core.json), and neither names all of them (Node's types have no
 * `navigator.locks`, the DOM lib has no worker scope). Each accessor reads `globalThis` at call
 * time, so a missing API is seen where it is used and named in the error.
 */

/** The lock a granted `navigator.locks.request` callback receives (null with `ifAvailable` when it was not available). */
export interface WebLock {
  readonly name: string;
}

/** Options of `navigator.locks.request`. */
export interface WebLockOptions {
  mode?: "exclusive" | "shared";
  ifAvailable?: boolean;
  signal?: AbortSignal;
}

/** `navigator.locks`. */
export interface WebLockManager {
  request<T>(name: string, options: WebLockOptions, callback: (lock: WebLock | null) => T | Promise<T>): Promise<T>;
}

/** A `BroadcastChannel`. */
export interface WebBroadcastChannel {
  postMessage(message: unknown): void;
  close(): void;
  onmessage: ((event: { data: unknown }) => void) | null;
}

/** A dedicated `Worker` as the page sees it. */
export interface WebWorker {
  postMessage(message: unknown, transfer?: ArrayBuffer[]): void;
  terminate(): void;
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: { message?: string }) => void) | null;
}

/** What a dedicated worker's global scope offers the queue worker. */
export interface WorkerScope {
  postMessage(message: unknown, transfer?: ArrayBuffer[]): void;
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
  addEventListener(type: "online" | "offline", listener: () => void): void;
  close(): void;
}

interface WebGlobals {
  isSecureContext?: boolean;
  navigator?: {
    locks?: WebLockManager;
    storage?: { persist?: () => Promise<boolean> };
  };
  BroadcastChannel?: new (name: string) => WebBroadcastChannel;
  localStorage?: KeyValueStorage;
}

/** The part of `localStorage` (Web Storage) the user store uses. */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

function webGlobals(): WebGlobals {
  return globalThis as unknown as WebGlobals;
}

/** `navigator.locks`, or null where it is missing (an insecure context, Node). */
export function getLockManager(): WebLockManager | null {
  return webGlobals().navigator?.locks ?? null;
}

/** Whether the page is a secure context (https, or http on localhost/127.0.0.1). */
export function isSecureContext(): boolean {
  return webGlobals().isSecureContext === true;
}

/** `navigator.storage.persist`, or null where it is missing (workers, old browsers). */
export function getPersistStorage(): (() => Promise<boolean>) | null {
  const storage = webGlobals().navigator?.storage;
  return typeof storage?.persist === "function" ? () => storage.persist!() : null;
}

/** Opens `BroadcastChannel` `name`, or returns null where the API is missing. */
export function openBroadcastChannel(name: string): WebBroadcastChannel | null {
  const Channel = webGlobals().BroadcastChannel;
  return Channel === undefined ? null : new Channel(name);
}

/** `localStorage`, or null where it is missing or refused (workers, a sandboxed frame, storage blocked). */
export function getLocalStorage(): KeyValueStorage | null {
  try {
    // Reading the property itself throws a SecurityError where storage is blocked.
    return webGlobals().localStorage ?? null;
  } catch {
    return null;
  }
}

/** The dedicated worker's global scope (`self` in a worker). */
export function getWorkerScope(): WorkerScope {
  return globalThis as unknown as WorkerScope;
}

/**
 * Calls `listener` on the page's "online" event (the network is back); returns what removes it,
 * or null where the global has no events. Chromium fires "online" on windows but never in a
 * dedicated worker (its navigator.onLine changes there without an event), so the page forwards it.
 */
export function onPageOnline(listener: () => void): (() => void) | null {
  const target = globalThis as unknown as {
    addEventListener?: (type: "online", listener: () => void) => void;
    removeEventListener?: (type: "online", listener: () => void) => void;
  };
  if (typeof target.addEventListener !== "function") return null;
  target.addEventListener("online", listener);
  return () => target.removeEventListener?.("online", listener);
}
