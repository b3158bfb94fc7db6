/**
 * The SQLite worker thread's entry: it owns the store's better-sqlite3 connection, so the insert
 * and the fsync of a batch block this thread while the main thread validates the next batch.
 * Requests are handled synchronously, one message at a time, so they run in arrival order and
 * batches commit in the order the main thread sent them.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { MessagePort } from "node:worker_threads";
import { openSqliteConnection } from "./sqlite-connection.js";
import type { SqliteConnection } from "./sqlite-connection.js";
import { openCallId, toWorkerError } from "./sqlite-worker-protocol.js";
import type { SqliteReply, SqliteRequest, SqliteWorkerData } from "./sqlite-worker-protocol.js";

if (!parentPort) throw new Error("sqlite-worker.js runs as the SQLite store's worker thread, not on its own");
const port: MessagePort = parentPort;

/** Posts a reply; a result that cannot be cloned still answers its call, or the caller would wait forever. */
function reply(message: SqliteReply): void {
  try {
    port.postMessage(message);
  } catch (error) {
    port.postMessage({ id: message.id, error: toWorkerError(error) } satisfies SqliteReply);
  }
}

let connection: SqliteConnection | null = null;
try {
  connection = openSqliteConnection((workerData as SqliteWorkerData).filePath);
  reply({ id: openCallId, result: null });
} catch (error) {
  // The store rejects openSqliteStore with this error and ends the thread.
  reply({ id: openCallId, error: toWorkerError(error) });
}

if (connection) {
  const opened = connection;
  port.on("message", ({ id, method, args }: SqliteRequest) => {
    try {
      if (!Object.hasOwn(opened, method)) throw new Error(`sqlite worker: no method "${String(method)}"`);
      const run = opened[method] as (...runArgs: unknown[]) => unknown;
      reply({ id, result: run(...args) });
    } catch (error) {
      reply({ id, error: toWorkerError(error) });
    }
  });
}
