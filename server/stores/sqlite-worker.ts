/**
 * The SQLite worker thread's entry: it owns the store's better-sqlite3 connection, so the insert
 * and the fsync of a batch block this thread while the main thread validates the next batch.
 * Requests are handled synchronously in arrival order, so batches commit in the order the main
 * thread sent them; ingest requests queued back to back commit as one group (one fsync).
 */
import { parentPort, receiveMessageOnPort, workerData } from "node:worker_threads";
import type { MessagePort } from "node:worker_threads";
import { openSqliteConnection } from "./sqlite-connection.js";
import type { SqliteConnection } from "./sqlite-connection.js";
import { openCallId, toWorkerError, unpackSqliteBatch } from "./sqlite-worker-protocol.js";
import type { PackedSqliteBatch, SqliteReply, SqliteRequest, SqliteWorkerData } from "./sqlite-worker-protocol.js";
import type { StoreBatch } from "./store-batch.js";

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
  port.on("message", (first: SqliteRequest) => {
    // Everything already queued behind this message is taken now, so the batches among them
    // commit together: under many clients, one fsync serves several batches.
    const requests: SqliteRequest[] = [];
    for (let next: SqliteRequest | undefined = first; next !== undefined; next = receiveMessageOnPort(port)?.message as SqliteRequest | undefined) {
      const request = unpack(next);
      if (request) requests.push(request);
    }
    for (let i = 0; i < requests.length; ) {
      let end = i;
      while (end < requests.length && requests[end]!.method === "ingest") end++;
      if (end - i > 1) {
        commitGroup(opened, requests.slice(i, end));
        i = end;
      } else {
        handle(opened, requests[i]!);
        i++;
      }
    }
  });
}

/**
 * A request as the connection takes it: an ingest batch arrives packed (see PackedSqliteBatch).
 * One that cannot be unpacked is answered with the error here (null): the others still run.
 */
function unpack(request: SqliteRequest): SqliteRequest | null {
  if (request.method !== "ingest") return request;
  try {
    return { ...request, args: [unpackSqliteBatch(request.args[0] as PackedSqliteBatch)] };
  } catch (error) {
    reply({ id: request.id, error: toWorkerError(error) });
    return null;
  }
}

/** Runs one request and answers it. */
function handle(opened: SqliteConnection, { id, method, args }: SqliteRequest): void {
  try {
    if (!Object.hasOwn(opened, method)) throw new Error(`sqlite worker: no method "${String(method)}"`);
    const run = opened[method] as (...runArgs: unknown[]) => unknown;
    reply({ id, result: run(...args) });
  } catch (error) {
    reply({ id, error: toWorkerError(error) });
  }
}

/** Commits consecutive ingest requests in one transaction; each is answered only after the commit. */
function commitGroup(opened: SqliteConnection, requests: SqliteRequest[]): void {
  let outcomes;
  try {
    outcomes = opened.ingestGroup(requests.map((request) => request.args[0] as StoreBatch));
  } catch (error) {
    for (const { id } of requests) reply({ id, error: toWorkerError(error) });
    return;
  }
  requests.forEach(({ id }, i) => {
    const outcome = outcomes[i]!;
    reply(outcome.ok ? { id, result: outcome.result } : { id, error: toWorkerError(outcome.error) });
  });
}
