/**
 * The ingest suite on the embedded SQLite store (a real file in a temp folder).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll } from "@jest/globals";
import { describeIngestSuite } from "./ingest-suite.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-sqlite-store-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describeIngestSuite("SQLite", async () => `sqlite:${path.join(dir, "nested", "ingest.sqlite")}`);
