/**
 * Throwaway PostgreSQL databases for tests: each test file creates its own database and drops it
 * after. The admin URL comes from ASYMGEN_TEST_POSTGRES (CI sets it), else the local default; when
 * PostgreSQL cannot be reached the caller skips its suite and this prints why, visibly.
 */
import crypto from "node:crypto";
import pg from "pg";

/** The admin URL the tests use. */
export const postgresAdminUrl = process.env["ASYMGEN_TEST_POSTGRES"] ?? "postgres://postgres:postgres@127.0.0.1:5432/postgres";

/** A database made for one test file. */
export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** Creates a fresh database (name prefixed with `label`), or returns null (with a console message) when PostgreSQL is unreachable. */
export async function createTestDatabase(label: string): Promise<TestDatabase | null> {
  const admin = new pg.Client({ connectionString: postgresAdminUrl, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch (error) {
    console.warn(
      `SKIPPED PostgreSQL tests (${label}): cannot connect to ${redact(postgresAdminUrl)}: ${(error as Error).message}. Set ASYMGEN_TEST_POSTGRES to run them.`,
    );
    await admin.end().catch(() => {});
    return null;
  }
  const name = `asymgen_test_${label.replace(/[^a-z0-9_]/gi, "_").toLowerCase()}_${crypto.randomBytes(4).toString("hex")}`;
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(postgresAdminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const client = new pg.Client({ connectionString: postgresAdminUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
}
