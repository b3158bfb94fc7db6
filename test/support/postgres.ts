/**
 * Throwaway PostgreSQL databases for tests: each test file creates its own database and drops it
 * after. The admin URL comes from ASYMGEN_TEST_POSTGRES (CI sets it), else the local default.
 * When ASYMGEN_TEST_POSTGRES is set, PostgreSQL is REQUIRED: an unreachable server fails the run
 * (CI must never pass by skipping). Only without it, an unreachable local default makes the
 * caller skip its suite, and this prints why, visibly.
 */
import crypto from "node:crypto";
import type pg from "pg";

/** A `pg` client; the driver is imported only here, as the server does, so loading this module needs no `pg`. */
async function newClient(config: pg.ClientConfig): Promise<pg.Client> {
  const { default: driver } = await import("pg");
  return new driver.Client(config);
}

/** The local default admin URL, tried when ASYMGEN_TEST_POSTGRES is unset. */
export const defaultPostgresAdminUrl = "postgres://postgres:postgres@127.0.0.1:5432/postgres";

/** Whether PostgreSQL was asked for explicitly (ASYMGEN_TEST_POSTGRES set): then it must be reachable. */
export const postgresRequired = (process.env["ASYMGEN_TEST_POSTGRES"] ?? "") !== "";

/** The admin URL the tests use. */
export const postgresAdminUrl = postgresRequired ? (process.env["ASYMGEN_TEST_POSTGRES"] as string) : defaultPostgresAdminUrl;

/** The error for a required PostgreSQL that cannot be reached. */
export function postgresUnreachableError(url: string, cause: unknown): Error {
  return new Error(
    `ASYMGEN_TEST_POSTGRES is set but PostgreSQL is unreachable at ${redact(url)}: ${(cause as Error).message}. ` +
      "Start PostgreSQL, or unset ASYMGEN_TEST_POSTGRES to skip the PostgreSQL suites.",
  );
}

/** A database made for one test file. */
export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/**
 * Creates a fresh database (name prefixed with `label`). When PostgreSQL is unreachable: throws if
 * it is required (ASYMGEN_TEST_POSTGRES set), else returns null with a console message.
 */
export async function createTestDatabase(
  label: string,
  target: { adminUrl: string; required: boolean } = { adminUrl: postgresAdminUrl, required: postgresRequired },
): Promise<TestDatabase | null> {
  const { adminUrl, required } = target;
  // A server that is down refuses at once; the timeout only cuts a slow one. Required (CI), it
  // gets 15 s: on a loaded 2-core machine, with several test files creating databases at once, a
  // connection can take seconds, and "unreachable" would fail the whole file.
  const admin = await newClient({ connectionString: adminUrl, connectionTimeoutMillis: required ? 15_000 : 3000 });
  try {
    await admin.connect();
  } catch (error) {
    await admin.end().catch(() => {});
    if (required) throw postgresUnreachableError(adminUrl, error);
    console.warn(
      `SKIPPED PostgreSQL tests (${label}): cannot connect to ${redact(adminUrl)}: ${(error as Error).message}. Set ASYMGEN_TEST_POSTGRES to require them.`,
    );
    return null;
  }
  const name = `asymgen_test_${label.replace(/[^a-z0-9_]/gi, "_").toLowerCase()}_${crypto.randomBytes(4).toString("hex")}`;
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const client = await newClient({ connectionString: adminUrl });
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
