/**
 * The real `asymgen serve` process (compiled CLI under dist/; `npm test` builds first): SIGTERM
 * while a batch is mid-commit → the batch finishes and is answered, the process exits 0, and the
 * store holds the batch. Also `asymgen apikey create` from the CLI, and the JSON-lines logs.
 */
import { spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { openStore } from "../../server/stores/open-store.js";
import {
  callJson,
  encodeBatch,
  loginAnonymous,
  makeWeatherDoc,
  newQueueId,
  postIngest,
  testSchema,
} from "../support/ingest-server-fixtures.js";
import { cliPath, spawnIngestServer } from "../support/spawn-ingest-server.js";

const cli = cliPath;
const appId = "shutdown-app";

describe("the asymgen serve process", () => {
  let dir: string;
  let schemaPath: string;
  let store: string;
  const children: ChildProcess[] = [];

  beforeAll(() => {
    if (!fs.existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-shutdown-"));
    schemaPath = path.join(dir, "schema.json");
    fs.writeFileSync(schemaPath, JSON.stringify(testSchema));
    store = `sqlite:${path.join(dir, "data", "ingest.sqlite")}`;
  });
  afterAll(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("finishes the in-flight batch on SIGTERM, answers it, closes the store and exits 0", async () => {
    const server = await spawnIngestServer(
      ["--schema", schemaPath, "--app-id", appId, "--port", "0", "--store", store],
      {
        ASYMGEN_TEST_COMMIT_DELAY_MS: "800",
        ASYMGEN_LOG_LEVEL: "debug",
      },
      dir,
    );
    const { child, out, url, exited } = server;
    children.push(child);
    expect(out.lines.join("\n")).toContain(store.slice("sqlite:".length));

    const login = await loginAnonymous(url, appId);
    const docs = Array.from({ length: 100 }, (_, i) => ({ seq: i + 1, table: "WeatherSensor", doc: makeWeatherDoc(i) }));
    const inFlight = postIngest(url, appId, login.access_token, encodeBatch(newQueueId(), docs));
    await out.waitFor(/"msg":"batch received"/);
    child.kill("SIGTERM");

    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(answer.answer?.acknowledgedSeq).toBe(100n);
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(server.stderr()).toBe("");
    await expect(fetch(`${url}/health`)).rejects.toThrow();

    // Every log line that is not the banner is a JSON object with time, level and msg.
    const logs = out.lines.filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logs.length).toBeGreaterThan(2);
    for (const entry of logs)
      expect(entry).toEqual(expect.objectContaining({ time: expect.any(String), level: expect.any(String), msg: expect.any(String) }));
    expect(logs.map((l) => l["msg"])).toContain("server stopped");

    const reopened = await openStore(store);
    try {
      await reopened.prepare(testSchema);
      expect((await reopened.countRows())["WeatherSensor"]).toBe(100);
    } finally {
      await reopened.close();
    }
  });

  it("prints an API key with `asymgen apikey create` that logs in on a server over the same store", async () => {
    const created = spawnSync(process.execPath, [cli, "apikey", "create", "--app-id", appId, "--store", store, "--name", "cli"], {
      cwd: dir,
      encoding: "utf8",
    });
    expect(created.status).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^[0-9a-f]{24}\.[\w-]+$/);

    const { child, url, exited } = await spawnIngestServer(
      ["--schema", schemaPath, "--app-id", appId, "--port", "0", "--store", store],
      {},
      dir,
    );
    children.push(child);
    const login = await callJson(url, "POST", `/api/client/v2.0/app/${appId}/auth/providers/api-key/login`, { body: { key } });
    expect(login.status).toBe(200);
    child.kill("SIGINT");
    expect(await exited).toEqual({ code: 0, signal: null });
  });

  it("exits with a one-line error for a schema it cannot read", () => {
    const result = spawnSync(
      process.execPath,
      [cli, "serve", "--schema", path.join(dir, "missing.json"), "--app-id", appId, "--port", "0", "--store", store],
      { cwd: dir, encoding: "utf8" },
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/cannot read schema .*missing\.json/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
