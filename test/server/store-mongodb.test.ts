/**
 * The ingest suite on MongoDB: runs only with MONGODB_URI (a database named per run is dropped after).
 */
import crypto from "node:crypto";
import { afterAll, describe, it } from "@jest/globals";
import { MongoClient } from "mongodb";
import { describeIngestSuite } from "./ingest-suite.js";

const base = process.env["MONGODB_URI"];
if (base) {
  const url = new URL(base);
  url.pathname = `/asymgen_test_${crypto.randomBytes(4).toString("hex")}`;
  afterAll(async () => {
    const client = new MongoClient(url.toString());
    await client.connect();
    await client.db().dropDatabase();
    await client.close();
  });
  describeIngestSuite("MongoDB", async () => url.toString());
} else {
  console.warn("SKIPPED MongoDB store tests: set MONGODB_URI (e.g. mongodb://127.0.0.1:27017) to run them.");
  describe("ingest over HTTP into MongoDB", () => {
    it.skip("MONGODB_URI is not set", () => {});
  });
}
