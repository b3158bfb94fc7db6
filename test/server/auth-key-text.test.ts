/**
 * Names that key auth records (emails, API keys, custom-token subjects) on every store: a NUL, a
 * control character or an unpaired surrogate is a 4xx, never a 5xx from a store that cannot hold
 * it (PostgreSQL's text refuses NUL), and never a second name for an existing record.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { signHs256 } from "../../server/auth/jwt.js";
import { createIngestServer } from "../../server/create-server.js";
import type { IngestServer } from "../../server/create-server.js";
import { describeStores } from "../e2e/store-matrix.js";
import { callJson, testSchema } from "../support/ingest-server-fixtures.js";
import { freshTimes } from "../support/sign-test-jwt.js";

const appId = "auth-key-text-app";
const provider = (name: string, action = "login") => `/api/client/v2.0/app/${appId}/auth/providers/${name}/${action}`;
const hsSecret = "custom-token-secret-for-tests-of-40-bytes";
// A NUL, another C0 control, DEL, and unpaired high and low surrogates.
const badNames = [
  "\u0000",
  "ada\u0000@example.com",
  "ada\u0007@example.com",
  "ada\u007f@example.com",
  "\ud800ada@example.com",
  "ada@example.com\udc00",
];

describeStores("auth names that a store cannot hold", (testStore) => {
  let dir: string;
  let server: IngestServer;
  const post = (route: string, body: Record<string, unknown>) => callJson(server.url, "POST", route, { body });

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-auth-key-text-"));
    server = await createIngestServer({
      schema: testSchema,
      appId,
      store: await testStore.create(dir),
      quiet: true,
      auth: { providers: ["anon", "userpass", "apikey", "jwt"], customToken: { algorithm: "HS256", secret: hsSecret } },
    });
  });
  afterAll(async () => {
    await server?.close();
    await testStore.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("refuses them as emails, usernames and API keys with a 400", async () => {
    for (const name of badNames) {
      const register = await post(provider("local-userpass", "register"), { email: name, password: "correct horse" });
      expect(register).toMatchObject({ status: 400, json: { error_code: "BadRequest" } });
      expect((await post(provider("local-userpass"), { username: name, password: "correct horse" })).status).toBe(400);
      expect((await post(provider("api-key"), { key: `${name}.secret` })).status).toBe(400);
    }
  });

  it("refuses an email or API key too long to key a record with a 400 (PostgreSQL's index answered a 3000-byte email with a 500)", async () => {
    const long = `${"a".repeat(3000)}@example.com`;
    expect((await post(provider("local-userpass", "register"), { email: long, password: "correct horse" })).status).toBe(400);
    expect((await post(provider("local-userpass"), { username: long, password: "correct horse" })).status).toBe(400);
    expect((await post(provider("api-key"), { key: `${"k".repeat(3000)}.secret` })).status).toBe(400);
    // The longest address RFC 5321 allows still registers.
    const longest = `${"b".repeat(64)}@${"c".repeat(189)}`;
    expect(Buffer.byteLength(longest)).toBe(254);
    expect((await post(provider("local-userpass", "register"), { email: longest, password: "correct horse" })).status).toBe(201);
  });

  it("refuses them as a custom token's subject with a 401", async () => {
    for (const name of badNames) {
      const token = signHs256({ sub: name, ...freshTimes() }, hsSecret);
      const answer = await post(provider("custom-token"), { token });
      expect(answer).toMatchObject({ status: 401, json: { error: expect.stringContaining("sub") } });
    }
  });

  it("still registers and logs in plain names, non-ASCII ones included", async () => {
    const email = "ünï🚀@example.com";
    expect((await post(provider("local-userpass", "register"), { email, password: "correct horse" })).status).toBe(201);
    expect((await post(provider("local-userpass"), { username: email, password: "correct horse" })).status).toBe(200);
    const token = signHs256({ sub: "device-ünï-🚀", ...freshTimes() }, hsSecret);
    expect((await post(provider("custom-token"), { token })).status).toBe(200);
  });
});
