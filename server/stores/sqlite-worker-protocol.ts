/**
 * The messages between the SQLite store (main thread) and its worker thread. They cross by
 * structured clone, which keeps bigint and Date but not class instances: an error travels as its
 * message and code, and the store rebuilds an Error from them. An ingest batch is packed first
 * and its buffers are transferred (see PackedSqliteBatch).
 */
import type { SqliteBatch, SqliteConnection } from "./sqlite-connection.js";
import type { RejectionCode } from "./store-batch.js";

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

/**
 * An ingest batch as it crosses to the worker: the texts of its documents in one buffer and the
 * per-entry numbers in typed arrays, all transferred rather than cloned (see sqlite-worker-client.ts's
 * packBatch). The `bson` views stay behind: SQLite keeps only the text.
 */
export interface PackedSqliteBatch {
  queueId: string;
  ifAcknowledgedSeq: bigint | null;
  userId: string;
  arrivedAt: Date;
  /** Each entry's `seq`, in order. */
  seqs: BigInt64Array;
  /** Each entry's table, as an index into `tables`. */
  tableIndexes: Uint32Array;
  tables: string[];
  /** The UTF-8 of each document entry's `idKey` then its `ejson`, back to back. */
  text: Uint8Array;
  /** Per document entry: where its `idKey` ends in `text`, then where its `ejson` ends. */
  textEnds: Uint32Array;
  /** The rejected entries (few), by their index among the entries, in order. */
  rejected: { index: number; code: RejectionCode; reason: string }[];
}

/** The worker's side: the batch as the connection takes it, its texts made strings here. */
export function unpackSqliteBatch(packed: PackedSqliteBatch): SqliteBatch {
  const { seqs, tableIndexes, tables, textEnds, rejected } = packed;
  const text = Buffer.from(packed.text.buffer, packed.text.byteOffset, packed.text.byteLength);
  const entries: SqliteBatch["entries"] = [];
  let at = 0;
  let ends = 0;
  let nextRejected = 0;
  for (let i = 0; i < seqs.length; i++) {
    const seq = seqs[i]!;
    const table = tables[tableIndexes[i]!]!;
    const refusal = rejected[nextRejected];
    if (refusal?.index === i) {
      entries.push({ kind: "rejected", seq, table, code: refusal.code, reason: refusal.reason });
      nextRejected++;
      continue;
    }
    const idEnd = textEnds[ends++]!;
    const ejsonEnd = textEnds[ends++]!;
    entries.push({ kind: "document", seq, table, idKey: text.toString("utf8", at, idEnd), ejson: text.toString("utf8", idEnd, ejsonEnd) });
    at = ejsonEnd;
  }
  const { queueId, ifAcknowledgedSeq, userId, arrivedAt } = packed;
  return { queueId, ifAcknowledgedSeq, userId, arrivedAt, entries };
}
