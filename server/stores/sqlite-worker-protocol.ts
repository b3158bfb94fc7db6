/**
 * The messages between the SQLite store (main thread) and its worker thread. They cross by
 * structured clone, which keeps bigint and Date but not class instances: an error travels as its
 * message and code, and the store rebuilds an Error from them. An ingest batch is packed first
 * and its buffers are transferred (see PackedSqliteBatch); a StoreSchemaError keeps its class.
 */
import type { CanonicalObjectSchema, CanonicalPropertySchema } from "asymgen/schema";
import type { SchemaProblem } from "../tables/plan-schema-change.js";
import { StoreSchemaError } from "../tables/format-schema-problems.js";
import type { SqliteConnection } from "./sqlite-connection.js";
import type { RejectionCode, StoreBatch } from "./store-batch.js";

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
  /** A StoreSchemaError's problems (plain data), so the caller gets a StoreSchemaError again. */
  problems?: SchemaProblem[];
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
  if (error instanceof StoreSchemaError) return { message, problems: [...error.problems] };
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? { message, code } : { message };
}

/** The Error the caller sees for an error thrown in the worker: same message, same code. */
export function fromWorkerError(error: SqliteWorkerError): Error {
  // A user-facing error (the CLI prints its message alone): the same class, the same problems.
  if (error.problems !== undefined) return new StoreSchemaError(error.problems);
  const rebuilt = new Error(error.message) as Error & { code?: string };
  if (error.code !== undefined) rebuilt.code = error.code;
  return rebuilt;
}

/**
 * An ingest batch as it crosses to the worker: the documents' BSON in one buffer and the
 * per-entry numbers in typed arrays, all transferred rather than cloned (see
 * sqlite-worker-client.ts's packBatch), and the documents' keys, short strings, cloned: no
 * object per document on the way. The worker makes each row from its BSON.
 */
export interface PackedSqliteBatch {
  queueId: string;
  ifAcknowledgedSeq: bigint | null;
  userId: string;
  arrivedAt: Date;
  /** Each entry's `seq`, in order. */
  seqs: BigInt64Array;
  /** Each entry's table, as an index into `tables`. */
  tables: string[];
  tableIndexes: Uint32Array;
  /** The document entries' BSON: the request body they came in, or each one's back to back. */
  bytes: Uint8Array;
  /** Per document entry: where its BSON starts in `bytes`, then where it ends. */
  ends: Uint32Array;
  /** Per document entry, its `idKey`. */
  idKeys: string[];
  /** The rejected entries (few), by their index among the entries, in order. */
  rejected: { index: number; code: RejectionCode; reason: string }[];
}

/** The worker's side: the batch as the connection takes it (it makes each row), each `bson` a view of the one buffer. */
export function unpackSqliteBatch(packed: PackedSqliteBatch): StoreBatch {
  const { seqs, tableIndexes, tables, ends, idKeys, rejected } = packed;
  const bytes = Buffer.from(packed.bytes.buffer, packed.bytes.byteOffset, packed.bytes.byteLength);
  const entries: StoreBatch["entries"] = [];
  let next = 0;
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
    const idKey = idKeys[next >> 1]!;
    const bsonStart = ends[next++]!;
    const bsonEnd = ends[next++]!;
    entries.push({ kind: "document", seq, table, idKey, bson: bytes.subarray(bsonStart, bsonEnd) });
  }
  const { queueId, ifAcknowledgedSeq, userId, arrivedAt } = packed;
  return { queueId, ifAcknowledgedSeq, userId, arrivedAt, entries };
}

/**
 * The schema as plain data for the worker (structured clone refuses functions): every field of
 * the canonical schema but a property's `default`, which neither the tables nor the codec read
 * (a computed default is a function; schema.json leaves it out too).
 */
export function toPlainModels(models: readonly CanonicalObjectSchema[]): CanonicalObjectSchema[] {
  return models.map((model) => {
    const properties: Record<string, CanonicalPropertySchema> = {};
    for (const [key, { default: _default, ...property }] of Object.entries(model.properties)) properties[key] = property;
    const plain: CanonicalObjectSchema = { name: model.name, properties, embedded: model.embedded, asymmetric: model.asymmetric };
    if (model.primaryKey !== undefined) plain.primaryKey = model.primaryKey;
    return plain;
  });
}
