/**
 * The PostgreSQL store (`pg`): a batch is one transaction of a handful of statements, whatever its
 * size: documents go in per table as one multi-row `INSERT … SELECT FROM unnest(…)`, so there is
 * no round trip per document. Documents are kept in a `json` column, which keeps the text exactly
 * as given (unlike `jsonb`, which reorders keys), so the canonical Extended JSON stays lossless
 * and still queryable with `->`.
 */
import type pg from "pg";
import type { CanonicalObjectSchema } from "asymgen/schema";
import { loadPg } from "./load-store-driver.js";
import type { ImportDriver } from "./import-driver.js";
import { judgeConflict, planBatch, sortRejections } from "./plan-batch.js";
import { quoteIdentifier } from "./quote-identifier.js";
import { redactUrl } from "./redact-url.js";
import { assertUsableTableName, checkGate } from "./store.js";
import type { IngestStore, RawBenchmarkRow, StoredAuthRecord } from "./store.js";
import type { RejectionCode, StoreBatch, StoreBatchResult, StoreDocumentEntry, StoreRejection } from "./store-batch.js";

// PostgreSQL truncates identifiers past 63 bytes (NAMEDATALEN - 1); two models could then collide.
const maxIdentifierBytes = 63;

/**
 * Opens the PostgreSQL store at `url` (a `postgres://` connection string); `pg` is loaded now
 * (StoreDriverMissingError when it is not installed).
 */
export async function openPostgresStore(url: string, options: { poolSize?: number; importDriver?: ImportDriver } = {}): Promise<IngestStore> {
  const { Pool } = await loadPg(options.importDriver);
  const pool = new Pool({ connectionString: url, max: options.poolSize ?? 10 });
  // An idle client's network error must not crash the server; the next query reconnects.
  pool.on("error", () => {});
  await createTables(pool, [
    "CREATE TABLE IF NOT EXISTS asymgen_queues (queue_id text PRIMARY KEY, user_id text NOT NULL, high_seq bigint NOT NULL)",
    `CREATE TABLE IF NOT EXISTS asymgen_rejections (queue_id text NOT NULL, seq bigint NOT NULL, table_name text NOT NULL,
      code text NOT NULL, reason text NOT NULL, PRIMARY KEY (queue_id, seq))`,
    "CREATE TABLE IF NOT EXISTS asymgen_auth (kind text NOT NULL, key text NOT NULL, value text NOT NULL, PRIMARY KEY (kind, key))",
  ]);
  const tables = new Set<string>();

  function tableOrThrow(table: string): string {
    if (!tables.has(table)) throw new Error(`postgres store: no table for model "${table}"`);
    return quoteIdentifier(table);
  }

  async function insertDocuments(
    client: pg.PoolClient,
    batch: StoreBatch,
    table: string,
    unsorted: StoreDocumentEntry[],
  ): Promise<StoreDocumentEntry[]> {
    // Key order, so two batches inserting overlapping keys lock them in the same order (no deadlock).
    const entries = [...unsorted].sort((a, b) => (a.idKey < b.idKey ? -1 : a.idKey > b.idKey ? 1 : 0));
    const result = await client.query<{ _id: string }>(
      `INSERT INTO ${tableOrThrow(table)} (_id, doc, user_id, arrived_at, queue_id, seq)
       SELECT i, d::json, $3, $4, $5, s FROM unnest($1::text[], $2::text[], $6::bigint[]) AS t(i, d, s)
       ON CONFLICT (_id) DO NOTHING RETURNING _id`,
      [
        entries.map((e) => e.idKey),
        entries.map((e) => e.ejson),
        batch.userId,
        batch.arrivedAt,
        batch.queueId,
        entries.map((e) => e.seq.toString()),
      ],
    );
    if (result.rows.length === entries.length) return [];
    const inserted = new Set(result.rows.map((row) => row._id));
    return entries.filter((entry) => !inserted.has(entry.idKey));
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
    const conflicts = [...plan.followers];
    for (const [table, entries] of plan.inserts) conflicts.push(...(await insertDocuments(client, batch, table, entries)));
    if (conflicts.length > 0) {
      const byTable = new Map<string, StoreDocumentEntry[]>();
      for (const entry of conflicts) {
        let list = byTable.get(entry.table);
        if (!list) byTable.set(entry.table, (list = []));
        list.push(entry);
      }
      for (const [table, entries] of byTable) {
        const rows = await client.query<{ _id: string; doc: string }>(
          `SELECT _id, doc::text AS doc FROM ${tableOrThrow(table)} WHERE _id = ANY($1::text[])`,
          [entries.map((e) => e.idKey)],
        );
        const stored = new Map(rows.rows.map((row) => [row._id, row.doc]));
        for (const entry of entries) {
          const verdict = judgeConflict(entry, stored.get(entry.idKey));
          if (verdict) plan.rejections.push(verdict);
        }
      }
    }
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
      for (const model of models) assertUsableTableName(model.name, maxIdentifierBytes);
      await createTables(
        pool,
        models.map(
          (model) => `CREATE TABLE IF NOT EXISTS ${quoteIdentifier(model.name)} (_id text PRIMARY KEY, doc json NOT NULL, user_id text NOT NULL,
            arrived_at timestamptz NOT NULL, queue_id text NOT NULL, seq bigint NOT NULL)`,
        ),
      );
      for (const model of models) tables.add(model.name);
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
      for (const table of [...tables, "asymgen_queues", "asymgen_rejections"]) {
        const result = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${quoteIdentifier(table)}`);
        counts[table] = Number(result.rows[0]?.n ?? 0);
      }
      return counts;
    },
    async readDocuments(table) {
      const result = await pool.query<{ _id: string; doc: string; user_id: string; arrived_at: Date; queue_id: string; seq: string }>(
        `SELECT _id, doc::text AS doc, user_id, arrived_at, queue_id, seq FROM ${tableOrThrow(table)} ORDER BY _id COLLATE "C"`,
      );
      return result.rows.map((row) => ({
        idKey: row._id,
        ejson: row.doc,
        userId: row.user_id,
        arrivedAt: row.arrived_at,
        queueId: row.queue_id,
        seq: BigInt(row.seq),
      }));
    },
    async readQueue(queueId) {
      const row = (
        await pool.query<{ user_id: string; high_seq: string }>("SELECT user_id, high_seq FROM asymgen_queues WHERE queue_id = $1", [
          queueId,
        ])
      ).rows[0];
      return row ? { userId: row.user_id, highSeq: BigInt(row.high_seq) } : null;
    },
    async insertRawForBenchmark(table: string, rows: readonly RawBenchmarkRow[]) {
      const t = tableOrThrow(table);
      // One statement per 5,000 rows keeps the parameter arrays moderate.
      for (let i = 0; i < rows.length; i += 5000) {
        const slice = rows.slice(i, i + 5000);
        await pool.query(
          `INSERT INTO ${t} (_id, doc, user_id, arrived_at, queue_id, seq)
           SELECT i, d::json, 'benchmark', now(), 'benchmark', 0 FROM unnest($1::text[], $2::text[]) AS t(i, d) ON CONFLICT (_id) DO NOTHING`,
          [slice.map((r) => r.idKey), slice.map((r) => r.ejson)],
        );
      }
    },
    broken() {
      return null;
    },
    async close() {
      await pool.end();
    },
  };
}

/** The advisory lock that serialises table creation across servers ("asymgen" in ASCII; a string, as it is past 2^53). */
const createTablesLock = BigInt("0x6173796d67656e").toString();

/**
 * Runs CREATE TABLE IF NOT EXISTS statements in one transaction under an advisory lock. Servers
 * starting together on one database would otherwise race: IF NOT EXISTS is checked before the
 * catalog insert, so the loser fails on the catalog's unique index ("type … already exists",
 * 42710, or 23505), in whichever statement it was, leaving the rest undone.
 */
async function createTables(pool: pg.Pool, statements: readonly string[]): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock($1)", [createTablesLock]);
    for (const statement of statements) await client.query(statement);
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
