/**
 * The embedded store: one SQLite file (sqlite-connection.ts says how a batch is committed), run
 * on a worker thread of its own. better-sqlite3 blocks its thread for the insert and the fsync;
 * on the worker, the main thread validates the next batch meanwhile.
 */
import type { CanonicalObjectSchema } from "asymgen/schema";
import { documentToRowValues, modelsByName } from "../tables/row-codec.js";
import type { SqlValue } from "../tables/row-codec.js";
import { tableLayoutOf } from "../tables/table-layout.js";
import { openSqliteAuthReader, openSqliteConnection } from "./sqlite-connection.js";
import type { SqliteAuthReader, SqliteConnection } from "./sqlite-connection.js";
import { startSqliteWorker } from "./sqlite-worker-client.js";
import { toPlainModels } from "./sqlite-worker-protocol.js";
import type { BenchmarkRows, IngestStore } from "./store.js";

/** The benchmark's rows as this store made them: each document's row values, by documentToRowValues. */
interface SqliteBenchmarkRows extends BenchmarkRows {
  readonly rows: readonly (readonly SqlValue[])[];
}

/** Opens (creating if needed) the SQLite store at `filePath`; rejects when the file cannot be opened as a database. */
export async function openSqliteStore(filePath: string): Promise<IngestStore> {
  const worker = await startSqliteWorker(filePath);
  // An in-memory database exists only inside the worker: its auth reads go through the worker too.
  let authReader: SqliteAuthReader | null = null;
  let closed = false;
  if (!isInMemory(filePath)) {
    try {
      authReader = openSqliteAuthReader(filePath);
    } catch (error) {
      await worker.close();
      throw error;
    }
  }
  // Every model prepared so far by name (plain data), for the benchmark's rows and its own connection.
  const prepared = new Map<string, CanonicalObjectSchema>();
  const models = () => [...prepared.values()];
  let benchmarkConnection: SqliteConnection | null = null;

  /** The benchmark's own connection on the calling thread (same file, same pragmas), opened once. */
  function benchmarkConnectionOrOpen(): SqliteConnection {
    if (!benchmarkConnection) {
      benchmarkConnection = openSqliteConnection(filePath);
      benchmarkConnection.prepare(models());
    }
    return benchmarkConnection;
  }

  return {
    kind: "sqlite",
    location: `sqlite:${filePath}`,
    async prepare(schema: readonly CanonicalObjectSchema[]) {
      const plain = toPlainModels(schema);
      const warnings = await worker.call("prepare", plain);
      for (const model of plain) prepared.set(model.name, model);
      benchmarkConnection?.prepare(models());
      return warnings;
    },
    async ingest(batch) {
      return worker.ingest(batch);
    },
    async getAuthRecord(kind, key) {
      // After close() the worker refuses calls itself; the reader is closed, so say the same.
      if (closed) throw new Error("sqlite store: the store is closed");
      return authReader ? authReader.getAuthRecord(kind, key) : worker.call("getAuthRecord", kind, key);
    },
    async putAuthRecord(kind, key, value, ifAbsent) {
      return worker.call("putAuthRecord", kind, key, value, ifAbsent);
    },
    async deleteAuthRecord(kind, key) {
      return worker.call("deleteAuthRecord", kind, key);
    },
    // Through the worker, not the main thread's reader: a sweep is background work, and a page
    // read here would block the event loop while batches wait for their answers.
    async listAuthRecords(kind, afterKey, limit) {
      return worker.call("listAuthRecords", kind, afterKey, limit);
    },
    async deleteAuthRecords(kind, keys) {
      return worker.call("deleteAuthRecords", kind, keys);
    },
    async countRows() {
      return worker.call("countRows");
    },
    async readDocuments(table) {
      return worker.call("readDocuments", table);
    },
    async readQueue(queueId) {
      return worker.call("readQueue", queueId);
    },
    /** The rows made here, on the calling thread, untimed: the timed insert then only binds them. */
    async prepareBenchmarkRows(table: string, documents: readonly Uint8Array[]): Promise<SqliteBenchmarkRows> {
      const model = prepared.get(table);
      if (!model?.asymmetric || model.embedded) throw new Error(`sqlite store: no table for model "${table}"`);
      const layout = tableLayoutOf(model, modelsByName(models()), "sqlite");
      const rows = documents.map((document) => documentToRowValues(document, layout));
      // Its connection too is opened here, untimed (opening plans the schema: nothing to change).
      if (!isInMemory(filePath)) benchmarkConnectionOrOpen();
      return { table, count: rows.length, rows };
    },
    /**
     * The ceiling is what a plain better-sqlite3 user gets on their own thread, so this runs on
     * the calling thread, through a connection of its own (same file, same pragmas), and not
     * through the worker: the worker's hand-off would be counted against the ceiling.
     */
    async insertRawForBenchmark(prepared: BenchmarkRows) {
      if (isInMemory(filePath))
        throw new Error("sqlite store: the benchmark insert needs a database file (an in-memory database is the worker's alone)");
      const { rows } = prepared as SqliteBenchmarkRows;
      if (!Array.isArray(rows)) throw new Error("sqlite store: insertRawForBenchmark takes the rows this store's prepareBenchmarkRows made");
      benchmarkConnectionOrOpen().insertRawForBenchmark(prepared.table, rows);
    },
    broken() {
      return worker.stopped();
    },
    async close() {
      closed = true;
      authReader?.close();
      benchmarkConnection?.close();
      await worker.close();
    },
  };
}

/** Whether better-sqlite3 opens `filePath` as a private in-memory (or temporary) database. */
function isInMemory(filePath: string): boolean {
  return filePath === ":memory:" || filePath === "";
}
