/**
 * The PostgreSQL store (`pg`) on typed tables (store.ts describes the layout): a batch is one
 * transaction of a handful of statements, whatever its size: each table's documents go in as one
 * multi-row insert of their rows (postgres-table.ts), so there is no round trip per document.
 * Rows are read back as text where the row codec needs it (`postgresTextTypeOids`) and turned
 * into the exact BSON ingested (`rowToDocument`).
 */
import type pg from "pg";
import type { CanonicalObjectSchema } from "asymgen/schema";
import { documentToRowValues, postgresTextTypeOids, rowToDocument, type SqlValue } from "../tables/row-codec.js";
import { storedDocumentText } from "../tables/stored-document-text.js";
import { loadPg } from "./load-store-driver.js";
import type { ImportDriver } from "./import-driver.js";
import { judgeConflict, planBatch, sortRejections } from "./plan-batch.js";
import { authTableSql, inStartupTransaction, preparePostgresSchema } from "./postgres-schema.js";
import { columnArrays, compilePostgresTable, keyText, type PostgresTable } from "./postgres-table.js";
import { quoteIdentifier } from "./quote-identifier.js";
import { redactUrl } from "./redact-url.js";
import { checkGate } from "./store.js";
import type { BenchmarkRows, IngestStore, StoredAuthRecord } from "./store.js";
import type { RejectionCode, StoreBatch, StoreBatchResult, StoreDocumentEntry, StoreRejection } from "./store-batch.js";

/** A benchmark's rows: the insert's arrays, made ahead (see prepareBenchmarkRows). */
interface PostgresBenchmarkRows extends BenchmarkRows {
  readonly chunks: readonly unknown[][];
}

/** Rows per statement of the benchmark ceiling: the size of a large ingest batch. */
const benchmarkChunkRows = 5000;

/**
 * Sessions read dates in ISO (the codec parses timestamptz text) and doubles at full precision:
 * extra_float_digits = 3 prints an exact double on every version (12+ print the shortest exact
 * text for any value above 0; 11 and earlier need 3); a server configured with 0 or less would
 * round them and stored rows would no longer give their bytes back.
 */
const sessionSettingsSql = "SET DateStyle = 'ISO, MDY'; SET extra_float_digits = 3";

/**
 * Opens the PostgreSQL store at `url` (a `postgres://` connection string); `pg` is loaded now
 * (StoreDriverMissingError when it is not installed). The typed tables come with `prepare`.
 */
export async function openPostgresStore(url: string, options: { poolSize?: number; importDriver?: ImportDriver } = {}): Promise<IngestStore> {
  const driver = await loadPg(options.importDriver);
  // int8, numeric, timestamptz, json and jsonb as their text: what rowToDocument reads.
  const types: pg.CustomTypesConfig = {
    getTypeParser: ((oid: number, format?: "text" | "binary") =>
      postgresTextTypeOids.has(oid) ? (text: string) => text : driver.types.getTypeParser(oid, format ?? "text")) as pg.CustomTypesConfig["getTypeParser"],
  };
  const pool = new driver.Pool({ connectionString: url, max: options.poolSize ?? 10, types });
  // An idle client's network error must not crash the server; the next query reconnects.
  pool.on("error", () => {});
  // Queued ahead of any query the client is handed out for (pg runs a client's queries in order).
  pool.on("connect", (client) => {
    client.query(sessionSettingsSql).catch(() => {});
  });
  await inStartupTransaction(pool, (client) => client.query(authTableSql));
  const tables = new Map<string, PostgresTable>();
  const benchmarkRows = new WeakSet<BenchmarkRows>();

  function tableOrThrow(table: string): PostgresTable {
    const found = tables.get(table);
    if (!found) throw new Error(`postgres store: no table for model "${table}"`);
    return found;
  }

  /** The verdict for a document whose `_id` PostgreSQL cannot hold as a key. */
  function unstorableKey(entry: StoreDocumentEntry): StoreRejection {
    return {
      seq: entry.seq,
      table: entry.table,
      code: "invalid_document",
      reason: "_id: a string _id containing NUL (\\u0000) cannot be stored: PostgreSQL text cannot hold NUL",
    };
  }

  /**
   * Inserts the first document of each `_id` (`unsorted`, one table's) in one statement; returns
   * the entries whose key was already stored, and records every entry's key in `keys` (by idKey;
   * null: unstorable, with its verdict in `rejections`).
   */
  async function insertDocuments(
    client: pg.PoolClient,
    batch: StoreBatch,
    table: PostgresTable,
    unsorted: StoreDocumentEntry[],
    keys: Map<string, string | null>,
    rejections: StoreRejection[],
  ): Promise<{ entry: StoreDocumentEntry; key: string }[]> {
    // Key order, so two batches inserting overlapping keys lock them in the same order (no deadlock).
    const sorted = [...unsorted].sort((a, b) => (a.idKey < b.idKey ? -1 : a.idKey > b.idKey ? 1 : 0));
    const entries: { entry: StoreDocumentEntry; key: string }[] = [];
    const rows: SqlValue[][] = [];
    for (const entry of sorted) {
      const row = documentToRowValues(entry.bson, table.layout);
      const key = keyText(row[table.keyIndex]);
      keys.set(entry.idKey, key);
      if (key === null) {
        rejections.push(unstorableKey(entry));
        continue;
      }
      entries.push({ entry, key });
      rows.push(row);
    }
    if (rows.length === 0) return [];
    const result = await client.query<{ key: string }>(table.insertSql, [
      ...columnArrays(table.layout, rows),
      entries.map(({ entry }) => entry.seq.toString()),
      batch.userId,
      batch.queueId,
      batch.arrivedAt,
    ]);
    if (result.rows.length === entries.length) return [];
    const inserted = new Set(result.rows.map((row) => row.key));
    return entries.filter(({ key }) => !inserted.has(key));
  }

  /** Judges documents whose key is stored (one table's) against the stored rows' bytes. */
  async function judgeConflicts(client: pg.PoolClient, table: PostgresTable, conflicts: { entry: StoreDocumentEntry; key: string }[]): Promise<StoreRejection[]> {
    const rows = await client.query<Record<string, unknown>>(table.selectByKeysSql, [[...new Set(conflicts.map(({ key }) => key))]]);
    const stored = new Map(rows.rows.map((row) => [keyText(row[table.layout.primaryKey]), row]));
    const verdicts: StoreRejection[] = [];
    for (const { entry, key } of conflicts) {
      const row = stored.get(key);
      const verdict = judgeConflict(entry, row === undefined ? undefined : rowToDocument(row, table.layout));
      if (verdict) verdicts.push(verdict);
    }
    return verdicts;
  }

  async function ingestInTransaction(client: pg.PoolClient, batch: StoreBatch): Promise<StoreBatchResult> {
    await client.query("INSERT INTO asymgen_queues (queue_id, user_id, high_seq) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING", [
      batch.queueId,
      batch.userId,
    ]);
    // FOR UPDATE serialises two batches of the same queue (a client retrying while its first try still runs).
    const queue = (
      await client.query<{ user_id: string; high_seq: string }>(
        "SELECT user_id, high_seq FROM asymgen_queues WHERE queue_id = $1 FOR UPDATE",
        [batch.queueId],
      )
    ).rows[0];
    if (!queue || queue.user_id !== batch.userId) return { status: "forbidden" };
    const highSeq = BigInt(queue.high_seq);
    // A refusal rolls back (see ingest), the queue row inserted above included.
    const gap = checkGate(batch, highSeq);
    if (gap) return gap;
    const plan = planBatch(batch.entries, highSeq);
    const rejected: StoreRejection[] = [];
    if (plan.replaySeqs.length > 0) {
      // The table holds only verdicts this server wrote, so only their codes.
      const rows = await client.query<{ seq: string; table_name: string; code: RejectionCode; reason: string }>(
        "SELECT seq, table_name, code, reason FROM asymgen_rejections WHERE queue_id = $1 AND seq = ANY($2::bigint[])",
        [batch.queueId, plan.replaySeqs.map(String)],
      );
      for (const row of rows.rows) rejected.push({ seq: BigInt(row.seq), table: row.table_name, code: row.code, reason: row.reason });
    }
    // Each table's inserts, then the documents whose key turned out stored (the insert skipped
    // them, or an earlier document of this batch took it) judged by the stored bytes.
    const keys = new Map<string, Map<string, string | null>>();
    const conflicts = new Map<string, { entry: StoreDocumentEntry; key: string }[]>();
    for (const [name, entries] of plan.inserts) {
      const table = tableOrThrow(name);
      const tableKeys = new Map<string, string | null>();
      keys.set(name, tableKeys);
      const skipped = await insertDocuments(client, batch, table, entries, tableKeys, plan.rejections);
      if (skipped.length > 0) conflicts.set(name, skipped);
    }
    for (const entry of plan.followers) {
      // A follower shares its idKey with an insert of the same table, so it has that insert's key.
      const key = keys.get(entry.table)?.get(entry.idKey);
      if (key === null || key === undefined) {
        plan.rejections.push(unstorableKey(entry));
        continue;
      }
      let list = conflicts.get(entry.table);
      if (!list) conflicts.set(entry.table, (list = []));
      list.push({ entry, key });
    }
    for (const [name, entries] of conflicts) plan.rejections.push(...(await judgeConflicts(client, tableOrThrow(name), entries)));
    if (plan.rejections.length > 0) {
      await client.query(
        `INSERT INTO asymgen_rejections (queue_id, seq, table_name, code, reason)
         SELECT $1, s, t, c, r FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[]) AS x(s, t, c, r) ON CONFLICT DO NOTHING`,
        [
          batch.queueId,
          plan.rejections.map((r) => r.seq.toString()),
          plan.rejections.map((r) => r.table),
          plan.rejections.map((r) => r.code),
          plan.rejections.map((r) => r.reason),
        ],
      );
    }
    if (plan.highSeq !== highSeq)
      await client.query("UPDATE asymgen_queues SET high_seq = $2 WHERE queue_id = $1", [batch.queueId, plan.highSeq.toString()]);
    rejected.push(...plan.rejections);
    return { status: "ok", acknowledgedSeq: plan.highSeq, rejected: sortRejections(rejected) };
  }

  return {
    kind: "postgres",
    location: redactUrl(url),
    async prepare(models: readonly CanonicalObjectSchema[]) {
      const prepared = await preparePostgresSchema(pool, models);
      for (const layout of prepared.layouts) tables.set(layout.table, compilePostgresTable(layout));
      return prepared.warnings;
    },
    async ingest(batch) {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        const result = await ingestInTransaction(client, batch);
        await client.query(result.status === "ok" ? "COMMIT" : "ROLLBACK");
        return result;
      } catch (error) {
        await client.query("ROLLBACK").catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    async getAuthRecord(kind, key) {
      const result = await pool.query<{ value: string }>("SELECT value FROM asymgen_auth WHERE kind = $1 AND key = $2", [kind, key]);
      return result.rows[0]?.value ?? null;
    },
    async putAuthRecord(kind, key, value, ifAbsent) {
      const sql = ifAbsent
        ? "INSERT INTO asymgen_auth (kind, key, value) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
        : "INSERT INTO asymgen_auth (kind, key, value) VALUES ($1, $2, $3) ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value";
      return ((await pool.query(sql, [kind, key, value])).rowCount ?? 0) > 0;
    },
    async deleteAuthRecord(kind, key) {
      return ((await pool.query("DELETE FROM asymgen_auth WHERE kind = $1 AND key = $2", [kind, key])).rowCount ?? 0) > 0;
    },
    async listAuthRecords(kind, afterKey, limit) {
      // The column's own collation for both the range and the order, so the primary key serves
      // them and a page's last key continues exactly where it stopped.
      const result = await pool.query<StoredAuthRecord>(
        "SELECT key, value FROM asymgen_auth WHERE kind = $1 AND key > $2 ORDER BY key LIMIT $3",
        [kind, afterKey, limit],
      );
      return result.rows;
    },
    async deleteAuthRecords(kind, keys) {
      if (keys.length === 0) return 0;
      const result = await pool.query("DELETE FROM asymgen_auth WHERE kind = $1 AND key = ANY($2::text[])", [kind, [...keys]]);
      return result.rowCount ?? 0;
    },
    async countRows() {
      const counts: Record<string, number> = {};
      for (const table of [...tables.keys(), "asymgen_queues", "asymgen_rejections"]) {
        const result = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${quoteIdentifier(table)}`);
        counts[table] = Number(result.rows[0]?.n ?? 0);
      }
      return counts;
    },
    async readDocuments(name) {
      const table = tableOrThrow(name);
      const result = await pool.query<Record<string, unknown>>(table.selectAllSql);
      return result.rows.map((row) => {
        const bson = rowToDocument(row, table.layout);
        return {
          ...storedDocumentText(bson, table.layout.primaryKey),
          bson,
          userId: row["$user"] as string,
          arrivedAt: new Date(row["$arrived_ms"] as number),
          queueId: row["$queue"] as string,
          seq: BigInt(row["$seq"] as string),
        };
      });
    },
    async readQueue(queueId) {
      const row = (
        await pool.query<{ user_id: string; high_seq: string }>("SELECT user_id, high_seq FROM asymgen_queues WHERE queue_id = $1", [
          queueId,
        ])
      ).rows[0];
      return row ? { userId: row.user_id, highSeq: BigInt(row.high_seq) } : null;
    },
    async prepareBenchmarkRows(name, documents) {
      const table = tableOrThrow(name);
      const chunks: unknown[][] = [];
      for (let i = 0; i < documents.length; i += benchmarkChunkRows) {
        const slice = documents.slice(i, i + benchmarkChunkRows);
        const rows = slice.map((bson) => documentToRowValues(bson, table.layout));
        chunks.push([...columnArrays(table.layout, rows), slice.map((_, j) => String(i + j + 1)), "benchmark", "benchmark", new Date()]);
      }
      const prepared: PostgresBenchmarkRows = { table: name, count: documents.length, chunks };
      benchmarkRows.add(prepared);
      return prepared;
    },
    async insertRawForBenchmark(rows) {
      if (!benchmarkRows.has(rows)) throw new Error("postgres store: insertRawForBenchmark takes the rows this store's prepareBenchmarkRows made");
      const table = tableOrThrow(rows.table);
      // The ingest path's own statement, one per chunk, outside any queue bookkeeping.
      for (const parameters of (rows as PostgresBenchmarkRows).chunks) await pool.query(table.insertSql, parameters);
    },
    broken() {
      return null;
    },
    async close() {
      await pool.end();
    },
  };
}
