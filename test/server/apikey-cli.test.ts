/**
 * `asymgen apikey create|list|revoke` through the real CLI (compiled, under dist/) against the
 * store of a running `asymgen serve`: list shows every key without its hash, and revoke stops the
 * key's access tokens on the very next request, its refresh token and the key itself, while
 * another key keeps working. An unknown id is a one-line error and a non-zero exit. On every store.
 * A mistyped SQLite path makes list and revoke fail naming it, instead of creating an empty store.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { describeStores } from "../e2e/store-matrix.js";
import { callJson, encodeBatch, makeWeatherDoc, newQueueId, postIngest, testSchema } from "../support/ingest-server-fixtures.js";
import { cliPath, spawnIngestServer } from "../support/spawn-ingest-server.js";
import type { SpawnedServer } from "../support/spawn-ingest-server.js";

const appId = "apikey-cli-app";
const apiKeyLogin = `/api/client/v2.0/app/${appId}/auth/providers/api-key/login`;

describeStores("asymgen apikey", (testStore) => {
  let dir: string;
  let store: string;
  let server: SpawnedServer;
  const apikey = (...args: string[]) => spawnSync(process.execPath, [cliPath, "apikey", ...args, "--store", store], { cwd: dir, encoding: "utf8" });

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-apikey-cli-"));
    const schemaPath = path.join(dir, "schema.json");
    fs.writeFileSync(schemaPath, JSON.stringify(testSchema));
    store = await testStore.create(dir);
    server = await spawnIngestServer(["--schema", schemaPath, "--app-id", appId, "--port", "0", "--store", store, "--quiet"], {}, dir);
  });
  afterAll(async () => {
    if (server && server.child.exitCode === null) {
      server.child.kill("SIGTERM");
      await server.exited;
    }
    await testStore.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("lists keys without their hashes, and revoking one ends its sessions at once", async () => {
    const create = (name: string) => {
      const result = apikey("create", "--app-id", appId, "--name", name);
      expect(result.status).toBe(0);
      return result.stdout.trim();
    };
    const fleetKey = create("sensor fleet");
    const otherKey = create("backup job");
    const [fleetId = "", fleetSecret = ""] = fleetKey.split(".");
    const otherId = otherKey.split(".")[0] ?? "";

    const listed = apikey("list", "--app-id", appId, "--json");
    expect(listed.status).toBe(0);
    const keys = JSON.parse(listed.stdout) as Record<string, unknown>[];
    expect(keys).toEqual([
      { id: fleetId, name: "sensor fleet", createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), userId: expect.any(String) },
      { id: otherId, name: "backup job", createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), userId: expect.any(String) },
    ]);
    const table = apikey("list", "--app-id", appId);
    expect(table.status).toBe(0);
    const lines = table.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID\s+NAME\s+CREATED\s+USER ID$/);
    expect(lines.slice(1).map((line) => line.split(/\s{2,}/)[0])).toEqual([fleetId, otherId]);
    // Neither the secret nor anything like a hash is printed.
    expect(table.stdout + listed.stdout).not.toContain(fleetSecret);
    expect(table.stdout + listed.stdout).not.toMatch(/[0-9a-f]{64}|hash/);

    const fleet = await callJson(server.url, "POST", apiKeyLogin, { body: { key: fleetKey } });
    const other = await callJson(server.url, "POST", apiKeyLogin, { body: { key: otherKey } });
    // An ingest request checks the access token and its session (the profile route reads the user too).
    const queueId = newQueueId();
    let seq = 0;
    const ingest = (token: unknown) =>
      postIngest(server.url, appId, String(token), encodeBatch(queueId, [{ seq: ++seq, table: "WeatherSensor", doc: makeWeatherDoc(seq) }]));
    expect((await ingest(fleet.json["access_token"])).status).toBe(200);

    const revoked = apikey("revoke", fleetId);
    expect(revoked.status).toBe(0);
    expect(revoked.stderr).toContain(`API key ${fleetId} revoked`);
    expect(revoked.stderr).toContain("1 session ended");

    // The access token is not expired, but its session is gone: 401 on the next request.
    expect((await ingest(fleet.json["access_token"])).status).toBe(401);
    const refresh = await fetch(`${server.url}/api/client/v2.0/auth/session`, {
      method: "POST",
      headers: { authorization: `Bearer ${String(fleet.json["refresh_token"])}` },
    });
    expect(refresh.status).toBe(401);
    expect((await callJson(server.url, "POST", apiKeyLogin, { body: { key: fleetKey } })).status).toBe(401);
    // The other key is untouched.
    const profile = await callJson(server.url, "GET", "/api/client/v2.0/auth/profile", { token: String(other.json["access_token"]) });
    expect(profile.status).toBe(200);
    expect((JSON.parse(apikey("list", "--app-id", appId, "--json").stdout) as { id: string }[]).map((k) => k.id)).toEqual([otherId]);
  });

  it("refuses an unknown id with one line and exit code 1", () => {
    const result = apikey("revoke", "0123456789abcdef01234567");
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^asymgen: no API key with id "0123456789abcdef01234567" in \S+ \(give the id that asymgen apikey list shows\)\n$/);
    // A whole key pasted by mistake is not echoed back.
    const pasted = apikey("revoke", "0123456789abcdef01234567.top-secret");
    expect(pasted.status).toBe(1);
    expect(pasted.stderr).not.toContain("top-secret");
  });
});

describe("asymgen apikey with a SQLite store that does not exist", () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-apikey-typo-"));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const apikey = (...args: string[]) => spawnSync(process.execPath, [cliPath, "apikey", ...args], { cwd: dir, encoding: "utf8" });

  it("list and revoke fail naming the path and create nothing; create still makes the store", () => {
    const typo = path.join(dir, "asymgen-dat", "ingest.sqlite");
    for (const command of [["list", "--app-id", appId], ["revoke", "0123456789abcdef01234567"]]) {
      const result = apikey(...command, "--store", `sqlite:${typo}`);
      expect(result.status).toBe(1);
      expect(result.stderr).toBe(`asymgen: no SQLite store at ${typo} (--store sqlite:${typo}): give the store the server runs on\n`);
      expect(fs.existsSync(path.dirname(typo))).toBe(false);
    }
    // The default store, from a folder that has none.
    const listed = apikey("list", "--app-id", appId);
    expect(listed.status).toBe(1);
    expect(listed.stderr).toBe("asymgen: no SQLite store at ./asymgen-data/ingest.sqlite (the default --store): give the store the server runs on\n");
    expect(fs.existsSync(path.join(dir, "asymgen-data"))).toBe(false);

    const created = apikey("create", "--app-id", appId, "--store", `sqlite:${typo}`);
    expect(created.status).toBe(0);
    const id = created.stdout.trim().split(".")[0];
    const after = apikey("list", "--app-id", appId, "--json", "--store", `sqlite:${typo}`);
    expect(after.status).toBe(0);
    expect((JSON.parse(after.stdout) as { id: string }[]).map((key) => key.id)).toEqual([id]);
  });
});
