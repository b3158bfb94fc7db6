/**
 * The messages between the SQLite store (main thread) and its worker thread. Everything here
 * crosses by structured clone, which keeps bigint and Date but not class instances: an error
 * travels as its message and code, and the store rebuilds an Error from them.
 */
import type { SqliteConnection } from "./sqlite-connection.js";

/** What the worker opens, given as `workerData`. */
export interface SqliteWorkerData {
  filePath: string;
}

/** A connection method's name. */
export type SqliteMethod = keyof SqliteConnection;

/** A call of a connection method; `id` pairs it with its reply. */
export interface SqliteRequest {
  id: number;
  method: SqliteMethod;
  args: unknown[];
}

/** An error thrown in the worker, as it crosses back. */
export interface SqliteWorkerError {
  message: string;
  /** better-sqlite3's SqliteError code (`SQLITE_BUSY`, …) or Node's (`ENOTDIR`, …), when there is one. */
  code?: string;
}

/**
 * The id of the first reply: starting the thread (with the file path as workerData) is the call
 * that opens the database, answered with a null result or the opening error.
 */
export const openCallId = 0;

/** The answer to one request. */
export type SqliteReply = { id: number; result: unknown } | { id: number; error: SqliteWorkerError };

/** An error as it crosses the thread boundary. */
export function toWorkerError(error: unknown): SqliteWorkerError {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? { message, code } : { message };
}

/** The Error the caller sees for an error thrown in the worker: same message, same code. */
export function fromWorkerError(error: SqliteWorkerError): Error {
  const rebuilt = new Error(error.message) as Error & { code?: string };
  if (error.code !== undefined) rebuilt.code = error.code;
  return rebuilt;
}
