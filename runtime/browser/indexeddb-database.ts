/**
 * The IndexedDB side of the IndexedDB log store: one database per origin ("asymgen-queues"), one
 * object store of records keyed `[queue path, file name, index]`: index ≥ 0 a block of the file
 * (a Uint8Array, indexeddb-block-file.ts), index −1 the file's size (a number). Every transaction
 * spans that one object store, so IndexedDB runs the read-write ones strictly in the order they
 * were created (the spec's rule for overlapping scopes, across connections too).
 */
import { BLOCK_BYTES, BlockFile } from "./indexeddb-block-file.js";

/** The database every queue of an origin lives in. */
export const QUEUE_DATABASE_NAME = "asymgen-queues";
/**
 * The object store's name carries the block size: blocks are read back by their index, so a
 * release with another size must use (and migrate to) another store, never misread this one.
 */
const OBJECT_STORE = `files-${BLOCK_BYTES}`;
/** The record index of a file's size, before its blocks (0, 1, …) in key order. */
const SIZE_RECORD = -1;

/** A record's key: the queue's path, the file's name, the block index (−1: the size). */
type RecordKey = [string, string, number];

/** Opens (creating it on first use) the queues' database. */
export function openQueueDatabase(name: string): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    let request: IDBOpenDBRequest;
    try {
      request = indexedDB.open(name, 1);
    } catch (error) {
      reject(storageError(error, `cannot open IndexedDB database "${name}"`));
      return;
    }
    request.onupgradeneeded = () => {
      request.result.createObjectStore(OBJECT_STORE);
    };
    request.onsuccess = () => {
      const db = request.result;
      // A newer version elsewhere (a later asymgen) must not wait on this connection forever.
      db.onversionchange = () => db.close();
      resolve(db);
    };
    // No `blocked` handler: it fires only while an upgrade waits for older connections to close
    // (they close on `versionchange`, above), and then `success` follows.
    request.onerror = () => reject(storageError(request.error, `cannot open IndexedDB database "${name}"`));
  });
}

/** Reads every file of queue `path` whole, in one read-only transaction; `label` (the store's location) names files in errors. */
export function loadQueueFiles(db: IDBDatabase, path: string, label: string): Promise<Map<string, BlockFile>> {
  return new Promise((resolve, reject) => {
    let keys: IDBValidKey[] = [];
    let values: unknown[] = [];
    try {
      const transaction = db.transaction(OBJECT_STORE, "readonly");
      const store = transaction.objectStore(OBJECT_STORE);
      const range = queueRange(path);
      const keysRequest = store.getAllKeys(range);
      const valuesRequest = store.getAll(range);
      keysRequest.onsuccess = () => (keys = keysRequest.result);
      valuesRequest.onsuccess = () => (values = valuesRequest.result);
      transaction.oncomplete = () => {
        try {
          resolve(assembleFiles(path, label, keys, values));
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      };
      transaction.onabort = () => reject(storageError(transaction.error, `cannot read queue "${path}" from IndexedDB`));
    } catch (error) {
      reject(storageError(error, `cannot read queue "${path}" from IndexedDB`));
    }
  });
}

/** What one commit writes for one queue. */
export interface CommitPlan {
  /** Files whose every record goes first (removed, or replaced whole). */
  readonly removals: readonly string[];
  /** Then these files' dirty blocks (a null block deletes its record) and sizes. */
  readonly files: readonly { name: string; size: number; blocks: readonly { index: number; bytes: Uint8Array | null }[] }[];
}

/**
 * Runs `plan` as one read-write transaction with `durability: "strict"` (the data is flushed to
 * disk before `complete`) and commits it at once; resolves on `complete`, rejects when it aborts
 * (`storageError`: a `QuotaExceededError` becomes code "ENOSPC").
 */
export function runCommit(db: IDBDatabase, path: string, plan: CommitPlan): Promise<void> {
  return new Promise((resolve, reject) => {
    let transaction: IDBTransaction;
    try {
      transaction = db.transaction(OBJECT_STORE, "readwrite", { durability: "strict" });
    } catch (error) {
      reject(storageError(error, `cannot commit queue "${path}" to IndexedDB`));
      return;
    }
    transaction.oncomplete = () => resolve();
    transaction.onabort = () => reject(storageError(transaction.error, `IndexedDB refused the commit of queue "${path}"`));
    try {
      const store = transaction.objectStore(OBJECT_STORE);
      // In request order: the removals first, so a file replaced in this commit keeps only its new records.
      for (const name of plan.removals) store.delete(fileRange(path, name));
      for (const file of plan.files) {
        store.put(file.size, key(path, file.name, SIZE_RECORD));
        for (const block of file.blocks) {
          if (block.bytes === null) store.delete(key(path, file.name, block.index));
          else store.put(block.bytes, key(path, file.name, block.index));
        }
      }
      // Sent now rather than when the event loop next turns: the commit starts while this worker
      // goes on, and a worker torn down right after has it already in the browser's hands.
      // (Browsers without `commit()`, older than this fallback's users may run, auto-commit.)
      if (typeof transaction.commit === "function") transaction.commit();
    } catch (error) {
      try {
        transaction.abort();
      } catch {
        // Already finished: its abort event carries the reason.
      }
      reject(storageError(error, `cannot commit queue "${path}" to IndexedDB`));
    }
  });
}

/**
 * A storage failure as the queue reads it: `QuotaExceededError` (the origin's quota is reached)
 * gets code "ENOSPC", which the queue turns into `QueueDiskFullError` (log-store.ts).
 */
export function storageError(cause: unknown, what: string): Error {
  const name = typeof cause === "object" && cause !== null ? (cause as { name?: unknown }).name : undefined;
  const message = cause instanceof Error || (typeof cause === "object" && cause !== null && "message" in cause) ? String((cause as { message: unknown }).message) : String(cause);
  const error = new Error(`${what}: ${String(name ?? "Error")}: ${message}`, { cause });
  if (name === "QuotaExceededError") Object.assign(error, { code: "ENOSPC" });
  return error;
}

function key(path: string, name: string, index: number): RecordKey {
  return [path, name, index];
}

/** Every record of queue `path`: `[path]` sorts before `[path, …]`, and an array after any string name. */
function queueRange(path: string): IDBKeyRange {
  return IDBKeyRange.bound([path], [path, []]);
}

/** Every record of file `name` of queue `path` (its size at −1, its blocks after). */
function fileRange(path: string, name: string): IDBKeyRange {
  return IDBKeyRange.bound([path, name], [path, name, []]);
}

/** The files of queue `path` from its records (keys in key order, values alongside). */
function assembleFiles(path: string, label: string, keys: readonly IDBValidKey[], values: readonly unknown[]): Map<string, BlockFile> {
  const sizes = new Map<string, number>();
  const blocks = new Map<string, Map<number, Uint8Array>>();
  for (let i = 0; i < keys.length; i++) {
    const recordKey = keys[i];
    const value = values[i];
    if (!Array.isArray(recordKey) || recordKey.length !== 3 || recordKey[0] !== path) continue;
    const [, name, index] = recordKey as RecordKey;
    if (index === SIZE_RECORD) {
      if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) throw new Error(`queue "${path}": file "${name}" has a bad size record in IndexedDB`);
      sizes.set(name, value);
    } else if (value instanceof Uint8Array) {
      let fileBlocks = blocks.get(name);
      if (fileBlocks === undefined) blocks.set(name, (fileBlocks = new Map()));
      fileBlocks.set(index, value);
    } else {
      throw new Error(`queue "${path}": block ${index} of file "${name}" in IndexedDB is not bytes`);
    }
  }
  const files = new Map<string, BlockFile>();
  // A file is its size record: blocks without one are never written (a file's records are put in one transaction).
  for (const [name, size] of sizes) files.set(name, BlockFile.fromStored(name, `${label}/${name}`, size, blocks.get(name) ?? new Map()));
  return files;
}
