/**
 * test/support/postgres.ts: PostgreSQL asked for explicitly (ASYMGEN_TEST_POSTGRES, as CI does)
 * but unreachable must FAIL the run, never skip; only the unset, local default may skip.
 */
import { describe, expect, it, jest } from "@jest/globals";
import { createTestDatabase } from "../support/postgres.js";

// Nothing listens on port 1: the connection is refused at once.
const unreachable = "postgres://postgres:postgres@127.0.0.1:1/postgres";

describe("createTestDatabase", () => {
  it("throws a clear error when PostgreSQL is required but unreachable", async () => {
    await expect(createTestDatabase("required", { adminUrl: unreachable, required: true })).rejects.toThrow(
      /ASYMGEN_TEST_POSTGRES is set but PostgreSQL is unreachable at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1/,
    );
  });

  it("skips with a visible message when it is not required", async () => {
    const warn = jest.spyOn(console, "warn").mockImplementation(() => undefined);
    try {
      await expect(createTestDatabase("optional", { adminUrl: unreachable, required: false })).resolves.toBeNull();
      expect(warn).toHaveBeenCalledWith(expect.stringContaining("SKIPPED PostgreSQL tests (optional)"));
    } finally {
      warn.mockRestore();
    }
  });
});
