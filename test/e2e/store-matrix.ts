/**
 * Runs one suite on every store: SQLite always; PostgreSQL when reachable (ASYMGEN_TEST_POSTGRES,
 * or the local default); MongoDB when MONGODB_URI is set. An unavailable store's suite is
 * skipped with a message saying why, never silently.
 */
import { describe } from "@jest/globals";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import pg from "pg";
import { createTestDatabase, postgresAdminUrl, postgresRequired, postgresUnreachableError, type TestDatabase } from "../support/postgres.js";

/** A throwaway store for one test file. */
export interface TestStore {
  name: "sqlite" | "postgres" | "mongodb";
  /** Creates an empty store and returns its URL (`dir` is the test's temp dir). */
  create(dir: string): Promise<string>;
  /** Drops what `create` made. */
  drop(): Promise<void>;
}


async function isPostgresReachable(): Promise<boolean> {
  // Required (CI), a slow answer on a loaded machine must not read as "unreachable" (see createTestDatabase).
  const client = new pg.Client({ connectionString: postgresAdminUrl, connectionTimeoutMillis: postgresRequired ? 15_000 : 2000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch (error) {
    // ASYMGEN_TEST_POSTGRES set (CI): PostgreSQL is required, never skipped.
    if (postgresRequired) throw postgresUnreachableError(postgresAdminUrl, error);
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function sqliteStore(): TestStore {
  return {
    name: "sqlite",
    async create(dir) {
      return `sqlite:${path.join(dir, "ingest.sqlite")}`;
    },
    async drop() {
      // The file lives in the test's temp dir, removed with it.
    },
  };
}

function postgresStore(): TestStore {
  let database: TestDatabase | null = null;
  return {
    name: "postgres",
    async create() {
      database = await createTestDatabase("e2e");
      if (database === null) throw new Error("PostgreSQL became unreachable");
      return database.url;
    },
    async drop() {
      await database?.drop();
    },
  };
}

function mongodbStore(uri: string): TestStore {
  const database = `asymgen_e2e_${randomBytes(6).toString("hex")}`;
  return {
    name: "mongodb",
    async create() {
      const url = new URL(uri);
      url.pathname = `/${database}`;
      return url.toString();
    },
    async drop() {
      const { MongoClient } = await import("mongodb");
      const client = new MongoClient(uri);
      try {
        await client.db(database).dropDatabase();
      } finally {
        await client.close();
      }
    },
  };
}

const postgresReachable = await isPostgresReachable();
const mongodbUri = process.env["MONGODB_URI"];

/** The stores available in this run, with the reasons for the missing ones. */
export const availableStores: { store: () => TestStore; skip: string | null; name: string }[] = [
  { name: "sqlite", store: sqliteStore, skip: null },
  {
    name: "postgres",
    store: postgresStore,
    skip: postgresReachable ? null : `PostgreSQL is not reachable at ${postgresAdminUrl.replace(/:[^:@/]*@/, ":***@")} (set ASYMGEN_TEST_POSTGRES)`,
  },
  { name: "mongodb", store: () => mongodbStore(mongodbUri ?? ""), skip: mongodbUri ? null : "MONGODB_URI is not set" },
];

/** `describe(name, …)` once per store; an unavailable store's block is skipped with a printed reason. */
export function describeStores(name: string, suite: (store: TestStore) => void): void {
  for (const entry of availableStores) {
    if (entry.skip !== null) {
      console.log(`SKIPPED ${name} on ${entry.name}: ${entry.skip}`);
      describe.skip(`${name} on ${entry.name} (skipped: ${entry.skip})`, () => suite(entry.store()));
      continue;
    }
    describe(`${name} on ${entry.name}`, () => suite(entry.store()));
  }
}
