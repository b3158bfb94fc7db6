/**
 * The ingest suite on PostgreSQL, in a throwaway database (skipped, visibly, without PostgreSQL).
 */
import { afterAll, describe, it } from "@jest/globals";
import { createTestDatabase } from "../support/postgres.js";
import { describeIngestSuite } from "./ingest-suite.js";

const database = await createTestDatabase("store");
if (database) {
  afterAll(() => database.drop());
  describeIngestSuite("PostgreSQL", async () => database.url);
} else {
  describe("ingest over HTTP into PostgreSQL", () => {
    it.skip("PostgreSQL unreachable: see the SKIPPED message above", () => {});
  });
}
