/**
 * The embedded store's connection: one SQLite file through better-sqlite3, in WAL mode with
 * `synchronous=FULL` so an acknowledged batch survives power loss, not only a crash. Every method
 * is synchronous (better-sqlite3 blocks its thread for the insert and the fsync), so the server
 * runs it on its own thread (sqlite-worker.ts); sqlite-store.ts is the asynchronous face.
 *
 * Each asymmetric model has its typed table (server/tables/table-layout.ts): a document becomes
 * its row through the row codec, and a stored row becomes the exact ingested bytes again.
 */
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import type { CanonicalObjectSchema } from "asymgen/schema";
import { formatKeptColumns, StoreSchemaError } from "../tables/format-schema-problems.js";
import { planStoreSchema } from "../tables/plan-schema-change.js";
import { readSqliteStoreShape } from "../tables/read-table-shape.js";
import { documentToRowValues, modelsByName, rowToDocument } from "../tables/row-codec.js";
import type { SqlValue } from "../tables/row-codec.js";
import { storedDocumentText } from "../tables/stored-document-text.js";
import { storeLayoutOf } from "../tables/retired-columns.js";
import { tableLayoutOf } from "../tables/table-layout.js";
import type { TableLayout } from "../tables/table-layout.js";
import { assertCompleteSchema } from "./assert-complete-schema.js";
import { judgeConflict, planBatch, sortRejections } from "./plan-batch.js";
import { quoteIdentifier } from "./quote-identifier.js";
import { assertUsableTableName, checkGate } from "./store.js";
import type { StoredAuthRecord, StoredDocument } from "./store.js";
import type { RejectionCode, StoreBatch, StoreBatchResult, StoreDocumentEntry, StoreRejection } from "./store-batch.js";

/** One batch's outcome in a group commit: its result, or what it threw (its own writes undone). */
export type SqliteGroupOutcome = { ok: true; result: StoreBatchResult } | { ok: false; error: unknown };

/** The connection's operations, synchronous; the same meaning as IngestStore's methods of the same name. */
export interface SqliteConnection {
  /**
   * IngestStore.prepare: `models` is the whole schema as plain data (embedded models decode the
   * nested values; a model's schema may hold functions, which cannot cross threads: see
   * toPlainModels). Plans and applies the schema change in one transaction, or throws a
   * StoreSchemaError having changed nothing; returns the warnings to log.
   */
  prepare(models: readonly CanonicalObjectSchema[]): string[];
  ingest(batch: StoreBatch): StoreBatchResult;
  /**
   * Group commit: several batches in one transaction, so they share one fsync. Each batch runs in
   * a savepoint of its own, so one that throws undoes only its own writes; if the commit itself
   * fails, it throws and none is stored.
   */
  ingestGroup(batches: readonly StoreBatch[]): SqliteGroupOutcome[];
  getAuthRecord(kind: string, key: string): string | null;
  putAuthRecord(kind: string, key: string, value: string, ifAbsent: boolean): boolean;
  deleteAuthRecord(kind: string, key: string): boolean;
  listAuthRecords(kind: string, afterKey: string, limit: number): StoredAuthRecord[];
  deleteAuthRecords(kind: string, keys: readonly string[]): number;
  countRows(): Record<string, number>;
  readDocuments(table: string): StoredDocument[];
  readQueue(queueId: string): { userId: string; highSeq: bigint } | null;
  /** The benchmark ceiling's insert: rows made by documentToRowValues, into `table`, in multi-row statements. */
  insertRawForBenchmark(table: string, rows: readonly (readonly SqlValue[])[]): void;
  close(): void;
}

interface TableStatements {
  layout: TableLayout;
  /** Where the primary key's value is among a row's values (documentToRowValues's order). */
  keyIndex: number;
  /** Rows per INSERT statement (see rowsPerInsertOf). */
  rowsPerInsert: number;
  /** Multi-row `INSERT … ON CONFLICT DO NOTHING`, by row count (1 to rowsPerInsert). */
  insertRows: (count: number) => Database.Statement;
  /** The stored row by primary key value, integers as bigint (what rowToDocument takes). */
  selectRow: Database.Statement;
}

/** The delivery metadata columns an insert writes after the property columns and `$exact`, in this order. */
const deliveryColumns = ["$user", "$queue", "$seq", "$arrived"] as const;

// SQLite refuses a statement with more than 32766 parameters (SQLITE_MAX_VARIABLE_NUMBER since
// 3.32); one statement per 500 rows costs far less than one per row, and more saves little.
const maxParameters = 32766;
const maxRowsPerInsert = 500;

/** Rows per multi-row INSERT for a layout: as many as fit under SQLite's parameter cap, at most 500. */
function rowsPerInsertOf(layout: TableLayout): number {
  const perRow = layout.columns.length + 1 + deliveryColumns.length;
  return Math.max(1, Math.min(maxRowsPerInsert, Math.floor(maxParameters / perRow)));
}

/** The multi-row insert into the layout's table for each row count, prepared once per count. */
function createMultiRowInsert(db: Database.Database, layout: TableLayout): (count: number) => Database.Statement {
  const names = [...layout.columns.map((column) => column.name), "$exact", ...deliveryColumns];
  const head = `INSERT INTO ${quoteIdentifier(layout.table)} (${names.map(quoteIdentifier).join(", ")}) VALUES `;
  const placeholders = `(${names.map(() => "?").join(", ")})`;
  const byCount = new Map<number, Database.Statement>();
  return (count) => {
    let statement = byCount.get(count);
    if (!statement) {
      statement = db.prepare(`${head}${Array.from({ length: count }, () => placeholders).join(", ")} ON CONFLICT DO NOTHING`);
      byCount.set(count, statement);
    }
    return statement;
  };
}

/** Appends a row's parameters (its documentToRowValues, then the delivery columns), in createMultiRowInsert's column order, to `params`. */
function pushValues(params: SqlValue[], values: readonly SqlValue[], user: string, queue: string, seq: bigint, arrived: string): void {
  for (let i = 0; i < values.length; i++) params.push(values[i]!);
  params.push(user, queue, seq, arrived);
}

// asymgen's own tables. asymgen 0.1 made them with exactly this DDL.
const authTableSql =
  "CREATE TABLE IF NOT EXISTS asymgen_auth (kind TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (kind, key))";
const queueTablesSql = `
  CREATE TABLE IF NOT EXISTS asymgen_queues (queue_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, high_seq INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS asymgen_rejections (queue_id TEXT NOT NULL, seq INTEGER NOT NULL, table_name TEXT NOT NULL,
    code TEXT NOT NULL, reason TEXT NOT NULL, PRIMARY KEY (queue_id, seq));
`;

/** Opens (creating if needed) the SQLite file at `filePath` on the calling thread. */
export function openSqliteConnection(filePath: string): SqliteConnection {
  if (filePath !== ":memory:") createPrivateFile(filePath);
  const db = new Database(filePath);
  try {
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = FULL");
    // Several servers (or a CLI command) may share the file: wait for the writer lock, don't fail.
    db.pragma("busy_timeout = 10000");
    // Only the auth table at open (`asymgen apikey` needs it, and every asymgen store has had it):
    // the queue tables and asymgen_meta come with prepare, once the schema plan has passed, so a
    // store that prepare refuses (asymgen 0.1's, a foreign table) is left as it was.
    db.exec(authTableSql);
  } catch (error) {
    // A file that is not a database fails here, not in the constructor: don't leak the handle.
    db.close();
    throw error;
  }
  // Statements on asymgen's own tables are prepared on first use: an asymgen 0.1 store has them,
  // but a store whose layout prepare refuses may not, and opening it must not fail.
  const lazy = (sql: string, configure: (statement: Database.Statement) => Database.Statement = (s) => s) => {
    let statement: Database.Statement | null = null;
    return () => (statement ??= configure(db.prepare(sql)));
  };
  const tables = new Map<string, TableStatements>();
  const insertQueue = lazy("INSERT INTO asymgen_queues (queue_id, user_id, high_seq) VALUES (?, ?, 0) ON CONFLICT DO NOTHING");
  const selectQueue = lazy("SELECT user_id, high_seq FROM asymgen_queues WHERE queue_id = ?", (s) => s.safeIntegers(true));
  const updateQueue = lazy("UPDATE asymgen_queues SET high_seq = ? WHERE queue_id = ?");
  const selectRejection = lazy("SELECT seq, table_name, code, reason FROM asymgen_rejections WHERE queue_id = ? AND seq = ?", (s) => s.safeIntegers(true));
  const insertRejection = lazy(
    "INSERT INTO asymgen_rejections (queue_id, seq, table_name, code, reason) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
  );
  const getAuth = lazy("SELECT value FROM asymgen_auth WHERE kind = ? AND key = ?", (s) => s.pluck());
  const insertAuth = lazy("INSERT INTO asymgen_auth (kind, key, value) VALUES (?, ?, ?) ON CONFLICT DO NOTHING");
  const upsertAuth = lazy(
    "INSERT INTO asymgen_auth (kind, key, value) VALUES (?, ?, ?) ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value",
  );
  const deleteAuth = lazy("DELETE FROM asymgen_auth WHERE kind = ? AND key = ?");
  // The primary key (kind, key) serves both the range and the order: no sort, no scan.
  const listAuth = lazy("SELECT key, value FROM asymgen_auth WHERE kind = ? AND key > ? ORDER BY key LIMIT ?");
  const deleteAuthMany = db.transaction((kind: string, keys: readonly string[]) =>
    keys.reduce((deleted, key) => deleted + deleteAuth().run(kind, key).changes, 0),
  );

  function tableOrThrow(table: string): TableStatements {
    const statements = tables.get(table);
    if (!statements) throw new Error(`sqlite store: no table for model "${table}"`);
    return statements;
  }

  /** The exact BSON stored under `key` (the primary key's column value) in `table`, or undefined. */
  function storedDocument(statements: TableStatements, key: SqlValue): Uint8Array | undefined {
    const row = statements.selectRow.get(key) as Record<string, unknown> | undefined;
    return row === undefined ? undefined : rowToDocument(row, statements.layout);
  }

  // BEGIN IMMEDIATE takes the write lock up front, so two processes never deadlock upgrading.
  const ingestTransaction = db.transaction((batch: StoreBatch): StoreBatchResult => {
    // Refusals come before the queue's row is created, so a refused batch writes nothing.
    let queue = selectQueue().get(batch.queueId) as { user_id: string; high_seq: bigint } | undefined;
    if (queue !== undefined && queue.user_id !== batch.userId) return { status: "forbidden" };
    const gap = checkGate(batch, queue?.high_seq ?? 0n);
    if (gap) return gap;
    if (queue === undefined) {
      insertQueue().run(batch.queueId, batch.userId);
      queue = { user_id: batch.userId, high_seq: 0n };
    }
    const plan = planBatch(batch.entries, queue.high_seq);
    const rejected: StoreRejection[] = [];
    for (const seq of plan.replaySeqs) {
      // The table holds only verdicts this server wrote, so only their codes.
      const row = selectRejection().get(batch.queueId, seq) as { seq: bigint; table_name: string; code: RejectionCode; reason: string } | undefined;
      if (row) rejected.push({ seq: row.seq, table: row.table_name, code: row.code, reason: row.reason });
    }
    // ISO 8601 with ms, as the typed tables hold dates: SQLite's date functions read it.
    const arrived = batch.arrivedAt.toISOString();
    // Each conflict with the primary key value its stored row is looked up by.
    const conflicts: { entry: StoreDocumentEntry; key: SqlValue }[] = [];
    for (const entry of plan.followers) {
      // A later document of the batch with an inserted one's `_id` (rare): its key from its row.
      const { layout, keyIndex } = tableOrThrow(entry.table);
      conflicts.push({ entry, key: documentToRowValues(entry.bson, layout)[keyIndex] ?? null });
    }
    for (const [table, entries] of plan.inserts) {
      const statements = tableOrThrow(table);
      const { layout, keyIndex, rowsPerInsert } = statements;
      for (let start = 0; start < entries.length; start += rowsPerInsert) {
        const chunk = entries.slice(start, start + rowsPerInsert);
        const params: SqlValue[] = [];
        const keys: SqlValue[] = [];
        for (const entry of chunk) {
          const values = documentToRowValues(entry.bson, layout);
          pushValues(params, values, batch.userId, batch.queueId, entry.seq, arrived);
          keys.push(values[keyIndex] ?? null);
        }
        // The common case inserts every row; only a short count needs the per-row look-up below
        // (judging a row this statement did insert finds its own, identical, bytes: no verdict).
        if (statements.insertRows(chunk.length).run(...params).changes < chunk.length)
          chunk.forEach((entry, i) => conflicts.push({ entry, key: keys[i] ?? null }));
      }
    }
    for (const { entry, key } of conflicts) {
      const verdict = judgeConflict(entry, storedDocument(tableOrThrow(entry.table), key));
      if (verdict) plan.rejections.push(verdict);
    }
    for (const r of plan.rejections) insertRejection().run(batch.queueId, r.seq, r.table, r.code, r.reason);
    if (plan.highSeq !== queue.high_seq) updateQueue().run(plan.highSeq, batch.queueId);
    rejected.push(...plan.rejections);
    return { status: "ok", acknowledgedSeq: plan.highSeq, rejected: sortRejections(rejected) };
  });

  return {
    prepare(models) {
      assertCompleteSchema(models);
      const byName = modelsByName(models);
      const layouts = models
        .filter((model) => model.asymmetric && !model.embedded)
        .map((model) => {
          assertUsableTableName(model.name, 1000);
          return tableLayoutOf(model, byName, "sqlite");
        });
      // Read, planned and applied under the write lock: two servers starting on one file cannot
      // both plan against the shape before the other's change.
      const { warnings, storeLayouts } = db
        .transaction(() => {
          const shape = readSqliteStoreShape(db, layouts.map((layout) => layout.table));
          const plan = planStoreSchema(layouts, shape);
          if (plan.kind === "refuse") throw new StoreSchemaError(plan.problems);
          if (plan.kind === "apply") for (const sql of plan.sql) db.exec(sql);
          db.exec(queueTablesSql);
          return {
            warnings: plan.kept.length > 0 ? [formatKeptColumns(plan.kept)] : [],
            // Read and written with the columns of removed optional properties put back (retired:
            // never written, NULL in new rows), so rows written before decode exactly.
            storeLayouts: layouts.map((layout) => storeLayoutOf(layout, shape.tables.get(layout.table) ?? null)),
          };
        })
        .immediate();
      for (const layout of storeLayouts) {
        const t = quoteIdentifier(layout.table);
        tables.set(layout.table, {
          layout,
          keyIndex: layout.columns.findIndex((column) => column.name === layout.primaryKey),
          rowsPerInsert: rowsPerInsertOf(layout),
          insertRows: createMultiRowInsert(db, layout),
          selectRow: db.prepare(`SELECT * FROM ${t} WHERE ${quoteIdentifier(layout.primaryKey)} = ?`).safeIntegers(true),
        });
      }
      return warnings;
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
      return (getAuth().get(kind, key) as string | undefined) ?? null;
    },
    putAuthRecord(kind, key, value, ifAbsent) {
      return (ifAbsent ? insertAuth() : upsertAuth()).run(kind, key, value).changes > 0;
    },
    deleteAuthRecord(kind, key) {
      return deleteAuth().run(kind, key).changes > 0;
    },
    listAuthRecords(kind, afterKey, limit) {
      return listAuth().all(kind, afterKey, limit) as StoredAuthRecord[];
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
      const { layout } = tableOrThrow(table);
      const rows = db
        .prepare(`SELECT * FROM ${quoteIdentifier(table)} ORDER BY ${quoteIdentifier(layout.primaryKey)}`)
        .safeIntegers(true)
        .all() as Record<string, unknown>[];
      return rows.map((row): StoredDocument => {
        const bson = rowToDocument(row, layout);
        const { idKey, ejson } = storedDocumentText(bson, layout.primaryKey);
        return {
          idKey,
          bson,
          ejson,
          userId: row["$user"] as string,
          arrivedAt: new Date(row["$arrived"] as string),
          queueId: row["$queue"] as string,
          seq: row["$seq"] as bigint,
        };
      });
    },
    readQueue(queueId) {
      const row = selectQueue().get(queueId) as { user_id: string; high_seq: bigint } | undefined;
      return row ? { userId: row.user_id, highSeq: row.high_seq } : null;
    },
    insertRawForBenchmark(table, rows) {
      const { layout, rowsPerInsert, insertRows } = tableOrThrow(table);
      // Rows made by another layout (one without this table's retired columns) would fill the wrong columns.
      const width = layout.columns.length + 1;
      if (rows.some((row) => row.length !== width)) throw new Error(`sqlite store: the benchmark's rows for "${table}" are not ${width} values wide`);
      const arrived = new Date().toISOString();
      db.transaction(() => {
        for (let i = 0; i < rows.length; i += rowsPerInsert) {
          const slice = rows.slice(i, i + rowsPerInsert);
          const params: SqlValue[] = [];
          for (const row of slice) pushValues(params, row, "benchmark", "benchmark", 0n, arrived);
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
