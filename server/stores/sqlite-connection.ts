/**
 * The embedded store's connection: one SQLite file through better-sqlite3, in WAL mode with
 * `synchronous=FULL` so an acknowledged batch survives power loss, not only a crash. Every method
 * is synchronous (better-sqlite3 blocks its thread for the insert and the fsync), so the server
 * runs it on its own thread (sqlite-worker.ts); sqlite-store.ts is the asynchronous face.
 */
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { judgeConflict, planBatch, sortRejections } from "./plan-batch.js";
import { quoteIdentifier } from "./quote-identifier.js";
import { assertUsableTableName, checkGate } from "./store.js";
import type { RawBenchmarkRow, StoredAuthRecord, StoredDocument } from "./store.js";
import type { RejectionCode, StoreBatch, StoreBatchResult, StoreDocumentEntry, StoreRejectedEntry, StoreRejection } from "./store-batch.js";

/** A document entry as SQLite needs it: the text it stores, without the BSON bytes. */
export type SqliteDocumentEntry = Omit<StoreDocumentEntry, "bson">;

/** A batch as SQLite needs it (what crosses to the worker thread). */
export interface SqliteBatch extends Omit<StoreBatch, "entries"> {
  entries: (SqliteDocumentEntry | StoreRejectedEntry)[];
}

/** One batch's outcome in a group commit: its result, or what it threw (its own writes undone). */
export type SqliteGroupOutcome = { ok: true; result: StoreBatchResult } | { ok: false; error: unknown };

/** The connection's operations, synchronous; the same meaning as IngestStore's methods of the same name. */
export interface SqliteConnection {
  /** IngestStore.prepare, given the models' persisted names (a model's schema may hold functions, which cannot cross threads). */
  prepare(tableNames: readonly string[]): void;
  ingest(batch: SqliteBatch): StoreBatchResult;
  /**
   * Group commit: several batches in one transaction, so they share one fsync. Each batch runs in
   * a savepoint of its own, so one that throws undoes only its own writes; if the commit itself
   * fails, it throws and none is stored.
   */
  ingestGroup(batches: readonly SqliteBatch[]): SqliteGroupOutcome[];
  getAuthRecord(kind: string, key: string): string | null;
  putAuthRecord(kind: string, key: string, value: string, ifAbsent: boolean): boolean;
  deleteAuthRecord(kind: string, key: string): boolean;
  listAuthRecords(kind: string, afterKey: string, limit: number): StoredAuthRecord[];
  deleteAuthRecords(kind: string, keys: readonly string[]): number;
  countRows(): Record<string, number>;
  readDocuments(table: string): StoredDocument[];
  readQueue(queueId: string): { userId: string; highSeq: bigint } | null;
  insertRawForBenchmark(table: string, rows: readonly RawBenchmarkRow[]): void;
  close(): void;
}

interface TableStatements {
  /** Multi-row `INSERT … ON CONFLICT DO NOTHING`, by row count (1 to rowsPerInsert). */
  insertRows: (count: number) => Database.Statement;
  selectDoc: Database.Statement;
}

// Rows per INSERT statement: 6 parameters a row stays far below SQLite's 32766-parameter cap,
// and one statement per 500 rows costs far less than one per row.
const rowsPerInsert = 500;

/** The multi-row insert into `table` for each row count, prepared once per count. */
function createMultiRowInsert(db: Database.Database, table: string): (count: number) => Database.Statement {
  const byCount = new Map<number, Database.Statement>();
  return (count) => {
    let statement = byCount.get(count);
    if (!statement) {
      const values = Array.from({ length: count }, () => "(?, ?, ?, ?, ?, ?)").join(", ");
      statement = db.prepare(
        `INSERT INTO ${quoteIdentifier(table)} (_id, doc, user_id, arrived_at, queue_id, seq) VALUES ${values} ON CONFLICT DO NOTHING`,
      );
      byCount.set(count, statement);
    }
    return statement;
  };
}

/** Opens (creating if needed) the SQLite file at `filePath` on the calling thread. */
export function openSqliteConnection(filePath: string): SqliteConnection {
  if (filePath !== ":memory:") createPrivateFile(filePath);
  const db = new Database(filePath);
  try {
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = FULL");
    // Several servers (or a CLI command) may share the file: wait for the writer lock, don't fail.
    db.pragma("busy_timeout = 10000");
    db.exec(`
      CREATE TABLE IF NOT EXISTS asymgen_queues (queue_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, high_seq INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS asymgen_rejections (queue_id TEXT NOT NULL, seq INTEGER NOT NULL, table_name TEXT NOT NULL,
        code TEXT NOT NULL, reason TEXT NOT NULL, PRIMARY KEY (queue_id, seq));
      CREATE TABLE IF NOT EXISTS asymgen_auth (kind TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (kind, key));
    `);
  } catch (error) {
    // A file that is not a database fails here, not in the constructor: don't leak the handle.
    db.close();
    throw error;
  }
  const tables = new Map<string, TableStatements>();
  const insertQueue = db.prepare("INSERT INTO asymgen_queues (queue_id, user_id, high_seq) VALUES (?, ?, 0) ON CONFLICT DO NOTHING");
  const selectQueue = db.prepare("SELECT user_id, high_seq FROM asymgen_queues WHERE queue_id = ?").safeIntegers(true);
  const updateQueue = db.prepare("UPDATE asymgen_queues SET high_seq = ? WHERE queue_id = ?");
  const selectRejection = db
    .prepare("SELECT seq, table_name, code, reason FROM asymgen_rejections WHERE queue_id = ? AND seq = ?")
    .safeIntegers(true);
  const insertRejection = db.prepare(
    "INSERT INTO asymgen_rejections (queue_id, seq, table_name, code, reason) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
  );
  const getAuth = db.prepare("SELECT value FROM asymgen_auth WHERE kind = ? AND key = ?").pluck();
  const insertAuth = db.prepare("INSERT INTO asymgen_auth (kind, key, value) VALUES (?, ?, ?) ON CONFLICT DO NOTHING");
  const upsertAuth = db.prepare(
    "INSERT INTO asymgen_auth (kind, key, value) VALUES (?, ?, ?) ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value",
  );
  const deleteAuth = db.prepare("DELETE FROM asymgen_auth WHERE kind = ? AND key = ?");
  // The primary key (kind, key) serves both the range and the order: no sort, no scan.
  const listAuth = db.prepare("SELECT key, value FROM asymgen_auth WHERE kind = ? AND key > ? ORDER BY key LIMIT ?");
  const deleteAuthMany = db.transaction((kind: string, keys: readonly string[]) =>
    keys.reduce((deleted, key) => deleted + deleteAuth.run(kind, key).changes, 0),
  );

  function tableOrThrow(table: string): TableStatements {
    const statements = tables.get(table);
    if (!statements) throw new Error(`sqlite store: no table for model "${table}"`);
    return statements;
  }

  // BEGIN IMMEDIATE takes the write lock up front, so two processes never deadlock upgrading.
  const ingestTransaction = db.transaction((batch: SqliteBatch): StoreBatchResult => {
    // Refusals come before the queue's row is created, so a refused batch writes nothing.
    let queue = selectQueue.get(batch.queueId) as { user_id: string; high_seq: bigint } | undefined;
    if (queue !== undefined && queue.user_id !== batch.userId) return { status: "forbidden" };
    const gap = checkGate(batch, queue?.high_seq ?? 0n);
    if (gap) return gap;
    if (queue === undefined) {
      insertQueue.run(batch.queueId, batch.userId);
      queue = { user_id: batch.userId, high_seq: 0n };
    }
    const plan = planBatch(batch.entries, queue.high_seq);
    const rejected: StoreRejection[] = [];
    for (const seq of plan.replaySeqs) {
      // The table holds only verdicts this server wrote, so only their codes.
      const row = selectRejection.get(batch.queueId, seq) as { seq: bigint; table_name: string; code: RejectionCode; reason: string } | undefined;
      if (row) rejected.push({ seq: row.seq, table: row.table_name, code: row.code, reason: row.reason });
    }
    const arrivedAt = batch.arrivedAt.getTime();
    const conflicts = [...plan.followers];
    for (const [table, entries] of plan.inserts) {
      const { insertRows } = tableOrThrow(table);
      for (let start = 0; start < entries.length; start += rowsPerInsert) {
        const chunk = entries.slice(start, start + rowsPerInsert);
        const params: unknown[] = [];
        for (const entry of chunk) params.push(entry.idKey, entry.ejson, batch.userId, arrivedAt, batch.queueId, entry.seq);
        // The common case inserts every row; only a short count needs the per-row look-up below
        // (judging a row this statement did insert finds its own, identical, text: no verdict).
        if (insertRows(chunk.length).run(...params).changes < chunk.length) conflicts.push(...chunk);
      }
    }
    for (const entry of conflicts) {
      const stored = tableOrThrow(entry.table).selectDoc.get(entry.idKey) as string | undefined;
      const verdict = judgeConflict(entry, stored);
      if (verdict) plan.rejections.push(verdict);
    }
    for (const r of plan.rejections) insertRejection.run(batch.queueId, r.seq, r.table, r.code, r.reason);
    if (plan.highSeq !== queue.high_seq) updateQueue.run(plan.highSeq, batch.queueId);
    rejected.push(...plan.rejections);
    return { status: "ok", acknowledgedSeq: plan.highSeq, rejected: sortRejections(rejected) };
  });

  return {
    prepare(tableNames) {
      for (const name of tableNames) {
        assertUsableTableName(name, 1000);
        const t = quoteIdentifier(name);
        db.exec(`CREATE TABLE IF NOT EXISTS ${t} (_id TEXT PRIMARY KEY, doc TEXT NOT NULL, user_id TEXT NOT NULL,
          arrived_at INTEGER NOT NULL, queue_id TEXT NOT NULL, seq INTEGER NOT NULL)`);
        tables.set(name, {
          insertRows: createMultiRowInsert(db, name),
          selectDoc: db.prepare(`SELECT doc FROM ${t} WHERE _id = ?`).pluck(),
        });
      }
    },
    ingest(batch) {
      return ingestTransaction.immediate(batch);
    },
    ingestGroup(batches) {
      const outcomes: SqliteGroupOutcome[] = [];
      db.transaction(() => {
        for (const batch of batches) {
          try {
            // Inside a transaction, better-sqlite3 runs a transaction function as a savepoint.
            outcomes.push({ ok: true, result: ingestTransaction(batch) });
          } catch (error) {
            // Some errors (SQLITE_FULL, SQLITE_IOERR) make SQLite roll back the whole transaction,
            // the batches before this one included: then none of the group may be reported stored.
            if (!db.inTransaction) throw error;
            outcomes.push({ ok: false, error });
          }
        }
      }).immediate();
      return outcomes;
    },
    getAuthRecord(kind, key) {
      return (getAuth.get(kind, key) as string | undefined) ?? null;
    },
    putAuthRecord(kind, key, value, ifAbsent) {
      return (ifAbsent ? insertAuth : upsertAuth).run(kind, key, value).changes > 0;
    },
    deleteAuthRecord(kind, key) {
      return deleteAuth.run(kind, key).changes > 0;
    },
    listAuthRecords(kind, afterKey, limit) {
      return listAuth.all(kind, afterKey, limit) as StoredAuthRecord[];
    },
    deleteAuthRecords(kind, keys) {
      return deleteAuthMany.immediate(kind, keys);
    },
    countRows() {
      const counts: Record<string, number> = {};
      for (const table of [...tables.keys(), "asymgen_queues", "asymgen_rejections"]) {
        counts[table] = db
          .prepare(`SELECT count(*) FROM ${quoteIdentifier(table)}`)
          .pluck()
          .get() as number;
      }
      return counts;
    },
    readDocuments(table) {
      tableOrThrow(table);
      const rows = db
        .prepare(`SELECT _id, doc, user_id, arrived_at, queue_id, seq FROM ${quoteIdentifier(table)} ORDER BY _id`)
        .safeIntegers(true)
        .all() as { _id: string; doc: string; user_id: string; arrived_at: bigint; queue_id: string; seq: bigint }[];
      return rows.map(
        (row): StoredDocument => ({
          idKey: row._id,
          ejson: row.doc,
          userId: row.user_id,
          arrivedAt: new Date(Number(row.arrived_at)),
          queueId: row.queue_id,
          seq: row.seq,
        }),
      );
    },
    readQueue(queueId) {
      const row = selectQueue.get(queueId) as { user_id: string; high_seq: bigint } | undefined;
      return row ? { userId: row.user_id, highSeq: row.high_seq } : null;
    },
    insertRawForBenchmark(table, rows) {
      const { insertRows } = tableOrThrow(table);
      const now = Date.now();
      db.transaction(() => {
        for (let i = 0; i < rows.length; i += rowsPerInsert) {
          const slice = rows.slice(i, i + rowsPerInsert);
          const params: unknown[] = [];
          for (const row of slice) params.push(row.idKey, row.ejson, "benchmark", now, "benchmark", 0);
          insertRows(slice.length).run(...params);
        }
      }).immediate();
    },
    close() {
      if (db.open) db.close();
    },
  };
}

/**
 * Creates the database file readable by its owner only (0600, whatever the umask) before SQLite
 * opens it: it holds every user's data and the auth records. SQLite gives the -wal and -shm files
 * the database file's mode. An existing file keeps the mode its owner chose.
 */
function createPrivateFile(filePath: string): void {
  fs.mkdirSync(path.dirname(path.resolve(filePath)), { recursive: true, mode: 0o700 });
  let fd: number;
  try {
    fd = fs.openSync(filePath, "wx", 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return;
    throw error;
  }
  try {
    fs.fchmodSync(fd, 0o600);
  } finally {
    fs.closeSync(fd);
  }
}

/** Auth look-ups on the calling thread: see openSqliteAuthReader. */
export interface SqliteAuthReader {
  getAuthRecord(kind: string, key: string): string | null;
  close(): void;
}

/**
 * A read-only connection for auth look-ups, opened on the main thread beside the worker's. Every
 * request authenticates (its session and user records) before its body is read; through the
 * worker, those reads would wait behind the batches being committed, so a pipelined batch could
 * not even start arriving until the one before it was stored. In WAL mode a reader never waits
 * for the writer, and each look-up sees every commit made before it, so a write awaited through
 * the worker is visible here at once. The file and its tables must exist (the worker made them).
 */
export function openSqliteAuthReader(filePath: string): SqliteAuthReader {
  const db = new Database(filePath, { readonly: true, fileMustExist: true });
  const getAuth = db.prepare("SELECT value FROM asymgen_auth WHERE kind = ? AND key = ?").pluck();
  return {
    getAuthRecord(kind, key) {
      return (getAuth.get(kind, key) as string | undefined) ?? null;
    },
    close() {
      if (db.open) db.close();
    },
  };
}
