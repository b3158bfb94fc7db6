/**
 * The one interface every store implements (SQLite, PostgreSQL, MongoDB): ingest batches
 * idempotently, and keep the auth state, so ingest servers themselves hold no state.
 *
 * Layout (SQL stores; MongoDB: see mongodb-store.ts):
 * - one typed table per asymmetric model, named after its persisted name: one column per
 *   persisted property with a native type, nested values as natural JSON, the delivery metadata
 *   in `$user`, `$queue`, `$seq`, `$arrived`, and `$exact` for what the columns cannot hold
 *   exactly (server/tables/: the layout, the row codec, schema evolution; `asymgen_meta` records
 *   the layout version and each column's property type);
 * - `asymgen_queues(queue_id PRIMARY KEY, user_id, high_seq)`: per client queue, its owner and the
 *   highest sequence handled;
 * - `asymgen_rejections(queue_id, seq, table_name, code, reason)`: verdicts, replayed on a retry;
 * - `asymgen_auth(kind, key, value)`: users, identities, sessions, API keys, the server secret.
 */
import type { CanonicalObjectSchema } from "asymgen/schema";
import type { StoreBatch, StoreBatchResult } from "./store-batch.js";

/** A stored document, read back (tests, tools). */
export interface StoredDocument {
  /** Canonical Extended JSON of the `_id` (an Int32 widened to Int64), as StoreDocumentEntry's `idKey`. */
  idKey: string;
  /** The document's BSON, exactly the bytes that were ingested. */
  bson: Uint8Array;
  /** Canonical Extended JSON of `bson`, in its field order. */
  ejson: string;
  userId: string;
  arrivedAt: Date;
  queueId: string;
  seq: bigint;
}

/** An auth record as listed: its key and JSON text. */
export interface StoredAuthRecord {
  key: string;
  value: string;
}

/**
 * Documents made into the store's own rows ahead of the benchmark's timed insert (what a user of
 * the database's driver would hand it): opaque outside the store that made them.
 */
export interface BenchmarkRows {
  readonly table: string;
  readonly count: number;
}

/** The store interface. */
export interface IngestStore {
  /** "sqlite", "postgres" or "mongodb". */
  readonly kind: string;
  /** Where the data is, with any password removed (for logs). */
  readonly location: string;
  /**
   * Given the whole schema (embedded models too: nested values are decoded by them), creates the
   * internal tables and one table per asymmetric model, or brings existing ones up to
   * the schema (new tables, optional columns, indexes); refuses with a StoreSchemaError, changing
   * nothing, when the store cannot take the schema (an incompatible change, the 0.1 layout).
   * Resolves with warnings to log (columns kept for properties the schema no longer has).
   */
  prepare(schema: readonly CanonicalObjectSchema[]): Promise<string[]>;
  /** Stores a batch in one transaction (see runtime/sync/ingest-protocol.ts for the rules). */
  ingest(batch: StoreBatch): Promise<StoreBatchResult>;
  /** Reads an auth record (JSON text) or null. */
  getAuthRecord(kind: string, key: string): Promise<string | null>;
  /** Writes an auth record; with `ifAbsent`, only when none exists (returns whether it wrote). */
  putAuthRecord(kind: string, key: string, value: string, ifAbsent: boolean): Promise<boolean>;
  /** Deletes an auth record; returns whether one existed. */
  deleteAuthRecord(kind: string, key: string): Promise<boolean>;
  /**
   * A page of the auth records of `kind`: those whose key sorts after `afterKey` (`""`: from the
   * start), in the store's key order, at most `limit`. Pass the last key of a page to get the next.
   */
  listAuthRecords(kind: string, afterKey: string, limit: number): Promise<StoredAuthRecord[]>;
  /** Deletes the auth records of `kind` with these keys (a missing one is skipped); returns how many it deleted. */
  deleteAuthRecords(kind: string, keys: readonly string[]): Promise<number>;
  /** Row counts of every model table plus `asymgen_queues` and `asymgen_rejections`. */
  countRows(): Promise<Record<string, number>>;
  /** Every stored document of a model table, in `_id` order (tests and tools; not for big tables). */
  readDocuments(table: string): Promise<StoredDocument[]>;
  /** A queue's owner and high-water mark, or null. */
  readQueue(queueId: string): Promise<{ userId: string; highSeq: bigint } | null>;
  /** The benchmark ceiling's untimed part: `documents` (BSON of `table`'s model) made into the store's rows. */
  prepareBenchmarkRows(table: string, documents: readonly Uint8Array[]): Promise<BenchmarkRows>;
  /**
   * The benchmark ceiling: the store's own bulk insert (multi-row `INSERT … ON CONFLICT DO
   * NOTHING` into the typed table; MongoDB `insertMany`) of rows made by prepareBenchmarkRows,
   * with no validation, no queue bookkeeping and no HTTP.
   */
  insertRawForBenchmark(rows: BenchmarkRows): Promise<void>;
  /**
   * Why the store can no longer serve anything (the SQLite worker thread stopped), or null.
   * `/health` answers 503 with it, so a supervisor restarts the server instead of every batch
   * failing with a 500 behind a healthy-looking server. (Network stores report per query.)
   */
  broken(): string | null;
  /** Closes connections; the store is unusable after. */
  close(): Promise<void>;
}

/** The gate check every store makes inside its transaction, after the owner check: null lets the batch through. */
export function checkGate(batch: Pick<StoreBatch, "ifAcknowledgedSeq">, highSeq: bigint): StoreBatchResult | null {
  if (batch.ifAcknowledgedSeq === null || highSeq >= batch.ifAcknowledgedSeq) return null;
  return { status: "sequence_gap", acknowledgedSeq: highSeq };
}

/** The auth records of `kind`, a page (`pageSize` records) at a time, in the store's key order. */
export async function* authRecordPages(store: IngestStore, kind: string, pageSize = 500): AsyncGenerator<StoredAuthRecord[]> {
  for (let after = ""; ; ) {
    const page = await store.listAuthRecords(kind, after, pageSize);
    if (page.length > 0) yield page;
    const last = page[page.length - 1];
    if (page.length < pageSize || last === undefined) return;
    after = last.key;
  }
}

/** Throws when a model's persisted name cannot be a table name here. */
export function assertUsableTableName(name: string, maxLength: number): void {
  if (name.startsWith("asymgen_"))
    throw new Error(`model "${name}": names starting with "asymgen_" are reserved for the server's own tables`);
  if (name.length === 0 || Buffer.byteLength(name) > maxLength)
    throw new Error(`model "${name}": a table name must be 1 to ${maxLength} bytes`);
  if (name.includes("\0")) throw new Error(`model "${name}": a table name must not contain NUL`);
}
