/**
 * The PostgreSQL store's startup: its tables brought to the schema in one transaction under an
 * advisory lock. The store's shape is read before anything is created (a store with
 * `asymgen_queues` and no `asymgen_meta` is asymgen 0.1's, and must not be made to look new), the
 * typed tables planned (`planStoreSchema`), and the plan applied or refused with nothing changed.
 */
import type pg from "pg";
import type { CanonicalObjectSchema } from "asymgen/schema";
import { formatKeptColumns, StoreSchemaError } from "../tables/format-schema-problems.js";
import { planStoreSchema } from "../tables/plan-schema-change.js";
import { readPostgresStoreShape } from "../tables/read-table-shape.js";
import { storeLayoutOf } from "../tables/retired-columns.js";
import { modelsByName } from "../tables/row-codec.js";
import { tableLayoutOf, type TableLayout } from "../tables/table-layout.js";
import { assertCompleteSchema } from "./assert-complete-schema.js";
import { assertUsableTableName } from "./store.js";

// PostgreSQL truncates identifiers past 63 bytes (NAMEDATALEN - 1); two models could then collide.
const maxIdentifierBytes = 63;

/**
 * The auth table, created when the store is opened: the `apikey` commands use it without a
 * schema. It says nothing about the layout (the 0.1 check reads `asymgen_queues`), so creating it
 * early cannot make an old store pass for a new one.
 */
export const authTableSql = "CREATE TABLE IF NOT EXISTS asymgen_auth (kind text NOT NULL, key text NOT NULL, value text NOT NULL, PRIMARY KEY (kind, key))";

/** The server's bookkeeping tables, created after the typed tables' plan passed. */
const serverTablesSql = [
  "CREATE TABLE IF NOT EXISTS asymgen_queues (queue_id text PRIMARY KEY, user_id text NOT NULL, high_seq bigint NOT NULL)",
  `CREATE TABLE IF NOT EXISTS asymgen_rejections (queue_id text NOT NULL, seq bigint NOT NULL, table_name text NOT NULL,
    code text NOT NULL, reason text NOT NULL, PRIMARY KEY (queue_id, seq))`,
];

/** The advisory lock that serialises startup across servers ("asymgen" in ASCII; a string, as it is past 2^53). */
const createTablesLock = BigInt("0x6173796d67656e").toString();

/**
 * Runs `work` in one transaction under the startup advisory lock. Servers starting together on
 * one database would otherwise race: CREATE TABLE IF NOT EXISTS is checked before the catalog
 * insert, so the loser fails on the catalog's unique index ("type … already exists", 42710, or
 * 23505); and each must plan on the shape the other left, not on the one both saw first.
 */
export async function inStartupTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock($1)", [createTablesLock]);
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/** The typed tables of `schema`'s asymmetric models (with their retired columns), and the warnings to log. */
export interface PreparedSchema {
  readonly layouts: readonly TableLayout[];
  readonly warnings: string[];
}

/**
 * Brings the store to `schema` (every model: embedded ones are needed to decode nested values;
 * tables are made for the asymmetric ones): reads the shape, plans, applies the plan and creates
 * the server tables, all in one locked transaction; throws StoreSchemaError (rolled back: nothing
 * changed) when the store cannot take the schema.
 */
export async function preparePostgresSchema(pool: pg.Pool, schema: readonly CanonicalObjectSchema[]): Promise<PreparedSchema> {
  const models = modelsByName(schema);
  const tableModels = schema.filter((model) => model.asymmetric && !model.embedded);
  for (const model of tableModels) assertUsableTableName(model.name, maxIdentifierBytes);
  assertCompleteSchema(schema);
  const layouts = tableModels.map((model) => tableLayoutOf(model, models, "postgres"));
  return inStartupTransaction(pool, async (client) => {
    const shape = await readPostgresStoreShape(
      client,
      layouts.map((layout) => layout.table),
    );
    const plan = planStoreSchema(layouts, shape);
    if (plan.kind === "refuse") throw new StoreSchemaError(plan.problems);
    if (plan.kind === "apply") for (const sql of plan.sql) await client.query(sql);
    for (const sql of serverTablesSql) await client.query(sql);
    // The store reads and writes with the columns of removed optional properties put back
    // (retired: never written, NULL in new rows), so rows written before decode exactly.
    const withRetired = layouts.map((layout) => storeLayoutOf(layout, shape.tables.get(layout.table) ?? null));
    return { layouts: withRetired, warnings: plan.kept.length > 0 ? [formatKeptColumns(plan.kept)] : [] };
  });
}
