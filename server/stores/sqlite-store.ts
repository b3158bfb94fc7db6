/**
 * The embedded store: one SQLite file (sqlite-connection.ts says how a batch is committed), run
 * on a worker thread of its own. better-sqlite3 blocks its thread for the insert and the fsync;
 * on the worker, the main thread validates the next batch meanwhile.
 */
import type { CanonicalObjectSchema } from "asymgen/schema";
import { openSqliteAuthReader, openSqliteConnection } from "./sqlite-connection.js";
import type { SqliteAuthReader, SqliteConnection } from "./sqlite-connection.js";
import { startSqliteWorker } from "./sqlite-worker-client.js";
import type { IngestStore, RawBenchmarkRow } from "./store.js";

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
  // The model tables prepared so far, for the benchmark's own connection (bounded by the schema).
  const tableNames = new Set<string>();
  let benchmarkConnection: SqliteConnection | null = null;

  return {
    kind: "sqlite",
    location: `sqlite:${filePath}`,
    async prepare(models: readonly CanonicalObjectSchema[]) {
      const names = models.map((model) => model.name);
      await worker.call("prepare", names);
      for (const name of names) tableNames.add(name);
      benchmarkConnection?.prepare(names);
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
    /**
     * The ceiling is what a plain better-sqlite3 user gets on their own thread, so this runs on
     * the calling thread, through a connection of its own (same file, same pragmas), and not
     * through the worker: the worker's hand-off would be counted against the ceiling.
     */
    async insertRawForBenchmark(table: string, rows: readonly RawBenchmarkRow[]) {
      if (isInMemory(filePath))
        throw new Error("sqlite store: the benchmark insert needs a database file (an in-memory database is the worker's alone)");
      if (!benchmarkConnection) {
        benchmarkConnection = openSqliteConnection(filePath);
        benchmarkConnection.prepare([...tableNames]);
      }
      benchmarkConnection.insertRawForBenchmark(table, rows);
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
