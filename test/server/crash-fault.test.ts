/**
 * The test-only crash hook the fault tests rely on (ASYMGEN_FAULT_CRASH=before-commit|after-commit,
 * ASYMGEN_FAULT_CRASH_AFTER=N, honoured only with ASYMGEN_ENABLE_TEST_HOOKS=1): the real server
 * process SIGKILLs itself at that point of the N-th batch; after a restart on the same SQLite
 * file (with the crash variables but not the switch), the client's retry leaves every document
 * stored exactly once.
 */
import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { openStore } from "../../server/stores/open-store.js";
import { encodeBatch, loginAnonymous, makeWeatherDoc, newQueueId, postIngest, testSchema } from "../support/ingest-server-fixtures.js";
import { spawnIngestServer } from "../support/spawn-ingest-server.js";

const appId = "crash-app";

describe("the crash fault hook", () => {
  let dir: string;
  let schemaPath: string;
  const children: ChildProcess[] = [];

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-crash-"));
    schemaPath = path.join(dir, "schema.json");
    fs.writeFileSync(schemaPath, JSON.stringify(testSchema));
  });
  afterAll(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function countStored(store: string): Promise<number> {
    const reopened = await openStore(store);
    try {
      await reopened.prepare(testSchema);
      return (await reopened.countRows())["WeatherSensor"] ?? 0;
    } finally {
      await reopened.close();
    }
  }

  it.each(["before-commit", "after-commit"] as const)(
    "%s: dies on the 2nd batch; the retry after a restart stores everything once",
    async (point) => {
      const store = `sqlite:${path.join(dir, `${point}.sqlite`)}`;
      const args = ["--schema", schemaPath, "--app-id", appId, "--port", "0", "--store", store];
      const first = await spawnIngestServer(args, { ASYMGEN_FAULT_CRASH: point, ASYMGEN_FAULT_CRASH_AFTER: "2" }, dir);
      children.push(first.child);
      const login = await loginAnonymous(first.url, appId);
      const queueId = newQueueId();
      const batch = (from: number) =>
        encodeBatch(
          queueId,
          Array.from({ length: 10 }, (_, i) => ({ seq: from + i, table: "WeatherSensor", doc: makeWeatherDoc(from + i) })),
        );
      expect((await postIngest(first.url, appId, login.access_token, batch(1))).status).toBe(200);
      await expect(postIngest(first.url, appId, login.access_token, batch(11))).rejects.toThrow();
      expect(await first.exited).toEqual({ code: null, signal: "SIGKILL" });
      expect(await countStored(store)).toBe(point === "before-commit" ? 10 : 20);

      // The crash variables alone, without ASYMGEN_ENABLE_TEST_HOOKS=1, must do nothing in production.
      const second = await spawnIngestServer(
        args,
        { ASYMGEN_ENABLE_TEST_HOOKS: "", ASYMGEN_FAULT_CRASH: "before-commit", ASYMGEN_FAULT_CRASH_AFTER: "1" },
        dir,
      );
      children.push(second.child);
      // The same session still works (sessions live in the store, the secret in ASYMGEN_SECRET) and the retry is idempotent.
      const retry = await postIngest(second.url, appId, login.access_token, batch(11));
      expect(retry.answer).toEqual({ acknowledgedSeq: 20n, rejected: [] });
      second.child.kill("SIGTERM");
      expect((await second.exited).code).toBe(0);
      expect(await countStored(store)).toBe(20);
    },
  );
});
